#include "core/model/campaign_calibrations.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/score_quantiles.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

// More campaigns than any training set holds: a count a bundle claims above it is corrupt.
constexpr uint32_t kMaxCampaigns = 1000000;

bool Splits(RowKind kind) {
  return kind != RowKind::kMeasurement && kind != RowKind::kCampaignSpread;
}

}  // namespace

CampaignCalibrations CampaignCalibrations::FromScores(std::map<std::string, Scores> scores) {
  CampaignCalibrations out;
  for (auto& [campaign, campaign_scores] : scores) {
    for (int kind = 0; kind < kRowKindCount; ++kind) {
      if (Splits(static_cast<RowKind>(kind))) continue;
      campaign_scores.points[kind].clear();
      campaign_scores.whole_curves[kind].clear();
    }
    out.calibrations_[campaign] =
        Calibrations{IntervalCalibration::FromScores(std::move(campaign_scores.points)),
                     IntervalCalibration::FromScores(std::move(campaign_scores.whole_curves))};
  }
  return out;
}

const IntervalCalibration* CampaignCalibrations::Find(const std::string& campaign, RowKind kind,
                                                      double level, IntervalScope scope) const {
  if (!Splits(kind)) return nullptr;
  const auto it = calibrations_.find(campaign);
  if (it == calibrations_.end()) return nullptr;
  const IntervalCalibration& calibration =
      scope == IntervalScope::kWholeCurve ? it->second.whole_curves : it->second.points;
  const uint32_t count = calibration.ScoreCount(kind);
  if (count < static_cast<uint32_t>(kMinScores) || !ReachesLevel(count, level)) return nullptr;
  return &calibration;
}

std::vector<std::string> CampaignCalibrations::Campaigns() const {
  std::vector<std::string> names;
  for (const auto& [campaign, unused] : calibrations_) names.push_back(campaign);
  std::sort(names.begin(), names.end());
  return names;
}

void CampaignCalibrations::EncodeTo(ByteWriter& writer) const {
  const std::vector<std::string> names = Campaigns();
  writer.PutU32(static_cast<uint32_t>(names.size()));
  for (const std::string& campaign : names) {
    const Calibrations& calibrations = calibrations_.at(campaign);
    writer.PutString(campaign);
    for (const IntervalCalibration* calibration :
         {&calibrations.points, &calibrations.whole_curves}) {
      calibration->EncodeTo(writer);
      calibration->EncodeLaterKindsTo(writer);
    }
  }
}

absl::StatusOr<CampaignCalibrations> CampaignCalibrations::DecodeFrom(ByteReader& reader) {
  CampaignCalibrations out;
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t count, reader.GetU32());
  if (count > kMaxCampaigns) {
    return absl::DataLossError(
        absl::StrCat("bundle: campaign calibrations: ", count, " campaigns"));
  }
  for (uint32_t c = 0; c < count; ++c) {
    PERFCAST_ASSIGN_OR_RETURN(std::string campaign, reader.GetString());
    if (out.calibrations_.contains(campaign)) {
      return absl::DataLossError(
          absl::StrCat("bundle: campaign calibrations: '", campaign, "' repeated"));
    }
    Calibrations calibrations;
    for (IntervalCalibration* calibration : {&calibrations.points, &calibrations.whole_curves}) {
      PERFCAST_ASSIGN_OR_RETURN(*calibration, IntervalCalibration::DecodeFrom(reader));
      PERFCAST_RETURN_IF_ERROR(calibration->DecodeLaterKindsFrom(reader));
    }
    for (const IntervalCalibration* calibration :
         {&calibrations.points, &calibrations.whole_curves}) {
      for (const RowKind kind : {RowKind::kMeasurement, RowKind::kCampaignSpread}) {
        if (calibration->ScoreCount(kind) != 0) {
          return absl::DataLossError(absl::StrCat("bundle: campaign calibrations: '", campaign,
                                                  "' claims scores of a pooled situation"));
        }
      }
    }
    out.calibrations_.emplace(std::move(campaign), std::move(calibrations));
  }
  return out;
}

}  // namespace perfcast
