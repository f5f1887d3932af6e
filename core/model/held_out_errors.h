#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/model/anchor_index.h"
#include "core/model/anchored_prediction.h"
#include "core/model/campaign_levels.h"
#include "core/model/cross_fit_folds.h"
#include "core/model/error_predictor.h"
#include "core/model/fold_models.h"
#include "core/model/train_options.h"
#include "core/model/workload_similarity.h"

namespace perfcast {

// A new shape of a configuration whose campaign measured one other shape of it and nothing else:
// the anchors, the transfer and the curves the neighbourhood must not see.
struct FirstResultCase {
  std::vector<Anchor> anchors;
  std::optional<ShapeTransfer> transfer;
  std::vector<int> unseen_curves;  // sorted
};

// The case for curve `held_out`, from one of its configuration's other curves drawn with `seed`:
// a campaign's first result is not chosen for being near the shape asked next. The other anchors
// and the step come from other campaigns, as for a campaign the data otherwise lack (the
// neighbourhood still sees the campaign's other configurations). nullopt when the
// configuration has fewer than 2 other curves (docs/METHOD.md §5: not simulated) or other
// campaigns cannot make up the anchors as Predict would.
std::optional<FirstResultCase> FirstResultCaseOf(const AnchorIndex& index, int held_out,
                                                 uint64_t seed);

// Held-out errors: correction models trained without some curves' rows predict those curves the
// way Predict would in each case they can stand for (as a new shape; their larger batches from
// their smaller half; as a new configuration), with the neighbourhood they would have had without
// that data. Two sets of fold models, so that no model has seen a row targeting what it predicts:
// without every row targeting a curve (new shape, where its siblings stay in training; and larger
// batch), and without every row targeting a configuration (new configuration). A larger-batch
// case in deployment has also trained on the rows targeting the curve's smaller half, which its
// fold model has not; a set of its own, without only the larger half's rows, narrowed the
// larger-batch intervals too little to pay for a third more training. With at least as many
// hardware types as folds, a third set holds out whole hardware types (CrossFitFolds): a curve
// predicted as if its hardware name were unseen is predicted by a model that has never seen that
// hardware, as a query about a new GPU is; the configuration-fold model has seen the hardware's
// other configurations, which would make a new GPU's errors look smaller than they are. The
// errors that annealing explores (error_exploration.h) join them.
//
// Every curve is also predicted as if its campaign had never been seen: from the most similar
// configurations of other campaigns, by its configuration-fold model. Its mean signed error goes
// to `campaign_residuals` (all curves; the campaigns' levels come from them) and, in the
// calibration half, its points' errors to the records as `other_campaign` (docs/METHOD.md §8).
//
// Records of even configuration folds go to `[0]`, the error predictor's half; odd ones to `[1]`,
// the calibration's half. `models` are the fold models of `folds` (TrainFoldModels), or those of
// an earlier training whose folds `folds` carries (CarryFolds).
std::array<std::vector<ErrorRecord>, 2> CollectHeldOutErrors(
    const AnchorIndex& index, const WorkloadScales& scales, const FoldModels& models,
    const CrossFitFolds& folds, const TrainOptions& options,
    std::vector<CampaignResidual>& campaign_residuals);

}  // namespace perfcast
