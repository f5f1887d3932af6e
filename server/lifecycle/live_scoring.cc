#include "server/lifecycle/live_scoring.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace perfcast::server {
namespace {

// The interval the coverage metric checks (perfcast_interval_checks_total{confidence_level}).
constexpr double kPrequentialConfidence = 0.9;

}  // namespace

LiveScoring::LiveScoring(ModelRegistry* registry, RetrainWorker* worker, ServerMetrics* metrics,
                         bool count_for_retrain)
    : registry_(registry),
      worker_(worker),
      metrics_(metrics),
      count_for_retrain_(count_for_retrain) {}

void LiveScoring::Committed(absl::Span<const BenchmarkRecord> new_records) {
  std::shared_ptr<const ServingModel> serving = registry_->Current();
  if (serving != nullptr) {
    for (const BenchmarkRecord& r : new_records) {
      PredictionQuery query{r.configuration, r.shape};
      const int batch[] = {r.batch_size};
      absl::StatusOr<std::vector<PointPrediction>> p =
          serving->model->Predict(query, batch, kPrequentialConfidence);
      if (!p.ok() || p->empty()) continue;
      const PointPrediction& point = p->front();
      // A run that happened where the memory rule says it cannot: no throughput to score.
      if (point.memory.verdict == MemoryVerdict::kDoesNotFit) continue;
      const double error = std::abs(point.throughput_tokens_per_s - r.throughput_tokens_per_s) /
                           r.throughput_tokens_per_s;
      const bool inside = r.throughput_tokens_per_s >= point.lower_tokens_per_s &&
                          r.throughput_tokens_per_s <= point.upper_tokens_per_s;
      metrics_->ObservePrequential(error, inside);
      registry_->RecordPrequential(serving->version, error, inside);
    }
  }
  if (count_for_retrain_) worker_->NotifyResults(static_cast<int64_t>(new_records.size()));
}

}  // namespace perfcast::server
