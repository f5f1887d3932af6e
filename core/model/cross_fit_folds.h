#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/model/anchor_index.h"

namespace perfcast {

// Folds of the cross-fit that yields held-out errors for the error predictor and the intervals.
inline constexpr int kCrossFitFolds = 4;

// Which cross-fit fold each curve (by anchor index) and each configuration (by rank) belongs to.
struct CrossFitFolds {
  std::vector<int> of_curve;
  std::vector<int> of_configuration;
  // Per configuration rank, a fold that holds out every configuration of its hardware type at
  // once: a model trained without it has never seen that hardware, as for a query about a GPU
  // the data lack. Absent with fewer hardware types than folds, and in folds carried for fold
  // models grown without it (CarryFolds).
  std::optional<std::vector<int>> of_configuration_by_hardware;
};

// Each curve's (by anchor index) configuration fold and, with hardware folds, hardware-type fold
// (`by_hardware` empty without).
struct FoldsOfCurves {
  std::vector<int> by_configuration;
  std::vector<int> by_hardware;
};
FoldsOfCurves FoldsOfEachCurve(const AnchorIndex& index, const CrossFitFolds& folds);

// How far along the batch each fold's model was trained, so that a held-out error reads a fold
// model's correction as Predict reads the whole model's (Corrector::largest_trained_batch): the
// range of the curves outside the fold (LargestTrainedBatchFor), worked out with the fold models
// from the curves they were trained on (FoldModels), which a refit that reuses them keeps.
class FoldBatchRanges {
 public:
  // No folds: every range is infinite.
  FoldBatchRanges() = default;
  // `fold_of_curve`: each curve's fold, by anchor index (FoldsOfCurves, CrossFitFolds::of_curve);
  // empty where there are no such folds (no hardware folds), and then every range is infinite.
  FoldBatchRanges(const AnchorIndex& index, absl::Span<const int> fold_of_curve);
  // A fold no curve is in holds none out: the range of every curve.
  double LargestTrainedBatchFor(int fold, BatchSemantics axis) const;

 private:
  // Per fold, the largest batch of its curves on each axis.
  std::vector<BatchRangeByAxis> largest_in_fold_;
};

// Seeded and balanced: the same seed gives the same folds on every standard library. Hardware
// names that `catalogue` (may be null) resolves to one entry are one hardware type.
CrossFitFolds AssignFolds(const AnchorIndex& index, uint64_t seed,
                          const Catalogue* catalogue = nullptr);

// The folds of `index` for a training that predicts its held-out errors with the fold models of
// an earlier one, which ran on `previous_index` with `previous` folds. Each curve, configuration
// and hardware type the earlier training knew keeps its fold there, so that the model that
// predicts it still never trained on a row targeting it; one it did not know takes its fold from
// `fresh` (AssignFolds of `index`), since no fold model trained on it at all. The result has
// hardware folds exactly when `previous` has: fold models grown without them have no model to
// predict by. nullopt unless `index` holds every curve of `previous_index` (otherwise a later
// training carrying these folds could no longer tell what the fold models trained on).
std::optional<CrossFitFolds> CarryFolds(const AnchorIndex& previous_index,
                                        const CrossFitFolds& previous, const AnchorIndex& index,
                                        const CrossFitFolds& fresh,
                                        const Catalogue* catalogue = nullptr);

}  // namespace perfcast
