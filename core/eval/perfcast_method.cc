#include "core/eval/perfcast_method.h"

#include "absl/strings/str_cat.h"

namespace perfcast {

absl::StatusOr<std::vector<MethodPrediction>> PerfcastMethod::TrainAndPredict(
    const Fold& fold, absl::Span<const double> confidence_levels) const {
  std::vector<BenchmarkRecord> records;
  for (const Curve& curve : fold.training) AppendRecordsOf(curve, records);
  TrainOptions options = options_;
  if (as_refit_ && fold.campaign.has_value() && fold.shot_curves > 0) {
    if (fold.shots_drawn.size() != static_cast<size_t>(fold.shot_curves)) {
      return absl::InternalError(absl::StrCat("fold of campaign '", *fold.campaign, "' lists ",
                                              fold.shots_drawn.size(), " shot curves of ",
                                              fold.shot_curves));
    }
    // The model the server served before: trained on the first third of the shots drawn (none
    // when a third is less than one curve).
    std::vector<bool> later_shot(fold.training.size(), false);
    for (size_t k = fold.shots_drawn.size() / kRefitShotDivisor; k < fold.shots_drawn.size(); ++k) {
      later_shot[fold.shots_drawn[k]] = true;
    }
    std::vector<BenchmarkRecord> before_shots;
    for (size_t i = 0; i < fold.training.size(); ++i) {
      if (!later_shot[i]) AppendRecordsOf(fold.training[i], before_shots);
    }
    TrainOptions serving_options = options_;
    serving_options.keep_cross_fit = true;
    absl::StatusOr<std::shared_ptr<const PerfcastModel>> serving =
        PerfcastModel::Train(before_shots, serving_options);
    if (!serving.ok()) return serving.status();
    options.reuse_cross_fit_of = *std::move(serving);
  }
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model =
      PerfcastModel::Train(records, options);
  if (options.reuse_cross_fit_of != nullptr && model.ok() && !(*model)->ReusedCrossFit() &&
      refit_note_) {
    // The figures are then those of a refit that grew its cross-fit, as the server's would.
    refit_note_(absl::StrCat(name_, " on campaign '", *fold.campaign, "' with shots ",
                             fold.shots.value_or(0), " grew its cross-fit (",
                             CrossFitSourceName((*model)->cross_fit_source()), ")"));
  }
  // The model before the shots is not needed to predict: its memory goes back now.
  options.reuse_cross_fit_of.reset();
  if (!model.ok()) return model.status();
  std::vector<MethodPrediction> out;
  out.reserve(fold.held_out.size());
  for (const HeldOutPoint& point : fold.held_out) {
    const int batch[] = {point.batch_size};
    MethodPrediction method_prediction;
    for (double level : confidence_levels) {
      absl::StatusOr<std::vector<PointPrediction>> prediction =
          (*model)->Predict({point.configuration, point.shape}, batch, level);
      if (!prediction.ok()) return prediction.status();
      const PointPrediction& p = prediction->front();
      // No throughput to score: the memory rule says the measured point cannot run.
      if (p.memory.verdict == MemoryVerdict::kDoesNotFit) {
        method_prediction = MethodPrediction{};
        break;
      }
      method_prediction.throughput_tokens_per_s = p.throughput_tokens_per_s;
      method_prediction.expected_relative_error = p.expected_relative_error;
      method_prediction.intervals.push_back({p.lower_tokens_per_s, p.upper_tokens_per_s});
      if (p.latency_statistic != LatencyStatistic::kUnavailable) {
        method_prediction.ttft_s = p.ttft_s;
        method_prediction.itl_s = p.itl_s;
        method_prediction.ttft_intervals.push_back({p.ttft_lower_s, p.ttft_upper_s});
        method_prediction.itl_intervals.push_back({p.itl_lower_s, p.itl_upper_s});
      }
      if (p.p99_ttft_s > 0) {
        method_prediction.p99_ttft_s = p.p99_ttft_s;
        method_prediction.p99_ttft_intervals.push_back({p.p99_ttft_lower_s, p.p99_ttft_upper_s});
      }
      if (p.p99_tpot_s > 0) {
        method_prediction.p99_tpot_s = p.p99_tpot_s;
        method_prediction.p99_tpot_intervals.push_back({p.p99_tpot_lower_s, p.p99_tpot_upper_s});
      }
    }
    out.push_back(std::move(method_prediction));
  }
  return out;
}

}  // namespace perfcast
