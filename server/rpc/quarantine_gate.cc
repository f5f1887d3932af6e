#include "server/rpc/quarantine_gate.h"

#include <cmath>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "core/model/prediction.h"

namespace perfcast::server {

std::shared_ptr<const QuarantineGate::ConfigurationSet> QuarantineGate::TrainedConfigurations(
    const ServingModel& serving) const {
  {
    absl::MutexLock lock(&mutex_);
    if (cached_ != nullptr && cached_version_ == serving.version) return cached_;
  }
  // Built outside the lock: a version's set is the same whoever builds it.
  const std::vector<Configuration> trained = serving.model->Configurations();
  auto set = std::make_shared<const ConfigurationSet>(trained.begin(), trained.end());
  absl::MutexLock lock(&mutex_);
  cached_version_ = serving.version;
  cached_ = set;
  return set;
}

std::optional<std::string> QuarantineGate::Check(const BenchmarkRecord& record) const {
  std::shared_ptr<const ServingModel> serving = registry_->Current();
  if (serving == nullptr || serving->model == nullptr) return std::nullopt;
  // A result without a campaign is checked as a new campaign's: a query without one asks for the
  // population, not for the submitters' unnamed campaign.
  const bool own_campaign = !record.configuration.campaign.empty() &&
                            TrainedConfigurations(*serving)->contains(record.configuration);
  PredictionQuery query{record.configuration, record.shape};
  if (!own_campaign) query.configuration.campaign.clear();
  const double factor = own_campaign ? kQuarantineFactor : kNewCampaignQuarantineFactor;
  const int batch[] = {record.batch_size};
  absl::StatusOr<std::vector<PointPrediction>> predicted =
      serving->model->Predict(query, batch, kQuarantineConfidence);
  if (!predicted.ok() || predicted->empty()) return std::nullopt;
  const PointPrediction& point = predicted->front();
  if (point.prediction_case == PredictionCase::kNewConfiguration) return std::nullopt;
  const double expected = point.throughput_tokens_per_s;
  if (!std::isfinite(expected) || expected <= 0) return std::nullopt;
  const double measured = record.throughput_tokens_per_s;
  const double ratio = measured / expected;
  const bool far = ratio > factor || ratio < 1 / factor;
  const bool outside = measured < point.lower_tokens_per_s || measured > point.upper_tokens_per_s;
  if (!far || !outside) return std::nullopt;
  return absl::StrFormat(
      "throughput_tokens_per_second=%g is %.3gx the serving model's prediction of %.6g tokens/s "
      "for %s (%s, %g%% interval [%.6g, %.6g], model version %d): "
      "more than %gx away and outside the interval",
      measured, ratio, expected,
      own_campaign ? "this configuration and campaign" : "this system over all campaigns",
      PredictionCaseName(point.prediction_case), 100 * kQuarantineConfidence,
      point.lower_tokens_per_s, point.upper_tokens_per_s, serving->version, factor);
}

}  // namespace perfcast::server
