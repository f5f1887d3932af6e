#include "core/model/anchor_rooflines.h"

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
  std::vector<double> log_throughput;
  log_throughput.reserve(RooflineGrowth::kDoublings + 1);
  for (int k = 0; k <= RooflineGrowth::kDoublings; ++k) {
    // NaN where not one sequence's KV cache fits beside the weights.
    const double throughput = KvCappedRoofline(*resolved, shape, std::ldexp(1.0, k));
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
