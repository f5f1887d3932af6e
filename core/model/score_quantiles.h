#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// Held-out |log error| scores kept as a fixed number of quantiles, so that a bundle's size does
// not grow with the training data: what the latency model and its tails calibrate with
// (docs/METHOD.md §9).
inline constexpr int kScoreQuantileCount = 201;

// Seeded, balanced fold in [0, fold_count) of each of `count` items.
std::vector<int> BalancedFoldsOf(int count, int fold_count, uint64_t seed);

// kScoreQuantileCount quantiles (0, 0.005, ..., 1) of `scores` (not empty).
std::vector<double> ScoreQuantilesOf(std::vector<double> scores);

// The `p` quantile, p in [0, 1], of what ScoreQuantilesOf summarised, linear between its
// quantiles.
double ScoreQuantileAt(const std::vector<double>& quantiles, double p);

// The finite-sample conformal quantile of `n` scores summarised by `quantiles` at level p:
// p (n + 1) / n, capped at the largest score.
double ConformalScoreQuantile(const std::vector<double>& quantiles, int n, double level);

// Whether `n` scores reach the conformal quantile at `level` uncapped (level (n + 1) / n <= 1):
// fewer cap it at the largest score, which covers less than the level.
bool ReachesLevel(double n, double level);

// Fewer held-out scores of a campaign than this in a situation, and it calibrates with the pooled
// campaigns' there: a quantile of a few correlated scores says little.
inline constexpr int kMinCampaignScores = 20;

// Whether a campaign's own `n` scores of a situation calibrate it at `level`: kMinCampaignScores
// or more, and enough to reach the level uncapped (ReachesLevel).
bool CampaignScoresSuffice(double n, double level);

// More held-out scores than any training set holds: a count a bundle claims above it is corrupt.
inline constexpr uint32_t kMaxStoredScoreCount = 100000000;

// A count of held-out scores, then their kScoreQuantileCount quantiles when there are any.
void PutScoreQuantiles(ByteWriter& writer, int count, const std::vector<double>& quantiles);

// What PutScoreQuantiles wrote. DataLoss, its message opening with `what`, for a count above
// `max_count` or a quantile that is negative or not finite (scores are absolute log errors).
absl::Status GetScoreQuantiles(ByteReader& reader, uint32_t max_count, absl::string_view what,
                               int& count, std::vector<double>& quantiles);

}  // namespace perfcast
