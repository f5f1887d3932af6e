#include "core/model/anchor_rooflines.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "core/catalogue/physical_features.h"

namespace perfcast {

RooflineGrowth RooflineGrowthOf(const Catalogue& catalogue, const Configuration& configuration,
                                const Shape& shape) {
  const std::optional<ResolvedConfiguration> resolved =
      catalogue.LookupConfiguration(configuration);
  if (!resolved.has_value()) return {};
  const double capacity = ComputePhysicalCeilings(*resolved, shape, 1).kv_cache_capacity_sequences;
  if (!(capacity >= 1) || !std::isfinite(capacity)) return {};
  std::vector<double> log_throughput;
  log_throughput.reserve(RooflineGrowth::kDoublings + 1);
  for (int k = 0; k <= RooflineGrowth::kDoublings; ++k) {
    const double batch = std::min(std::ldexp(1.0, k), capacity);
    const double throughput =
        ComputePhysicalCeilings(*resolved, shape, batch).roofline_output_tokens_per_s;
    if (!(throughput > 0) || !std::isfinite(throughput)) return {};
    log_throughput.push_back(std::log(throughput));
  }
  return RooflineGrowth(std::move(log_throughput));
}

void AttachRooflines(const Catalogue* catalogue, absl::Span<AnchorCurve> anchors,
                     RooflineReach reach) {
  if (catalogue == nullptr) return;
  for (AnchorCurve& anchor : anchors) {
    if (reach == RooflineReach::kCurvesOfTwoPointsOrMore && anchor.curve().points.size() < 2) {
      continue;
    }
    anchor.AttachRoofline(
        RooflineGrowthOf(*catalogue, anchor.curve().configuration, anchor.curve().shape));
  }
}

}  // namespace perfcast
