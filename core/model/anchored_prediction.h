#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

#include "absl/types/span.h"
#include "core/data/benchmark_record.h"
#include "core/fit/anchor_curve.h"
#include "core/ml/tree_ensemble.h"
#include "core/model/anchor_index.h"
#include "core/model/error_predictor.h"
#include "core/model/physical_exponents.h"
#include "core/model/workload_features.h"

namespace perfcast {

// How many anchors a prediction combines, per case. More anchors outvote the noise of single
// curves; farther ones add less information.
inline constexpr int kSiblingsWithOwnCurve = 2;
inline constexpr int kSiblingsForNewShape = 3;
inline constexpr int kOtherConfigurations = 4;
inline constexpr int kOtherHardware = 3;
inline constexpr int kOtherCampaigns = 2;
// Bound the stack buffers of a prediction (one-hot columns grow with distinct values): training
// refuses wider features, and a bundle that has them is corrupt.
inline constexpr int kMaxFeatureColumns = 256;
inline constexpr size_t kMaxAnchors = 8;

// A curve a prediction starts from. `curve` is borrowed.
struct Anchor {
  const AnchorCurve* curve = nullptr;
  bool is_same_curve = false;
};

struct AnchoredPrediction {
  double log_throughput = 0;
  // Everything but the prediction case and the neighbourhood.
  ErrorFeatures features;
};

// How the corrected anchors' log throughputs make one answer. A bundle of format 22 or older
// averages them, as its intervals were calibrated; from format 23 their median answers (of an
// even count, the mean of the middle two). An anchor of another system can sit in another regime
// than the query (its KV cache full where the query's is not, a harness's odd curve), and its
// corrected reading then errs by far more than the others': it moves a mean by a quarter of that
// (of four anchors) and a median not at all.
// Past the batches of the query's own curve (an anchor that is the same curve) the readings are
// still averaged: that curve is the system itself, not one peer among its anchors.
enum class AnchorCombination { kMean, kMedian };

// The learned part of a prediction: an anchor is first scaled by the datasheets' ratios to
// fitted powers (another configuration's speed, another shape's roofline step), then corrected by
// `model`. Linear in the log ratio, the scaling carries over to hardware beyond anything seen,
// where trees alone stay flat. Read from anchors of other configurations only, the combined
// answer is held at the efficiency ceiling of the query's roofline (PhysicalExponents::Ceiled).
struct Corrector {
  const TreeEnsemble& model;
  PhysicalExponents physical_exponents;
  AnchorCombination combination = AnchorCombination::kMedian;
  // The largest batch size the trees were trained on along the query's axis: past it the trees
  // read the batch as there, and the anchor's own curve (its roofline past its last point) carries
  // the rest. Trees do not extrapolate; past the batches of their own axis their steps are those
  // learnt from another axis's few far points.
  double largest_trained_batch = std::numeric_limits<double>::infinity();
};

// The answer of `values` (the anchors' corrected log throughputs) under `combination`.
// REQUIRES: `values` is non-empty; it is reordered.
double CombineAnchorReadings(absl::Span<double> values, AnchorCombination combination);

// log(throughput) from the anchors (at most kMaxAnchors used), each scaled and corrected, then
// combined (Corrector::combination); and how much the anchors agree. REQUIRES: `anchors` is
// non-empty and features.column_count() <= kMaxFeatureColumns.
AnchoredPrediction PredictFromAnchors(const TransferFeatures& features, const Corrector& corrector,
                                      const Configuration& configuration, const Shape& shape,
                                      absl::Span<const Anchor> anchors, double batch_size);

// PredictFromAnchors at each of `batch_sizes` (the same answers without offsets), with each
// anchor's trees walked for all batch sizes at once (TreeEnsemble::PredictSimilarRows).
// `level_offsets`, one per anchor used (at most kMaxAnchors) where not empty, move each anchor's
// reading from its campaign's level to the query's (§8): the answer moves by what they move the
// combined readings, after the efficiency ceiling, as a measured step moves it.
std::vector<AnchoredPrediction> PredictFromAnchorsEach(
    const TransferFeatures& features, const Corrector& corrector,
    const Configuration& configuration, const Shape& shape, absl::Span<const Anchor> anchors,
    absl::Span<const double> batch_sizes, absl::Span<const double> level_offsets = {});

// The anchors of a batch past the query's own curve (`own`, an index into index.anchors()): that
// curve, then the kSiblingsWithOwnCurve nearest other shapes of its configuration. Used alike by
// Predict and by the tests that read its answer.
std::vector<AnchorChoice> ExtrapolatedBatchAnchors(const AnchorIndex& index, int own);

// How many of `anchors` are curves of `configuration`.
int OwnCurveCount(absl::Span<const Anchor> anchors, const Configuration& configuration);

// The anchors of a shape its configuration has not measured: the configuration's
// kSiblingsForNewShape nearest shapes and, where it has fewer curves than that (but at least
// one), the nearest shape of each of the most similar other configurations to make up the count.
// One or two far siblings carry the configuration's level but say little about how the new shape
// moves it; other configurations' curves at the query's shape tell that. Without a sibling there
// is none: the query is a new configuration. Used alike by Predict and by the held-out errors that
// calibrate it.
std::vector<AnchorChoice> NewShapeAnchors(const AnchorIndex& index,
                                          const Configuration& configuration, const Shape& shape);
// The other configurations' curves that make up a new shape's anchors when only
// `sibling_count` siblings are at hand (empty when there are none or enough).
std::vector<AnchorChoice> NewShapeCompletion(const AnchorIndex& index,
                                             const Configuration& configuration, const Shape& shape,
                                             int sibling_count);

// A new shape read off the configuration's nearest measured shape, moved by the ratio between the
// two shapes that the most similar other configuration measured at both
// (AnchorIndex::SiblingMeasuredAt). The trees learn how throughput moves with the shape on
// average over every configuration; a sibling's own step carries what is particular to systems
// like the query's. The curves are borrowed.
struct ShapeTransfer {
  const AnchorCurve* own = nullptr;
  const AnchorCurve* sibling_from = nullptr;
  const AnchorCurve* sibling_to = nullptr;

  // The share of a new shape's log throughput taken from the transfer at `batch_size`:
  // kShapeTransferWeight within all three curves' measured batch ranges, tapering to 0 over one
  // doubling past the first edge the batch size crosses (the largest distance outside any of
  // them), where the curves are extrapolated and say less of the step. The taper keeps the
  // prediction continuous in the batch size. 0 where a curve gives no finite step.
  double WeightAt(double batch_size) const;
  // What the error predictor reads of the weight (ErrorFeatures::shape_transfer_weight): the
  // weight where the sibling is of the configuration's campaign, 0 where it is of another. Held
  // out within the data, siblings are mostly of the same campaign and their steps close; another
  // campaign's harness may step otherwise, so such an answer is calibrated as the anchors' alone.
  double CalibrationWeightAt(double batch_size) const;
  double LogThroughputAt(double batch_size) const;
  bool sibling_of_same_campaign = false;
  // Added to the own curve's log throughput: the step from its campaign's level to the answer's,
  // where a named campaign reads another campaign's curves of the system (docs/METHOD.md §8).
  double own_level_offset = 0;
};

// The transfer for a new shape whose anchors are `anchors` (NewShapeAnchors' order: the nearest
// measured shape of the configuration first); nullopt when the first anchor is not of
// `configuration` or no other configuration measured both shapes. `must_differ` as for
// AnchorIndex::SiblingMeasuredAt.
std::optional<ShapeTransfer> ShapeTransferOf(
    const AnchorIndex& index, const Configuration& configuration, const Shape& shape,
    absl::Span<const Anchor> anchors, ConfigurationField must_differ = ConfigurationField::kNone);

// How much a new shape's log throughput takes from the transfer where all three curves measured
// the batch size; the anchored prediction keeps the rest. Both err, and not alike: the transfer
// where the sibling's step differs from the query's, the anchors where the average step does.
inline constexpr double kShapeTransferWeight = 0.75;
// The transfer is held within this factor of the anchored prediction: a sibling's step that
// disagrees more with what the trees read off every other configuration is more likely one
// curve's anomaly than the system's.
inline constexpr double kShapeTransferLimit = 2.0;

// A new shape's log throughput from its anchored one and, where there is one, its transfer
// (ShapeTransfer::WeightAt).
double WithShapeTransfer(double anchored_log_throughput,
                         const std::optional<ShapeTransfer>& transfer, double batch_size);
// `anchored`'s log throughput blended with the transfer as WithShapeTransfer does, and the weight
// its error features read (ShapeTransfer::CalibrationWeightAt): what Predict, the held-out errors
// and the error exploration each do to a new shape's prediction.
void ApplyShapeTransfer(const std::optional<ShapeTransfer>& transfer, double batch_size,
                        AnchoredPrediction& anchored);

// The anchors `chosen` from `index`, which must outlive them.
std::vector<Anchor> AnchorsOf(const AnchorIndex& index, absl::Span<const AnchorChoice> chosen);

// Lets `index` prefer anchors of the query's software stack (AnchorIndex::SetSoftwareStacks)
// when `features` has a catalogue to tell the stacks.
void UseSoftwareStacks(const TransferFeatures& features, AnchorIndex& index);

}  // namespace perfcast
