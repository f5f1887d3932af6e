#include "server/rpc/plausibility.h"

#include <cmath>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/catalogue/physical_features.h"

namespace perfcast::server {

std::optional<FieldError> CheckPlausible(const BenchmarkRecord& record, const Catalogue* catalogue,
                                         absl::string_view path) {
  if (catalogue == nullptr) return std::nullopt;
  const std::optional<ResolvedConfiguration> resolved =
      catalogue->LookupConfiguration(record.configuration);
  if (!resolved.has_value()) return std::nullopt;
  const PhysicalCeilings ceilings =
      ComputePhysicalCeilings(*resolved, record.shape, static_cast<double>(record.batch_size));
  // Every generated token costs a forward pass of 2 FLOP per active parameter, so no batch, no
  // scheduler and no time spent elsewhere lets a system generate faster than its peak FLOP/s
  // allow: the compute-bound token rate. The memory-bound decode rate is tighter but depends on
  // the batch, which sources define differently (a static batch, a concurrency, a server's own
  // limit), so it would refuse honest results. NaN where a datasheet figure is missing.
  const double ceiling = ceilings.prefill_tokens_per_s;
  if (!std::isfinite(ceiling) || ceiling <= 0) return std::nullopt;
  const double limit = kPlausibilityMargin * ceiling;
  if (record.throughput_tokens_per_s <= limit) return std::nullopt;
  return MakeFieldError(
      path, "throughput_tokens_per_second",
      absl::StrFormat("=%g: implausible, above %g times the physical ceiling of %.0f tokens/s "
                      "(peak FLOP/s over the FLOP each token costs) that the catalogue gives "
                      "this configuration (limit %.0f tokens/s)",
                      record.throughput_tokens_per_s, kPlausibilityMargin, ceiling, limit),
      "implausible");
}

}  // namespace perfcast::server
