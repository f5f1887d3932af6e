#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/ml/tree_ensemble.h"
#include "core/ml/xgboost_regressor.h"
#include "core/ml/xgboost_training_set.h"

namespace perfcast {

// The cross-fit's models: for each of `fold_sets` (per row, the fold whose model must not see the
// row), one model per fold (kCrossFitFolds), trained without that fold's rows; `out[set][fold]`.
// `workers` models train at once, each on one XGBoost thread: independent models share the cores
// without the barriers of OpenMP's threads, at which one thread preempted by serving stalls the
// others. The first failure fails the whole; FailedPrecondition for a fold that keeps no rows.
absl::StatusOr<std::vector<std::vector<TreeEnsemble>>> TrainFoldModels(
    const XGBoostTrainingSet& training, absl::Span<const std::vector<int>* const> fold_sets,
    XGBoostParams params, int workers);

}  // namespace perfcast
