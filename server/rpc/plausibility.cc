#include "server/rpc/plausibility.h"

#include <algorithm>
#include <cmath>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/catalogue/physical_features.h"

namespace perfcast::server {

std::optional<FieldError> CheckPlausible(const BenchmarkRecord& record, const Catalogue* catalogue,
                                         absl::string_view path) {
  if (catalogue == nullptr) return std::nullopt;
  absl::StatusOr<ResolvedConfiguration> resolved = catalogue->Resolve(record.configuration);
  if (!resolved.ok()) return std::nullopt;
  const PhysicalCeilings ceilings =
      ComputePhysicalCeilings(*resolved, record.shape, static_cast<double>(record.batch_size));
  // Generated tokens/s can pass neither the memory-bound decode rate nor the compute-bound token
  // rate, whatever time prefill takes; NaN where a datasheet figure is missing.
  const double ceiling = std::min(ceilings.decode_tokens_per_s, ceilings.prefill_tokens_per_s);
  if (!std::isfinite(ceiling) || ceiling <= 0) return std::nullopt;
  const double limit = kPlausibilityMargin * ceiling;
  if (record.throughput_tokens_per_s <= limit) return std::nullopt;
  return MakeFieldError(
      path, "throughput_tokens_per_second",
      absl::StrFormat("=%g: implausible, above %g times the physical ceiling of %.0f tokens/s "
                      "that the catalogue gives this configuration at input_tokens=%d, "
                      "output_tokens=%d, batch_size=%d (limit %.0f tokens/s)",
                      record.throughput_tokens_per_s, kPlausibilityMargin, ceiling,
                      record.shape.input_tokens, record.shape.output_tokens, record.batch_size,
                      limit),
      "implausible");
}

}  // namespace perfcast::server
