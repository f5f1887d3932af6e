#include "core/model/split_conformal.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "core/data/curve.h"
#include "core/fit/anchor_curve.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

// The campaign of the curve a record predicted ("" for a record of no curve).
const std::string& CampaignOf(const AnchorIndex& index, const ErrorRecord& record) {
  static const std::string kNone;
  if (record.curve < 0) return kNone;
  return index.anchors()[record.curve].curve().configuration.campaign;
}

}  // namespace

absl::StatusOr<Calibrations> CalibrateIntervals(const AnchorIndex& index,
                                                std::array<std::vector<ErrorRecord>, 2> records,
                                                const TrainOptions& options) {
  // Too little data to split (a handful of curves): both roles share the records, and the
  // intervals lose their finite-sample guarantee.
  if (records[0].empty()) {
    for (const ErrorRecord& record : records[1]) {
      if (record.unseen_field == UnseenField::kNone && !record.other_campaign &&
          !record.first_result) {
        records[0].push_back(record);
      }
    }
  }
  if (records[1].empty()) records[1] = records[0];
  PERFCAST_ASSIGN_OR_RETURN(ErrorPredictor predictor,
                            ErrorPredictor::Train(records[0], options.seed, options.threads));
  std::array<std::vector<double>, kRowKindCount> scores;
  // Per kind, the largest score over each held-out prediction of a whole curve's points.
  std::array<std::map<std::pair<int, bool>, double>, kRowKindCount> largest_by_curve;
  // A campaign the data lack is one more draw from the campaigns, not from their pooled points:
  // the campaign spread is the distribution of a campaign drawn at random, then one of its
  // points, so each campaign's scores weigh as much in total whatever its size. Pooled, the
  // largest campaign would set the floor and a campaign unlike it would be under-covered.
  std::map<std::string, int> spread_records_of_campaign;
  for (const ErrorRecord& record : records[1]) {
    if (record.other_campaign) ++spread_records_of_campaign[CampaignOf(index, record)];
  }
  std::array<std::vector<double>, kRowKindCount> weights;
  std::map<std::string, CampaignCalibrations::Scores> campaign_scores;
  for (const ErrorRecord& record : records[1]) {
    if (record.other_campaign) {
      scores[static_cast<int>(RowKind::kCampaignSpread)].push_back(record.absolute_log_error);
      weights[static_cast<int>(RowKind::kCampaignSpread)].push_back(
          1.0 / spread_records_of_campaign.at(CampaignOf(index, record)));
      continue;
    }
    // A new shape read off one curve of its configuration (a campaign's first result, simulated
    // or not) errs more than one read off several: calibrated apart, as Predict tells them apart.
    const RowKind kind =
        KindOf(record.features.prediction_case, record.unseen_field, record.one_own_curve);
    const double score =
        record.absolute_log_error / predictor.ExpectedAbsoluteLogError(record.features);
    const auto add = [&](RowKind situation) {
      scores[static_cast<int>(situation)].push_back(score);
      if (record.curve >= 0) {
        campaign_scores[CampaignOf(index, record)][static_cast<int>(situation)].push_back(score);
        double& largest =
            largest_by_curve[static_cast<int>(situation)][{record.curve, record.first_result}];
        largest = std::max(largest, score);
      }
    };
    add(kind);
    // A GPU's scores also stay among every unseen name's: an engine's, a model's or a precision's
    // understate their shift (their fold models trained on the name's other configurations), and
    // the GPU's larger ones stand in for what they miss, as they did before the GPU had its own.
    if (kind == RowKind::kUnseenHardware) add(RowKind::kUnseenName);
  }
  std::array<std::vector<double>, kRowKindCount> curve_scores;
  for (int kind = 0; kind < kRowKindCount; ++kind) {
    for (const auto& [prediction, largest] : largest_by_curve[kind]) {
      curve_scores[kind].push_back(largest);
    }
  }
  for (const AnchorCurve& anchor : index.anchors()) {
    if (!anchor.fit().has_value()) continue;
    for (const CurvePoint& point : anchor.curve().points) {
      const double fitted = anchor.fit()->ThroughputAt(point.batch_size);
      if (fitted > 0) {
        scores[static_cast<int>(RowKind::kMeasurement)].push_back(
            std::abs(std::log(point.throughput_tokens_per_s / fitted)));
      }
    }
  }
  return Calibrations{std::move(predictor),
                      IntervalCalibration::FromScores(std::move(scores), weights),
                      IntervalCalibration::FromScores(std::move(curve_scores)),
                      CampaignCalibrations::FromScores(std::move(campaign_scores))};
}

}  // namespace perfcast
