#include "core/eval/perfcast_method.h"

namespace perfcast {

absl::StatusOr<std::vector<MethodPrediction>> PerfcastMethod::TrainAndPredict(
    const Fold& fold, absl::Span<const double> confidence_levels) const {
  std::vector<BenchmarkRecord> records;
  for (const Curve& curve : fold.training) AppendRecordsOf(curve, records);
  TrainOptions options = options_;
  if (as_refit_ && fold.campaign.has_value() && fold.shot_curves > 0) {
    std::vector<BenchmarkRecord> before_shots;
    for (const Curve& curve : fold.training) {
      if (curve.configuration.campaign != *fold.campaign) AppendRecordsOf(curve, before_shots);
    }
    absl::StatusOr<std::shared_ptr<const PerfcastModel>> serving =
        PerfcastModel::Train(before_shots, options_);
    if (!serving.ok()) return serving.status();
    options.reuse_cross_fit_of = *std::move(serving);
  }
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model =
      PerfcastModel::Train(records, options);
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
    }
    out.push_back(std::move(method_prediction));
  }
  return out;
}

}  // namespace perfcast
