#include "core/model/fold_models.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/ml/xgboost_training_set.h"
#include "core/model/correction_params.h"
#include "core/model/cross_fit_folds.h"
#include "core/util/status_macros.h"

namespace perfcast {

absl::StatusOr<std::vector<std::vector<TreeEnsemble>>> TrainModelPerFold(
    const SparseFeatureMatrix& matrix, absl::Span<const float> targets,
    absl::Span<const std::vector<int>* const> fold_sets, XGBoostParams params, int workers) {
  for (const std::vector<int>* fold_of_row : fold_sets) {
    if (fold_of_row->size() != targets.size() ||
        targets.size() != static_cast<size_t>(matrix.row_count())) {
      return absl::InvalidArgumentError(absl::StrCat("fold models: ", matrix.row_count(), " rows, ",
                                                     targets.size(), " targets, ",
                                                     fold_of_row->size(), " row folds"));
    }
  }
  const int task_count = static_cast<int>(fold_sets.size()) * kCrossFitFolds;
  if (workers > 1) params.threads = 1;
  std::vector<absl::StatusOr<TreeEnsemble>> models(task_count,
                                                   absl::InternalError("fold model not trained"));
  std::atomic<int> next_task{0};
  // Once a model has failed, the refit fails: the others need not train.
  std::atomic<bool> failed{false};
  auto work = [&] {
    std::vector<int> kept;
    std::vector<float> kept_targets;
    for (int task = next_task++; task < task_count && !failed; task = next_task++) {
      const std::vector<int>& fold_of_row = *fold_sets[task / kCrossFitFolds];
      const int held_out = task % kCrossFitFolds;
      kept.clear();
      kept_targets.clear();
      for (size_t row = 0; row < fold_of_row.size(); ++row) {
        if (fold_of_row[row] == held_out) continue;
        kept.push_back(static_cast<int>(row));
        kept_targets.push_back(targets[row]);
      }
      absl::StatusOr<XGBoostTrainingSet> fold =
          kept.empty() ? absl::FailedPreconditionError("a cross-fit fold has no rows")
                       : XGBoostTrainingSet::Create(matrix.RowsAt(kept), kept_targets);
      models[task] = fold.ok() ? XGBoostRegressor::TrainEnsemble(*fold, params) : fold.status();
      if (!models[task].ok()) failed = true;
    }
  };
  std::vector<std::thread> helpers;
  for (int i = 1; i < std::min(workers, task_count); ++i) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  std::vector<std::vector<TreeEnsemble>> out(fold_sets.size());
  for (int task = 0; task < task_count; ++task) {
    if (!models[task].ok()) return models[task].status();
    out[task / kCrossFitFolds].push_back(*std::move(models[task]));
  }
  return out;
}

absl::StatusOr<FoldModels> TrainFoldModels(const AnchorIndex& index, const RowBuilder& rows,
                                           const SparseFeatureMatrix& matrix,
                                           const CrossFitFolds& folds, TransferFeatures features,
                                           PhysicalExponents physical_exponents,
                                           const TrainOptions& options) {
  // Each row's fold in each set: by its target curve; by its target configuration; by its
  // target's hardware type.
  const FoldsOfCurves of_curve = FoldsOfEachCurve(index, folds);
  std::vector<int> curve_fold_of_row, configuration_fold_of_row, hardware_fold_of_row;
  for (int curve : rows.target_curves()) {
    curve_fold_of_row.push_back(folds.of_curve[curve]);
    configuration_fold_of_row.push_back(of_curve.by_configuration[curve]);
    if (!of_curve.by_hardware.empty()) hardware_fold_of_row.push_back(of_curve.by_hardware[curve]);
  }
  std::vector<const std::vector<int>*> fold_sets = {&curve_fold_of_row, &configuration_fold_of_row};
  if (!of_curve.by_hardware.empty()) fold_sets.push_back(&hardware_fold_of_row);
  PERFCAST_ASSIGN_OR_RETURN(std::vector<std::vector<TreeEnsemble>> models,
                            TrainModelPerFold(matrix, rows.targets(), fold_sets,
                                              CorrectionParams(options), options.threads));
  FoldModels out{std::move(features), physical_exponents};
  out.by_curve = std::move(models[0]);
  out.by_configuration = std::move(models[1]);
  if (models.size() > 2) out.by_hardware = std::move(models[2]);
  out.by_curve_ranges = FoldBatchRanges(index, folds.of_curve);
  out.by_configuration_ranges = FoldBatchRanges(index, of_curve.by_configuration);
  out.by_hardware_ranges = FoldBatchRanges(index, of_curve.by_hardware);
  out.seed = options.seed;
  out.curve_count = static_cast<int>(index.anchors().size());
  return out;
}

}  // namespace perfcast
