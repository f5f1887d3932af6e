#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/ml/sparse_feature_matrix.h"
#include "core/ml/tree_ensemble.h"
#include "core/ml/xgboost_regressor.h"
#include "core/model/anchor_index.h"
#include "core/model/cross_fit_folds.h"
#include "core/model/physical_exponents.h"
#include "core/model/train_options.h"
#include "core/model/training_rows.h"
#include "core/model/workload_features.h"

namespace perfcast {

// The cross-fit's correction models (docs/METHOD.md §5), one per fold of each set: without every
// row targeting one fold of curves, of configurations, and of hardware types. They read the
// columns of `features` and the anchors scaled by `physical_exponents`, those of the training
// that grew them: a later training that reuses them (CarryFolds) predicts with these, not its
// own, and a name they lack is missing from their columns.
struct FoldModels {
  TransferFeatures features;
  PhysicalExponents physical_exponents;
  std::vector<TreeEnsemble> by_curve;
  std::vector<TreeEnsemble> by_configuration;
  // Empty when the folds had no hardware set (fewer hardware types than folds).
  std::vector<TreeEnsemble> by_hardware;
  // How far along the batch each set's models were trained, from the curves they were trained on
  // (not a later index's, when a refit reuses them).
  FoldBatchRanges by_curve_ranges;
  FoldBatchRanges by_configuration_ranges;
  FoldBatchRanges by_hardware_ranges;
  // What they were grown under (the catalogue is the features') and on.
  uint64_t seed = 0;
  int curve_count = 0;
};

// Trains the fold models of `folds` on `matrix` (the rows of `rows`, taken from it, in the same
// order), with the served model's parameters: held-out errors of a cheaper, weaker model made
// every interval wider than the served model needs.
absl::StatusOr<FoldModels> TrainFoldModels(const AnchorIndex& index, const RowBuilder& rows,
                                           const SparseFeatureMatrix& matrix,
                                           const CrossFitFolds& folds, TransferFeatures features,
                                           PhysicalExponents physical_exponents,
                                           const TrainOptions& options);

// For each of `fold_sets` (per row of `matrix`, the fold whose model must not see the row), one
// model per fold (kCrossFitFolds), trained without that fold's rows on `targets` (one per row);
// `out[set][fold]`. Each model's rows go to XGBoost from `matrix` as a copy of their own, freed
// once XGBoost has its matrix, so that only the rows of the folds in training sit beside ours;
// workers only read `matrix`, and each builds and trains on XGBoost matrices of its own.
// InvalidArgument when `matrix`, `targets` and a fold set do not have one entry per row.
// `workers` models train at once, each on one XGBoost thread: independent models share the cores
// without the barriers of OpenMP's threads, at which one thread preempted by serving stalls the
// others. The first failure fails the whole; FailedPrecondition for a fold that keeps no rows.
absl::StatusOr<std::vector<std::vector<TreeEnsemble>>> TrainModelPerFold(
    const SparseFeatureMatrix& matrix, absl::Span<const float> targets,
    absl::Span<const std::vector<int>* const> fold_sets, XGBoostParams params, int workers);

}  // namespace perfcast
