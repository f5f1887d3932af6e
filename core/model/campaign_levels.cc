#include "core/model/campaign_levels.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "core/util/status_macros.h"

namespace perfcast {

CampaignLevels CampaignLevels::Estimate(absl::Span<const std::string> campaigns,
                                        absl::Span<const CampaignResidual> residuals) {
  CampaignLevels out;
  for (const std::string& campaign : campaigns) out.levels_[campaign] = 0;
  struct Sums {
    double sum = 0, sum_of_squares = 0;
    int count = 0;
  };
  // Ordered maps: the sums over campaigns are added in one order in every process, so that two
  // fits of the same data give the same bundle.
  std::map<std::string, Sums> by_campaign;
  for (const CampaignResidual& r : residuals) {
    if (!std::isfinite(r.mean_log_error)) continue;
    Sums& s = by_campaign[r.campaign];
    s.sum += r.mean_log_error;
    s.sum_of_squares += r.mean_log_error * r.mean_log_error;
    ++s.count;
  }
  // Within-campaign variance of a curve's residual (pooled), and the variance of the campaigns'
  // true levels (method of moments: the spread of the campaign means less what their sampling
  // noise explains).
  double within = 0;
  int within_dof = 0;
  double mean_of_means = 0, mean_of_squared_means = 0, mean_noise = 0;
  int campaign_count = 0;
  for (const auto& [campaign, s] : by_campaign) {
    const double mean = s.sum / s.count;
    within += s.sum_of_squares - s.count * mean * mean;
    within_dof += s.count - 1;
    ++campaign_count;
  }
  if (campaign_count < 2 || within_dof <= 0) return out;
  within /= within_dof;
  for (const auto& [campaign, s] : by_campaign) {
    const double mean = s.sum / s.count;
    mean_of_means += mean / campaign_count;
    mean_of_squared_means += mean * mean / campaign_count;
    mean_noise += within / s.count / campaign_count;
  }
  const double between =
      std::max(0.0, mean_of_squared_means - mean_of_means * mean_of_means - mean_noise);
  if (between <= 0) return out;
  // A campaign's level is shrunk by n / (n + within / between): a handful of curves count for
  // little when curves scatter more than campaigns do. The residuals relate levels to each other
  // (their campaign's less their anchors'), so the levels are solved by fixed-point iteration,
  // centred on the curve-weighted mean; the shrinkage makes it contract.
  const double prior_curves = within / between;
  std::map<std::string, double> level;
  for (int iteration = 0; iteration < 100; ++iteration) {
    std::map<std::string, double> target_sum;
    for (const CampaignResidual& r : residuals) {
      if (!std::isfinite(r.mean_log_error)) continue;
      double anchors = 0;
      for (const std::string& a : r.anchor_campaigns) {
        auto it = level.find(a);
        anchors += it == level.end() ? 0.0 : it->second;
      }
      if (!r.anchor_campaigns.empty()) anchors /= static_cast<double>(r.anchor_campaigns.size());
      target_sum[r.campaign] += r.mean_log_error + anchors;
    }
    std::map<std::string, double> next;
    double weighted = 0, weight = 0;
    for (const auto& [campaign, sum] : target_sum) {
      const int n = by_campaign.at(campaign).count;
      next[campaign] = sum / (n + prior_curves);
      weighted += n * next[campaign];
      weight += n;
    }
    double change = 0;
    for (auto& [campaign, value] : next) {
      value -= weighted / weight;
      auto it = level.find(campaign);
      change = std::max(change, std::abs(value - (it == level.end() ? 0.0 : it->second)));
    }
    level = std::move(next);
    if (change < 1e-9) break;
  }
  for (const auto& [campaign, value] : level) {
    if (out.levels_.contains(campaign)) out.levels_[campaign] = value;
  }
  return out;
}

double CampaignLevels::LevelOf(const std::string& campaign) const {
  auto it = levels_.find(campaign);
  return it == levels_.end() ? 0.0 : it->second;
}

std::vector<std::pair<std::string, double>> CampaignLevels::All() const {
  std::vector<std::pair<std::string, double>> all(levels_.begin(), levels_.end());
  std::sort(all.begin(), all.end());
  return all;
}

void CampaignLevels::EncodeTo(ByteWriter& writer) const {
  const std::vector<std::pair<std::string, double>> all = All();
  writer.PutU32(all.size());
  for (const auto& [campaign, level] : all) {
    writer.PutString(campaign);
    writer.PutDouble(level);
  }
}

absl::StatusOr<CampaignLevels> CampaignLevels::DecodeFrom(ByteReader& reader) {
  CampaignLevels out;
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t count, reader.GetU32());
  if (count > kMaxCampaignCount) return absl::DataLossError("bundle: implausible campaign count");
  for (uint32_t i = 0; i < count; ++i) {
    PERFCAST_ASSIGN_OR_RETURN(std::string campaign, reader.GetString());
    PERFCAST_ASSIGN_OR_RETURN(const double level, reader.GetDouble());
    if (!std::isfinite(level)) return absl::DataLossError("bundle: non-finite campaign level");
    out.levels_[std::move(campaign)] = level;
  }
  return out;
}

}  // namespace perfcast
