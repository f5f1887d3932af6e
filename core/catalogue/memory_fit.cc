#include "core/catalogue/memory_fit.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/catalogue/physical_features.h"

namespace perfcast {
namespace {

constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;
// Caps the count of resident sequences so that it stays an int for a tiny model; a batch beyond
// it is reported as waiting, which is what the cap means in practice.
constexpr double kLargestCountedBatch = 1 << 30;

// What "%.1f" prints, by std::to_chars, which gives printf's digits without parsing a format:
// every predicted point carries a reason, and a plan reads tens of thousands of points.
std::string OneDecimal(double value) {
  char buffer[64];
  const auto [end, error] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, 1);
  if (error != std::errc()) return absl::StrFormat("%.1f", value);
  return std::string(buffer, end);
}

}  // namespace

absl::string_view MemoryVerdictName(MemoryVerdict verdict) {
  switch (verdict) {
    case MemoryVerdict::kFits:
      return "fits";
    case MemoryVerdict::kDoesNotFit:
      return "does_not_fit";
    case MemoryVerdict::kUnknown:
      break;
  }
  return "unknown";
}

MemoryBudget MemoryBudget::Unknown(std::string reason) {
  MemoryBudget budget;
  budget.unknown_reason_ = std::move(reason);
  return budget;
}

MemoryBudget MemoryBudget::Of(const Catalogue* catalogue, const Configuration& configuration,
                              const Shape& shape) {
  if (catalogue == nullptr) return Unknown("the model has no hardware/model catalogue");
  ResolvedConfiguration resolved;
  resolved.num_gpus = configuration.num_gpus;
  resolved.accelerator = catalogue->LookupAccelerator(configuration.hardware);
  if (resolved.accelerator == nullptr) {
    return Unknown(absl::StrCat("hardware '", configuration.hardware, "' is not in the catalogue"));
  }
  resolved.model = catalogue->LookupModel(configuration.model);
  if (resolved.model == nullptr) {
    return Unknown(absl::StrCat("model '", configuration.model, "' is not in the catalogue"));
  }
  resolved.precision = catalogue->PrecisionOf(configuration);
  if (resolved.precision == nullptr) {
    return Unknown(absl::StrCat("precision '", configuration.precision,
                                "' is not in the catalogue: the bytes per weight are unknown"));
  }
  return Of(resolved, shape);
}

MemoryBudget MemoryBudget::Of(const ResolvedConfiguration& c, const Shape& shape) {
  if (!c.accelerator->memory_gib.has_value()) {
    return Unknown(
        absl::StrCat("the catalogue gives no memory_gib for '", c.accelerator->name, "'"));
  }
  const double kv_bytes_per_token = KvCacheBytesPerToken(c);
  if (std::isnan(kv_bytes_per_token)) {
    return Unknown(absl::StrCat("the catalogue gives no kv_heads for '", c.model->name,
                                "' (nor kv_cache_elements_per_token_per_layer): its KV cache size "
                                "is unknown"));
  }
  MemoryBudget budget;
  budget.known_ = true;
  budget.sequence_tokens_ = int64_t{shape.input_tokens} + shape.output_tokens;
  // Every expert of a mixture is resident, though a token reads only a few.
  budget.weights_gib_per_gpu_ =
      c.model->parameters * c.precision->weight_bytes_per_parameter / c.num_gpus / kBytesPerGib;
  budget.kv_gib_per_sequence_per_gpu_ =
      kv_bytes_per_token * budget.sequence_tokens_ / c.num_gpus / kBytesPerGib;
  const double memory_gib = *c.accelerator->memory_gib;
  budget.available_gib_per_gpu_ = kUsableMemoryFraction * memory_gib;
  budget.memory_gib_per_gpu_ = memory_gib;
  const double sequences =
      std::floor((budget.available_gib_per_gpu_ - budget.weights_gib_per_gpu_) /
                 budget.kv_gib_per_sequence_per_gpu_);
  budget.largest_fitting_batch_size_ =
      static_cast<int>(std::clamp(sequences, 0.0, kLargestCountedBatch));
  budget.where_ = absl::StrFormat(
      "%s %s (%.0f%% of %g GiB)", c.num_gpus == 1 ? "of one" : "on each of",
      c.num_gpus == 1 ? c.accelerator->name : absl::StrCat(c.num_gpus, " ", c.accelerator->name),
      kUsableMemoryFraction * 100, memory_gib);
  return budget;
}

MemoryFit MemoryBudget::At(int batch_size) const {
  MemoryFit fit;
  if (!known_) {
    fit.reason = unknown_reason_;
    return fit;
  }
  fit.available_gib_per_gpu = available_gib_per_gpu_;
  fit.largest_fitting_batch_size = largest_fitting_batch_size_;
  // The sequences resident at once: the batch, or as many as fit while the others wait, and at
  // least one, without which nothing runs.
  const int resident = std::clamp(largest_fitting_batch_size_, 1, batch_size);
  const double kv_gib = resident * kv_gib_per_sequence_per_gpu_;
  fit.required_gib_per_gpu = weights_gib_per_gpu_ + kv_gib;
  fit.verdict =
      largest_fitting_batch_size_ >= 1 ? MemoryVerdict::kFits : MemoryVerdict::kDoesNotFit;
  if (fit.verdict == MemoryVerdict::kDoesNotFit &&
      weights_gib_per_gpu_ + kv_gib_per_sequence_per_gpu_ <= memory_gib_per_gpu_) {
    fit.verdict = MemoryVerdict::kUnknown;
    fit.reason = absl::StrCat(
        "weights ", OneDecimal(weights_gib_per_gpu_), " GiB + KV cache ", OneDecimal(kv_gib),
        " GiB for one sequence at ", sequence_tokens_,
        " tokens = ", OneDecimal(fit.required_gib_per_gpu), " GiB per GPU > ",
        OneDecimal(available_gib_per_gpu_), " GiB usable ", where_,
        ", but within the whole memory: it runs only where the framework may use more than its "
        "default share");
    return fit;
  }
  if (weights_gib_per_gpu_ > available_gib_per_gpu_) {
    fit.reason = absl::StrCat("weights ", OneDecimal(weights_gib_per_gpu_), " GiB per GPU > ",
                              OneDecimal(available_gib_per_gpu_), " GiB usable ", where_);
    return fit;
  }
  const std::string sequences =
      resident == batch_size ? absl::StrCat("batch ", batch_size)
      : fit.verdict == MemoryVerdict::kDoesNotFit
          ? std::string("one sequence")
          : absl::StrCat("the ", resident, " of ", batch_size, " sequences resident at once");
  fit.reason = absl::StrCat("weights ", OneDecimal(weights_gib_per_gpu_), " GiB + KV cache ",
                            OneDecimal(kv_gib), " GiB for ", sequences, " at ", sequence_tokens_,
                            " tokens = ", OneDecimal(fit.required_gib_per_gpu), " GiB per GPU ",
                            fit.verdict == MemoryVerdict::kFits ? "<=" : ">", " ",
                            OneDecimal(available_gib_per_gpu_), " GiB usable ", where_);
  if (fit.verdict == MemoryVerdict::kFits && resident < batch_size) {
    absl::StrAppend(&fit.reason, "; the other ", batch_size - resident,
                    " wait for memory (paged KV cache)");
  }
  return fit;
}

}  // namespace perfcast
