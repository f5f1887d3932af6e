#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// More campaigns than any training set holds: a count a bundle claims above it is corrupt.
inline constexpr uint32_t kMaxCampaignCount = 1000000;

// How one curve came out when predicted from other campaigns only: the mean of
// log(measured / predicted) over its points, and the campaigns of the anchors it was predicted
// from (whose levels the prediction carried).
struct CampaignResidual {
  std::string campaign;
  double mean_log_error = 0;
  std::vector<std::string> anchor_campaigns;
};

// Each trained campaign's level: how much higher (> 0) or lower its harness measures than the
// population of campaigns, in log throughput (docs/METHOD.md §8). A residual says how far a
// curve's campaign lies from its anchors' campaigns, so the levels solve
// residual = level(campaign) - mean(level(anchor campaigns)) jointly (exact for anchors whose
// readings are averaged; for their median, as a prediction takes, an approximation), with the
// curve-weighted mean level at 0; each is shrunk towards 0 by how many curves back it (an
// empirical-Bayes estimate of a random effect), so that a campaign's first few curves move its
// predictions without a single odd curve moving them far.
//
// Thread safety: immutable after construction.
class CampaignLevels {
 public:
  // `campaigns`: every campaign of the training data (those without residuals get level 0).
  static CampaignLevels Estimate(absl::Span<const std::string> campaigns,
                                 absl::Span<const CampaignResidual> residuals);

  bool Knows(const std::string& campaign) const { return levels_.contains(campaign); }
  // 0 for a campaign not trained on: the population's level.
  double LevelOf(const std::string& campaign) const;
  // Every trained campaign and its level, sorted by name.
  std::vector<std::pair<std::string, double>> All() const;

  void EncodeTo(ByteWriter& writer) const;
  // DataLoss for a non-finite level or an implausible count.
  static absl::StatusOr<CampaignLevels> DecodeFrom(ByteReader& reader);

 private:
  absl::flat_hash_map<std::string, double> levels_;
};

}  // namespace perfcast
