#include "core/model/latency_tails.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/blend_weight.h"
#include "core/model/score_quantiles.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

// Fewer samples than this leave a target untrained: too few to hold any out and calibrate.
constexpr int kMinSamples = 20;
// Below this many rows a fold model learns nothing worth calibrating on.
constexpr int kMinFoldTrainingRows = 10;
// The largest count of names a bundle may claim.
constexpr uint32_t kMaxStoredNames = 100000000;

bool Contains(const std::vector<std::string>& sorted, const std::string& value) {
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

// Sorted names, as PutStrings wrote them.
absl::Status GetNames(ByteReader& reader, std::vector<std::string>& names) {
  PERFCAST_ASSIGN_OR_RETURN(
      names, reader.GetStrings(kMaxStoredNames, "bundle: latency tails: bad name count"));
  if (!std::is_sorted(names.begin(), names.end())) {
    return absl::DataLossError("bundle: latency tails: names out of order");
  }
  return absl::OkStatus();
}

// One held-out answer of a tail, in log(p99 / reference): its truth, the answer read over the
// reference, and the one read over the held-out mean (NaN without it).
struct HeldOutTail {
  double target = 0;
  double over_reference = 0;
  double over_mean = std::numeric_limits<double>::quiet_NaN();
};

double Blended(const HeldOutTail& answer, double mean_weight) {
  if (!std::isfinite(answer.over_mean)) return answer.over_reference;
  return (1 - mean_weight) * answer.over_reference + mean_weight * answer.over_mean;
}

// The over-mean form's weight over the answers that have it (LeastErrorBlendWeight), 0 with fewer
// than kMinSamples of them.
double MeanWeightOf(absl::Span<const HeldOutTail> answers) {
  std::vector<TwoWayAnswer> with_mean;
  for (const HeldOutTail& answer : answers) {
    if (std::isfinite(answer.over_mean)) {
      with_mean.push_back({answer.target, answer.over_reference, answer.over_mean});
    }
  }
  return LeastErrorBlendWeight(with_mean, kMinSamples);
}

}  // namespace

absl::StatusOr<LatencyTails> LatencyTails::Train(const FeatureMatrix& features,
                                                 absl::Span<const TailSample> samples,
                                                 const XGBoostParams& params, int fold_count) {
  LatencyTails tails;
  const int columns = features.column_count;
  auto row_of = [&](const TailSample& sample) {
    return absl::MakeConstSpan(&features.values[static_cast<size_t>(sample.feature_row) * columns],
                               columns);
  };
  for (int t = 0; t < kTailTargetCount; ++t) {
    std::vector<const TailSample*> carrying;
    for (const TailSample& sample : samples) {
      if (sample.log_over_reference[t].has_value() &&
          std::isfinite(*sample.log_over_reference[t])) {
        carrying.push_back(&sample);
      }
    }
    if (static_cast<int>(carrying.size()) < kMinSamples) continue;
    // The over-mean form where every sample says how far its mean lies from the reference.
    const bool mean_form = std::all_of(carrying.begin(), carrying.end(), [t](const TailSample* s) {
      return s->log_mean_over_reference[t].has_value();
    });
    auto over_mean_target = [t](const TailSample& sample) {
      return static_cast<float>(*sample.log_over_reference[t] - *sample.log_mean_over_reference[t]);
    };
    Tail& tail = tails.tails_[t];
    for (int situation = 0; situation < kSituations; ++situation) {
      std::vector<HeldOutTail> answers;
      for (int fold = 0; fold < fold_count; ++fold) {
        FeatureMatrix train;
        train.column_count = columns;
        std::vector<float> targets, mean_targets;
        std::vector<const TailSample*> held_out;
        for (const TailSample* sample : carrying) {
          const int fold_of = situation == 0 ? sample->curve_fold : sample->configuration_fold;
          if (fold_of == fold) {
            held_out.push_back(sample);
          } else {
            train.AddRow(row_of(*sample));
            targets.push_back(static_cast<float>(*sample->log_over_reference[t]));
            if (mean_form) mean_targets.push_back(over_mean_target(*sample));
          }
        }
        if (held_out.empty() || static_cast<int>(targets.size()) < kMinFoldTrainingRows) continue;
        PERFCAST_ASSIGN_OR_RETURN(const XGBoostRegressor fold_model,
                                  XGBoostRegressor::Train(train, targets, params));
        std::optional<XGBoostRegressor> fold_mean_model;
        if (mean_form) {
          PERFCAST_ASSIGN_OR_RETURN(fold_mean_model,
                                    XGBoostRegressor::Train(train, mean_targets, params));
        }
        for (const TailSample* sample : held_out) {
          HeldOutTail answer{*sample->log_over_reference[t], fold_model.Predict(row_of(*sample))};
          const std::optional<double>& held_out_mean =
              sample->held_out_log_mean_over_reference[situation];
          if (fold_mean_model.has_value() && held_out_mean.has_value()) {
            answer.over_mean = *held_out_mean + fold_mean_model->Predict(row_of(*sample));
          }
          answers.push_back(answer);
        }
      }
      tail.mean_weights[situation] = MeanWeightOf(answers);
      std::vector<double> scores;
      for (const HeldOutTail& answer : answers) {
        scores.push_back(std::abs(Blended(answer, tail.mean_weights[situation]) - answer.target));
      }
      tail.counts[situation] = static_cast<int>(scores.size());
      if (!scores.empty()) tail.quantiles[situation] = ScoreQuantilesOf(std::move(scores));
    }
    FeatureMatrix all;
    all.column_count = columns;
    std::vector<float> targets, mean_targets;
    for (const TailSample* sample : carrying) {
      all.AddRow(row_of(*sample));
      targets.push_back(static_cast<float>(*sample->log_over_reference[t]));
      if (mean_form) mean_targets.push_back(over_mean_target(*sample));
      tail.configurations.push_back(sample->configuration->ToString());
      tail.campaigns.push_back(sample->configuration->campaign);
    }
    for (std::vector<std::string>* names : {&tail.configurations, &tail.campaigns}) {
      std::sort(names->begin(), names->end());
      names->erase(std::unique(names->begin(), names->end()), names->end());
    }
    PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor regressor,
                              XGBoostRegressor::Train(all, targets, params));
    tail.over_reference = std::move(regressor);
    if (mean_form && (tail.mean_weights[0] > 0 || tail.mean_weights[1] > 0)) {
      PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor over_mean,
                                XGBoostRegressor::Train(all, mean_targets, params));
      tail.over_mean = std::move(over_mean);
    }
  }
  return tails;
}

std::optional<int> LatencyTails::SituationOf(const Tail& tail, const Configuration& configuration) {
  if (!tail.over_reference.has_value() || !Contains(tail.campaigns, configuration.campaign)) {
    return std::nullopt;
  }
  // A configuration whose own tails were measured reads the held-out curves' scores; a new one,
  // or one whose curves could not be held out, the held-out configurations'.
  int situation = Contains(tail.configurations, configuration.ToString()) ? 0 : 1;
  if (tail.counts[situation] == 0) situation = 1;
  if (tail.counts[situation] == 0) return std::nullopt;
  return situation;
}

std::optional<LatencyTails::Calibration> LatencyTails::CalibrationOf(
    TailTarget target, const Configuration& configuration, double level) const {
  const Tail& tail = tails_[static_cast<int>(target)];
  const std::optional<int> situation = SituationOf(tail, configuration);
  if (!situation.has_value()) return std::nullopt;
  return Calibration{
      ConformalScoreQuantile(tail.quantiles[*situation], tail.counts[*situation], level),
      tail.over_mean.has_value() ? tail.mean_weights[*situation] : 0};
}

void LatencyTails::PredictLogOverReference(TailTarget target, double mean_weight,
                                           absl::Span<const float> rows, int columns,
                                           absl::Span<const double> log_mean_over_reference,
                                           absl::Span<double> out) const {
  const Tail& tail = tails_[static_cast<int>(target)];
  std::vector<float> over_reference(out.size());
  tail.over_reference->ensemble().PredictSimilarRows(rows, columns, absl::MakeSpan(over_reference));
  if (!(mean_weight > 0)) {
    for (size_t k = 0; k < out.size(); ++k) out[k] = over_reference[k];
    return;
  }
  std::vector<float> over_mean(out.size());
  tail.over_mean->ensemble().PredictSimilarRows(rows, columns, absl::MakeSpan(over_mean));
  for (size_t k = 0; k < out.size(); ++k) {
    out[k] = (1 - mean_weight) * over_reference[k] +
             mean_weight * (log_mean_over_reference[k] + over_mean[k]);
  }
}

void LatencyTails::EncodeTo(ByteWriter& writer) const {
  for (const Tail& tail : tails_) {
    writer.PutU32(tail.over_reference.has_value() ? 1 : 0);
    if (!tail.over_reference.has_value()) continue;
    tail.over_reference->EncodeTo(writer);
    writer.PutU32(tail.over_mean.has_value() ? 1 : 0);
    if (tail.over_mean.has_value()) tail.over_mean->EncodeTo(writer);
    for (int s = 0; s < kSituations; ++s) {
      writer.PutDouble(tail.mean_weights[s]);
      PutScoreQuantiles(writer, tail.counts[s], tail.quantiles[s]);
    }
    writer.PutStrings(tail.configurations);
    writer.PutStrings(tail.campaigns);
  }
}

absl::StatusOr<LatencyTails> LatencyTails::DecodeFrom(ByteReader& reader, int feature_count) {
  LatencyTails tails;
  auto get_regressor = [&reader, feature_count]() -> absl::StatusOr<XGBoostRegressor> {
    PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor regressor, XGBoostRegressor::DecodeFrom(reader));
    if (regressor.feature_count() != feature_count) {
      return absl::DataLossError(absl::StrCat("bundle: latency tails: a regressor of ",
                                              regressor.feature_count(), " features, not ",
                                              feature_count));
    }
    return regressor;
  };
  auto get_flag = [&reader]() -> absl::StatusOr<bool> {
    PERFCAST_ASSIGN_OR_RETURN(const uint32_t flag, reader.GetU32());
    if (flag > 1) return absl::DataLossError("bundle: latency tails: bad presence flag");
    return flag == 1;
  };
  for (int t = 0; t < kTailTargetCount; ++t) {
    PERFCAST_ASSIGN_OR_RETURN(const bool present, get_flag());
    if (!present) continue;
    Tail& tail = tails.tails_[t];
    PERFCAST_ASSIGN_OR_RETURN(tail.over_reference, get_regressor());
    PERFCAST_ASSIGN_OR_RETURN(const bool over_mean, get_flag());
    if (over_mean) {
      PERFCAST_ASSIGN_OR_RETURN(tail.over_mean, get_regressor());
    }
    for (int s = 0; s < kSituations; ++s) {
      PERFCAST_ASSIGN_OR_RETURN(tail.mean_weights[s], reader.GetDouble());
      if (!(tail.mean_weights[s] >= 0 && tail.mean_weights[s] <= 1)) {
        return absl::DataLossError("bundle: latency tails: bad weight");
      }
      PERFCAST_RETURN_IF_ERROR(GetScoreQuantiles(reader, kMaxStoredScoreCount,
                                                 "bundle: latency tails", tail.counts[s],
                                                 tail.quantiles[s]));
    }
    // Training keeps the over-mean regressor exactly where some situation weighs it; any other
    // pairing would read scores of a blend the answers do not make.
    const bool weighed = tail.mean_weights[0] > 0 || tail.mean_weights[1] > 0;
    if (weighed != tail.over_mean.has_value()) {
      return absl::DataLossError(
          "bundle: latency tails: the over-mean regressor and its weights disagree");
    }
    PERFCAST_RETURN_IF_ERROR(GetNames(reader, tail.configurations));
    PERFCAST_RETURN_IF_ERROR(GetNames(reader, tail.campaigns));
  }
  return tails;
}

}  // namespace perfcast
