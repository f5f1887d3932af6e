#include "core/model/score_quantiles.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/percentile.h"
#include "core/util/status_macros.h"

namespace perfcast {

std::vector<int> BalancedFoldsOf(int count, int fold_count, uint64_t seed) {
  std::vector<int> order(count);
  for (int i = 0; i < count; ++i) order[i] = i;
  std::mt19937_64 random(seed);
  for (int i = count; i > 1; --i) {
    std::swap(order[i - 1], order[random() % static_cast<uint64_t>(i)]);
  }
  std::vector<int> fold(count);
  for (int i = 0; i < count; ++i) fold[order[i]] = i % fold_count;
  return fold;
}

std::vector<double> ScoreQuantilesOf(std::vector<double> scores) {
  std::sort(scores.begin(), scores.end());
  std::vector<double> out(kScoreQuantileCount);
  for (int q = 0; q < kScoreQuantileCount; ++q) {
    out[q] = PercentileOfSorted(scores, static_cast<double>(q) / (kScoreQuantileCount - 1));
  }
  return out;
}

double ScoreQuantileAt(const std::vector<double>& quantiles, double p) {
  const double position = p * (kScoreQuantileCount - 1);
  const int below = std::min(static_cast<int>(position), kScoreQuantileCount - 2);
  return quantiles[below] + (position - below) * (quantiles[below + 1] - quantiles[below]);
}

double ConformalScoreQuantile(const std::vector<double>& quantiles, int n, double level) {
  return ScoreQuantileAt(quantiles, std::min(1.0, level * (n + 1) / n));
}

void PutScoreQuantiles(ByteWriter& writer, int count, const std::vector<double>& quantiles) {
  writer.PutU32(count);
  if (count == 0) return;
  for (double q : quantiles) writer.PutDouble(q);
}

bool ReachesLevel(double n, double level) { return n > 0 && level * (n + 1) / n <= 1; }

bool CampaignScoresSuffice(double n, double level) {
  return n >= kMinCampaignScores && ReachesLevel(n, level);
}

absl::Status GetScoreQuantiles(ByteReader& reader, uint32_t max_count, absl::string_view what,
                               int& count, std::vector<double>& quantiles) {
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t read, reader.GetU32());
  if (read > max_count) return absl::DataLossError(absl::StrCat(what, ": bad score count"));
  count = static_cast<int>(read);
  quantiles.clear();
  if (read == 0) return absl::OkStatus();
  quantiles.resize(kScoreQuantileCount);
  for (double& q : quantiles) {
    PERFCAST_ASSIGN_OR_RETURN(q, reader.GetDouble());
    if (!std::isfinite(q) || q < 0) {
      return absl::DataLossError(absl::StrCat(what, ": bad score quantile"));
    }
  }
  return absl::OkStatus();
}

}  // namespace perfcast
