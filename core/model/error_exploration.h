#pragma once

#include <vector>

#include "absl/types/span.h"
#include "core/ml/tree_ensemble.h"
#include "core/model/anchor_index.h"
#include "core/model/cross_fit_folds.h"
#include "core/model/error_predictor.h"
#include "core/model/physical_exponents.h"
#include "core/model/train_options.h"
#include "core/model/workload_features.h"
#include "core/model/workload_similarity.h"

namespace perfcast {

// Error exploration by simulated annealing (docs/METHOD.md §3), for each configuration of 3 or
// more curves whose errors train the error predictor (even configuration folds):
// - state: which of the configuration's curves are observed (the training subset);
// - move: observe one more curve, one fewer, or swap one (core/ml/simulated_annealing.h);
// - energy: minus the mean |log error| of predicting every unobserved curve as a new shape from
//   its nearest observed siblings, by the cross-fit model that did not train on it, so the walk
//   heads for the hard, sparse splits that the one-curve-out errors rarely show;
// - records: every visited state adds its predictions' errors, with the neighbourhood the
//   unobserved curves have in that state, to `records`.
// `curve_models[f]` is the cross-fit model trained without the rows targeting the curves of fold
// f, read as far along the batch as `curve_ranges` says it was trained. Does nothing with fewer
// than 4 configurations.
void ExploreByAnnealing(const AnchorIndex& index, const TransferFeatures& features,
                        absl::Span<const TreeEnsemble> curve_models,
                        const FoldBatchRanges& curve_ranges, PhysicalExponents physical_exponents,
                        const CrossFitFolds& folds, const WorkloadSimilarity& similarity,
                        const TrainOptions& options, std::vector<ErrorRecord>& records);

}  // namespace perfcast
