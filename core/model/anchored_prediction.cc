#include "core/model/anchored_prediction.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace perfcast {

AnchoredPrediction PredictFromAnchors(const TransferFeatures& features, const Corrector& corrector,
                                      const Configuration& configuration, const Shape& shape,
                                      absl::Span<const Anchor> anchors, double batch_size) {
  const size_t anchor_count = std::min(anchors.size(), kMaxAnchors);
  const size_t columns = static_cast<size_t>(features.column_count());
  float rows[kMaxAnchors * kMaxFeatureColumns];
  CatalogueTransfer transfers[kMaxAnchors];
  for (size_t i = 0; i < anchor_count; ++i) {
    transfers[i] =
        features.Compute(configuration, shape, *anchors[i].curve, anchors[i].is_same_curve,
                         batch_size, absl::Span<float>(rows + i * columns, columns));
  }
  float corrections[kMaxAnchors];
  corrector.model.PredictRows(absl::Span<const float>(rows, anchor_count * columns),
                              static_cast<int>(columns),
                              absl::Span<float>(corrections, anchor_count));
  double sum = 0, sum_of_squares = 0, shape_distance = 0;
  int max_batch_size = 1;
  for (size_t i = 0; i < anchor_count; ++i) {
    const AnchorCurve& anchor = *anchors[i].curve;
    const double exponent = corrector.physical_exponents.For(
        AnchorKindOf(configuration, anchor.curve().configuration, transfers[i]));
    const double value = std::log(anchor.ThroughputAt(batch_size)) + corrections[i] +
                         exponent * transfers[i].physical_log_ratio;
    sum += value;
    sum_of_squares += value * value;
    shape_distance += ShapeDistance(shape, anchor.curve().shape);
    max_batch_size = std::max(max_batch_size, anchor.max_batch_size());
  }
  const double n = static_cast<double>(anchor_count);
  AnchoredPrediction out;
  out.log_throughput = sum / n;
  out.features.shape = shape;
  out.features.batch_size = batch_size;
  out.features.anchor_count = static_cast<int>(anchor_count);
  out.features.anchor_spread =
      std::sqrt(std::max(0.0, sum_of_squares / n - out.log_throughput * out.log_throughput));
  out.features.anchor_shape_distance = shape_distance / n;
  out.features.log2_batch_beyond_anchors = std::log2(batch_size / max_batch_size);
  return out;
}

std::vector<Anchor> AnchorsOf(const AnchorIndex& index, absl::Span<const AnchorChoice> chosen) {
  std::vector<Anchor> out;
  for (const AnchorChoice& choice : chosen) {
    out.push_back({&index.anchors()[choice.anchor_index], choice.is_same_curve});
  }
  return out;
}

void UseSoftwareStacks(const TransferFeatures& features, AnchorIndex& index) {
  if (features.catalogue() == nullptr) return;
  index.SetSoftwareStacks([catalogue = features.catalogue()](const std::string& hardware) {
    return std::string(catalogue->SoftwareStackOf(hardware));
  });
}

}  // namespace perfcast
