#include "core/model/campaign_calibrations.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/campaign_levels.h"
#include "core/model/score_quantiles.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

// Measured and interpolated points are scored against their own curve's fit (measurement noise,
// not a prediction's error), and the campaigns' spread is a draw of a whole campaign: neither is
// one campaign's prediction error, so both stay pooled. So does a GPU the data lack: how far its
// prediction errs is the GPU's more than the campaign's, and a campaign's own scores of it are
// draws of its few GPUs, however many points each has.
bool Splits(RowKind kind) {
  return kind != RowKind::kMeasurement && kind != RowKind::kCampaignSpread &&
         kind != RowKind::kUnseenHardware;
}

}  // namespace

const IntervalCalibration* CampaignCalibration::Find(RowKind kind, double level) const {
  if (!Splits(kind)) return nullptr;
  return CampaignScoresSuffice(points_.ScoreCount(kind), level) ? &points_ : nullptr;
}

CampaignCalibrations CampaignCalibrations::FromScores(std::map<std::string, Scores> scores) {
  CampaignCalibrations out;
  scores.erase("");
  if (scores.size() < 2) return out;
  for (auto& [campaign, campaign_scores] : scores) {
    for (int kind = 0; kind < kRowKindCount; ++kind) {
      if (!Splits(static_cast<RowKind>(kind))) campaign_scores[kind].clear();
    }
    out.calibrations_[campaign] =
        CampaignCalibration(IntervalCalibration::FromScores(std::move(campaign_scores)));
  }
  return out;
}

const CampaignCalibration* CampaignCalibrations::Of(const std::string& campaign) const {
  const auto it = calibrations_.find(campaign);
  return it == calibrations_.end() ? nullptr : &it->second;
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
    const IntervalCalibration& calibration = calibrations_.at(campaign).points();
    writer.PutString(campaign);
    calibration.EncodeTo(writer);
    calibration.EncodeLaterKindsTo(writer);
  }
}

absl::StatusOr<CampaignCalibrations> CampaignCalibrations::DecodeFrom(
    ByteReader& reader, const IntervalCalibration& pooled) {
  CampaignCalibrations out;
  std::array<uint64_t, kRowKindCount> totals{};
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t count, reader.GetU32());
  if (count > kMaxCampaignCount) {
    return absl::DataLossError(
        absl::StrCat("bundle: campaign calibrations: ", count, " campaigns"));
  }
  for (uint32_t c = 0; c < count; ++c) {
    PERFCAST_ASSIGN_OR_RETURN(std::string campaign, reader.GetString());
    if (campaign.empty() || out.calibrations_.contains(campaign)) {
      return absl::DataLossError(
          absl::StrCat("bundle: campaign calibrations: '", campaign, "' empty or repeated"));
    }
    PERFCAST_ASSIGN_OR_RETURN(IntervalCalibration calibration,
                              IntervalCalibration::DecodeFrom(reader));
    PERFCAST_RETURN_IF_ERROR(calibration.DecodeLaterKindsFrom(reader));
    for (int kind = 0; kind < kRowKindCount; ++kind) {
      const uint32_t scores = calibration.ScoreCount(static_cast<RowKind>(kind));
      if (!Splits(static_cast<RowKind>(kind)) && scores > 0) {
        return absl::DataLossError(absl::StrCat("bundle: campaign calibrations: '", campaign,
                                                "' claims scores of a pooled situation"));
      }
      totals[kind] += scores;
    }
    out.calibrations_.emplace(std::move(campaign), CampaignCalibration(std::move(calibration)));
  }
  for (int kind = 0; kind < kRowKindCount; ++kind) {
    if (totals[kind] > pooled.ScoreCount(static_cast<RowKind>(kind))) {
      return absl::DataLossError(
          "bundle: campaign calibrations: more scores than the pooled calibration holds");
    }
  }
  return out;
}

}  // namespace perfcast
