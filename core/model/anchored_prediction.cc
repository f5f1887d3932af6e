#include "core/model/anchored_prediction.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace perfcast {

namespace {

// The prediction at one batch size from each anchor's correction and catalogue transfer there.
AnchoredPrediction Combine(const Corrector& corrector, const Configuration& configuration,
                           const Shape& shape, absl::Span<const Anchor> anchors, double batch_size,
                           absl::Span<const float> corrections,
                           absl::Span<const CatalogueTransfer> transfers,
                           absl::Span<const double> level_offsets) {
  const size_t anchor_count = corrections.size();
  double readings[kMaxAnchors];
  double shifted_readings[kMaxAnchors];
  double sum = 0, sum_of_squares = 0, shape_distance = 0;
  int max_batch_size = 1;
  bool own_configuration = false;
  bool reads_own_curve = false;
  for (size_t i = 0; i < anchor_count; ++i) {
    const AnchorCurve& anchor = *anchors[i].curve;
    const double value =
        std::log(anchor.ThroughputAt(batch_size)) + corrections[i] +
        corrector.physical_exponents.LogScale(
            AnchorKindOf(configuration, anchor.curve().configuration, transfers[i]), transfers[i]);
    readings[i] = value;
    shifted_readings[i] = value + (level_offsets.empty() ? 0.0 : level_offsets[i]);
    sum += value;
    sum_of_squares += value * value;
    shape_distance += ShapeDistance(shape, anchor.curve().shape);
    max_batch_size = std::max(max_batch_size, anchor.max_batch_size());
    own_configuration = own_configuration || anchor.curve().configuration == configuration;
    reads_own_curve = reads_own_curve || anchors[i].is_same_curve;
  }
  const double n = static_cast<double>(anchor_count);
  AnchoredPrediction out;
  const double mean = sum / n;
  // The query's own curve, read past its measured batches, is not one reading among peers: it is
  // the system itself, and the median of it and two other shapes would drop it wherever it lies
  // outside them, which is where it knows what they do not.
  const AnchorCombination combination =
      reads_own_curve ? AnchorCombination::kMean : corrector.combination;
  const double combined =
      CombineAnchorReadings(absl::MakeSpan(readings, anchor_count), combination);
  // The campaigns' levels move the held answer afterwards, as measured steps do: by
  // what they move the combination of the readings.
  double level_shift = 0;
  if (!level_offsets.empty() && combination == AnchorCombination::kMean) {
    for (size_t i = 0; i < anchor_count; ++i) level_shift += level_offsets[i];
    level_shift /= n;
  } else if (!level_offsets.empty()) {
    level_shift =
        CombineAnchorReadings(absl::MakeSpan(shifted_readings, anchor_count), combination) -
        combined;
  }
  // The ceiling guards against anchors of other systems and the trees adding up to more than the
  // query's hardware can do. A curve of the query's own configuration says what it does: some
  // measure above the ceiling (a catalogue figure that is off), and their extrapolations must not
  // fall below their own last points. Every anchor's transfer carries the same query roofline.
  out.log_throughput =
      (own_configuration ? combined : corrector.physical_exponents.Ceiled(combined, transfers[0])) +
      level_shift;
  out.features.shape = shape;
  out.features.batch_size = batch_size;
  out.features.anchor_count = static_cast<int>(anchor_count);
  out.features.anchor_spread = std::sqrt(std::max(0.0, sum_of_squares / n - mean * mean));
  out.features.anchor_shape_distance = shape_distance / n;
  out.features.log2_batch_beyond_anchors = std::log2(batch_size / max_batch_size);
  return out;
}

// PredictFromAnchors, each anchor's reading moved by its campaign's `level_offsets` (none when
// empty) after the ceiling (Combine).
AnchoredPrediction PredictAtOneBatchSize(const TransferFeatures& features,
                                         const Corrector& corrector,
                                         const Configuration& configuration, const Shape& shape,
                                         absl::Span<const Anchor> anchors, double batch_size,
                                         absl::Span<const double> level_offsets) {
  const size_t anchor_count = std::min(anchors.size(), kMaxAnchors);
  const size_t columns = static_cast<size_t>(features.column_count());
  float rows[kMaxAnchors * kMaxFeatureColumns];
  CatalogueTransfer transfers[kMaxAnchors];
  for (size_t i = 0; i < anchor_count; ++i) {
    transfers[i] = features.Compute(
        configuration, shape, *anchors[i].curve, anchors[i].is_same_curve, batch_size,
        absl::Span<float>(rows + i * columns, columns), corrector.largest_trained_batch);
  }
  float corrections[kMaxAnchors];
  corrector.model.PredictRows(absl::Span<const float>(rows, anchor_count * columns),
                              static_cast<int>(columns),
                              absl::Span<float>(corrections, anchor_count));
  return Combine(corrector, configuration, shape, anchors, batch_size,
                 absl::Span<const float>(corrections, anchor_count),
                 absl::Span<const CatalogueTransfer>(transfers, anchor_count), level_offsets);
}

}  // namespace

double CombineAnchorReadings(absl::Span<double> values, AnchorCombination combination) {
  const size_t n = values.size();
  if (combination == AnchorCombination::kMean) {
    double sum = 0;
    for (double value : values) sum += value;
    return sum / static_cast<double>(n);
  }
  std::sort(values.begin(), values.end());
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

AnchoredPrediction PredictFromAnchors(const TransferFeatures& features, const Corrector& corrector,
                                      const Configuration& configuration, const Shape& shape,
                                      absl::Span<const Anchor> anchors, double batch_size) {
  return PredictAtOneBatchSize(features, corrector, configuration, shape, anchors, batch_size, {});
}

std::vector<AnchoredPrediction> PredictFromAnchorsEach(
    const TransferFeatures& features, const Corrector& corrector,
    const Configuration& configuration, const Shape& shape, absl::Span<const Anchor> anchors,
    absl::Span<const double> batch_sizes, absl::Span<const double> level_offsets) {
  std::vector<AnchoredPrediction> out;
  out.reserve(batch_sizes.size());
  if (batch_sizes.size() <= 1) {
    for (double batch_size : batch_sizes) {
      out.push_back(PredictAtOneBatchSize(features, corrector, configuration, shape, anchors,
                                          batch_size, level_offsets));
    }
    return out;
  }
  const size_t anchor_count = std::min(anchors.size(), kMaxAnchors);
  const size_t columns = static_cast<size_t>(features.column_count());
  const size_t batch_count = batch_sizes.size();
  // Anchor-major: one anchor's rows differ only where the batch size enters.
  std::vector<float> rows(anchor_count * batch_count * columns);
  std::vector<CatalogueTransfer> transfers(anchor_count * batch_count);
  std::vector<float> corrections(anchor_count * batch_count);
  for (size_t i = 0; i < anchor_count; ++i) {
    features.ComputeEach(
        configuration, shape, *anchors[i].curve, anchors[i].is_same_curve, batch_sizes,
        absl::MakeSpan(rows).subspan(i * batch_count * columns, batch_count * columns),
        absl::MakeSpan(transfers).subspan(i * batch_count, batch_count),
        corrector.largest_trained_batch);
    corrector.model.PredictSimilarRows(
        absl::MakeConstSpan(rows).subspan(i * batch_count * columns, batch_count * columns),
        static_cast<int>(columns),
        absl::MakeSpan(corrections).subspan(i * batch_count, batch_count));
  }
  float batch_corrections[kMaxAnchors];
  CatalogueTransfer batch_transfers[kMaxAnchors];
  for (size_t b = 0; b < batch_count; ++b) {
    for (size_t i = 0; i < anchor_count; ++i) {
      batch_corrections[i] = corrections[i * batch_count + b];
      batch_transfers[i] = transfers[i * batch_count + b];
    }
    out.push_back(Combine(corrector, configuration, shape, anchors, batch_sizes[b],
                          absl::Span<const float>(batch_corrections, anchor_count),
                          absl::Span<const CatalogueTransfer>(batch_transfers, anchor_count),
                          level_offsets));
  }
  return out;
}

std::vector<AnchorChoice> ExtrapolatedBatchAnchors(const AnchorIndex& index, int own) {
  const Curve& curve = index.anchors()[own].curve();
  std::vector<AnchorChoice> chosen = {{own, true}};
  for (const AnchorChoice& sibling :
       index.SameConfiguration(curve.configuration, curve.shape, kSiblingsWithOwnCurve)) {
    chosen.push_back(sibling);
  }
  return chosen;
}

int OwnCurveCount(absl::Span<const Anchor> anchors, const Configuration& configuration) {
  return static_cast<int>(std::count_if(anchors.begin(), anchors.end(), [&](const Anchor& anchor) {
    return anchor.curve->curve().configuration == configuration;
  }));
}

std::vector<AnchorChoice> NewShapeAnchors(const AnchorIndex& index,
                                          const Configuration& configuration, const Shape& shape) {
  std::vector<AnchorChoice> chosen =
      index.SameConfiguration(configuration, shape, kSiblingsForNewShape);
  for (const AnchorChoice& other :
       NewShapeCompletion(index, configuration, shape, static_cast<int>(chosen.size()))) {
    chosen.push_back(other);
  }
  return chosen;
}

std::vector<AnchorChoice> NewShapeCompletion(const AnchorIndex& index,
                                             const Configuration& configuration, const Shape& shape,
                                             int sibling_count) {
  if (sibling_count <= 0 || sibling_count >= kSiblingsForNewShape) return {};
  return index.OtherConfigurations(configuration, shape, kSiblingsForNewShape - sibling_count);
}

double ShapeTransfer::WeightAt(double batch_size) const {
  double doublings_outside = 0;
  for (const AnchorCurve* curve : {own, sibling_from, sibling_to}) {
    if (batch_size < curve->min_batch_size()) {
      doublings_outside =
          std::max(doublings_outside, std::log2(curve->min_batch_size() / batch_size));
    } else if (batch_size > curve->max_batch_size()) {
      doublings_outside =
          std::max(doublings_outside, std::log2(batch_size / curve->max_batch_size()));
    }
  }
  if (doublings_outside >= 1 || !std::isfinite(LogThroughputAt(batch_size))) return 0;
  return kShapeTransferWeight * (1 - doublings_outside);
}

double ShapeTransfer::CalibrationWeightAt(double batch_size) const {
  return sibling_of_same_campaign ? WeightAt(batch_size) : 0;
}

double ShapeTransfer::LogThroughputAt(double batch_size) const {
  return std::log(own->ThroughputAt(batch_size)) + own_level_offset +
         std::log(sibling_to->ThroughputAt(batch_size)) -
         std::log(sibling_from->ThroughputAt(batch_size));
}

std::optional<ShapeTransfer> ShapeTransferOf(const AnchorIndex& index,
                                             const Configuration& configuration, const Shape& shape,
                                             absl::Span<const Anchor> anchors,
                                             ConfigurationField must_differ) {
  if (anchors.empty() || anchors.front().is_same_curve ||
      anchors.front().curve->curve().configuration != configuration) {
    return std::nullopt;
  }
  const AnchorCurve& own = *anchors.front().curve;
  const std::optional<AnchorIndex::ShapePair> sibling =
      index.SiblingMeasuredAt(configuration, own.curve().shape, shape, must_differ);
  if (!sibling.has_value()) return std::nullopt;
  const AnchorCurve& sibling_from = index.anchors()[sibling->at_from];
  return ShapeTransfer{&own, &sibling_from, &index.anchors()[sibling->at_to],
                       sibling_from.curve().configuration.campaign == configuration.campaign};
}

double WithShapeTransfer(double anchored_log_throughput,
                         const std::optional<ShapeTransfer>& transfer, double batch_size) {
  if (!transfer.has_value()) return anchored_log_throughput;
  const double weight = transfer->WeightAt(batch_size);
  if (weight <= 0) return anchored_log_throughput;
  const double limit = std::log(kShapeTransferLimit);
  const double transferred = transfer->LogThroughputAt(batch_size);
  const double bounded =
      std::clamp(transferred, anchored_log_throughput - limit, anchored_log_throughput + limit);
  return (1 - weight) * anchored_log_throughput + weight * bounded;
}

void ApplyShapeTransfer(const std::optional<ShapeTransfer>& transfer, double batch_size,
                        AnchoredPrediction& anchored) {
  if (!transfer.has_value()) return;
  anchored.log_throughput = WithShapeTransfer(anchored.log_throughput, transfer, batch_size);
  anchored.features.shape_transfer_weight = transfer->CalibrationWeightAt(batch_size);
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
