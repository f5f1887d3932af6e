#include "core/model/latency_tails.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/score_quantiles.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

// Fewer samples than this leave a target untrained: too few to hold any out and calibrate.
constexpr int kMinSamples = 20;
// Below this many rows a fold model learns nothing worth calibrating on.
constexpr int kMinFoldTrainingRows = 10;
// The largest count of held-out scores or names a bundle may claim.
constexpr uint32_t kMaxStoredCount = 100000000;

bool Contains(const std::vector<std::string>& sorted, const std::string& value) {
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

absl::Status GetNames(ByteReader& reader, std::vector<std::string>& names) {
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t count, reader.GetU32());
  if (count > kMaxStoredCount) return absl::DataLossError("bundle: latency tails: bad name count");
  names.clear();
  for (uint32_t i = 0; i < count; ++i) {
    PERFCAST_ASSIGN_OR_RETURN(std::string name, reader.GetString());
    names.push_back(std::move(name));
  }
  if (!std::is_sorted(names.begin(), names.end())) {
    return absl::DataLossError("bundle: latency tails: names out of order");
  }
  return absl::OkStatus();
}

void PutNames(ByteWriter& writer, const std::vector<std::string>& names) {
  writer.PutU32(names.size());
  for (const std::string& name : names) writer.PutString(name);
}

}  // namespace

absl::StatusOr<LatencyTails> LatencyTails::Train(const FeatureMatrix& features,
                                                 absl::Span<const TailSample> samples,
                                                 const XGBoostParams& params, int fold_count) {
  LatencyTails tails;
  const int columns = features.column_count;
  for (int t = 0; t < kTailTargetCount; ++t) {
    std::vector<const TailSample*> carrying;
    for (const TailSample& sample : samples) {
      if (sample.log_ratios[t].has_value() && std::isfinite(*sample.log_ratios[t])) {
        carrying.push_back(&sample);
      }
    }
    if (static_cast<int>(carrying.size()) < kMinSamples) continue;
    auto row_of = [&](const TailSample& sample) {
      return absl::MakeConstSpan(
          &features.values[static_cast<size_t>(sample.feature_row) * columns], columns);
    };
    Tail& tail = tails.tails_[t];
    for (int situation = 0; situation < kSituations; ++situation) {
      std::vector<double> scores;
      for (int fold = 0; fold < fold_count; ++fold) {
        FeatureMatrix train;
        train.column_count = columns;
        std::vector<float> targets;
        std::vector<const TailSample*> held_out;
        for (const TailSample* sample : carrying) {
          const int fold_of = situation == 0 ? sample->curve_fold : sample->configuration_fold;
          if (fold_of == fold) {
            held_out.push_back(sample);
          } else {
            train.AddRow(row_of(*sample));
            targets.push_back(static_cast<float>(*sample->log_ratios[t]));
          }
        }
        if (held_out.empty() || static_cast<int>(targets.size()) < kMinFoldTrainingRows) continue;
        PERFCAST_ASSIGN_OR_RETURN(const XGBoostRegressor fold_model,
                                  XGBoostRegressor::Train(train, targets, params));
        for (const TailSample* sample : held_out) {
          scores.push_back(std::abs(fold_model.Predict(row_of(*sample)) - *sample->log_ratios[t]));
        }
      }
      tail.counts[situation] = static_cast<int>(scores.size());
      if (!scores.empty()) tail.quantiles[situation] = ScoreQuantilesOf(std::move(scores));
    }
    FeatureMatrix all;
    all.column_count = columns;
    std::vector<float> targets;
    for (const TailSample* sample : carrying) {
      all.AddRow(row_of(*sample));
      targets.push_back(static_cast<float>(*sample->log_ratios[t]));
      tail.configurations.push_back(sample->configuration->ToString());
      tail.campaigns.push_back(sample->configuration->campaign);
    }
    for (std::vector<std::string>* names : {&tail.configurations, &tail.campaigns}) {
      std::sort(names->begin(), names->end());
      names->erase(std::unique(names->begin(), names->end()), names->end());
    }
    PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor regressor,
                              XGBoostRegressor::Train(all, targets, params));
    tail.regressor = std::move(regressor);
  }
  return tails;
}

std::optional<double> LatencyTails::RatioHalfWidth(TailTarget target,
                                                   const Configuration& configuration,
                                                   double level) const {
  const Tail& tail = tails_[static_cast<int>(target)];
  if (!tail.regressor.has_value() || !Contains(tail.campaigns, configuration.campaign)) {
    return std::nullopt;
  }
  // A configuration whose own tails were measured reads the held-out curves' scores; a new one,
  // or one whose curves could not be held out, the held-out configurations'.
  int situation = Contains(tail.configurations, configuration.ToString()) ? 0 : 1;
  if (tail.counts[situation] == 0) situation = 1;
  if (tail.counts[situation] == 0) return std::nullopt;
  return ConformalScoreQuantile(tail.quantiles[situation], tail.counts[situation], level);
}

void LatencyTails::PredictLogRatios(TailTarget target, absl::Span<const float> rows, int columns,
                                    absl::Span<float> out) const {
  tails_[static_cast<int>(target)].regressor->ensemble().PredictSimilarRows(rows, columns, out);
}

void LatencyTails::EncodeTo(ByteWriter& writer) const {
  for (const Tail& tail : tails_) {
    writer.PutU32(tail.regressor.has_value() ? 1 : 0);
    if (!tail.regressor.has_value()) continue;
    tail.regressor->EncodeTo(writer);
    for (int s = 0; s < kSituations; ++s) {
      PutScoreQuantiles(writer, tail.counts[s], tail.quantiles[s]);
    }
    PutNames(writer, tail.configurations);
    PutNames(writer, tail.campaigns);
  }
}

absl::StatusOr<LatencyTails> LatencyTails::DecodeFrom(ByteReader& reader, int feature_count) {
  LatencyTails tails;
  for (int t = 0; t < kTailTargetCount; ++t) {
    PERFCAST_ASSIGN_OR_RETURN(const uint32_t present, reader.GetU32());
    if (present > 1) return absl::DataLossError("bundle: latency tails: bad presence flag");
    if (present == 0) continue;
    Tail& tail = tails.tails_[t];
    PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor regressor, XGBoostRegressor::DecodeFrom(reader));
    if (regressor.feature_count() != feature_count) {
      return absl::DataLossError(absl::StrCat("bundle: latency tails: a regressor of ",
                                              regressor.feature_count(), " features, not ",
                                              feature_count));
    }
    tail.regressor = std::move(regressor);
    for (int s = 0; s < kSituations; ++s) {
      PERFCAST_RETURN_IF_ERROR(GetScoreQuantiles(reader, kMaxStoredCount,
                                                 "bundle: latency tails: bad score count",
                                                 tail.counts[s], tail.quantiles[s]));
      for (double q : tail.quantiles[s]) {
        if (!std::isfinite(q) || q < 0) {
          return absl::DataLossError("bundle: latency tails: bad score quantile");
        }
      }
    }
    PERFCAST_RETURN_IF_ERROR(GetNames(reader, tail.configurations));
    PERFCAST_RETURN_IF_ERROR(GetNames(reader, tail.campaigns));
  }
  return tails;
}

}  // namespace perfcast
