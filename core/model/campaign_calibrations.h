#pragma once

#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/model/interval_calibration.h"
#include "core/model/prediction.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// One campaign's own throughput calibration for each point: the held-out scores of its curves'
// predictions alone, per situation (docs/METHOD.md §5, "A campaign's own scores"). Whole curves
// stay pooled: a curve is one score, and a campaign's few of its own made bounds for every point
// at once far wider than plans needed.
class CampaignCalibration {
 public:
  CampaignCalibration() = default;
  explicit CampaignCalibration(IntervalCalibration points) : points_(std::move(points)) {}

  // The calibration where its scores of `kind` suffice for `level` (CampaignScoresSuffice);
  // otherwise null, and the pooled one answers. It never borrows another
  // situation's scores, as the pooled kOneCurveShape does: the pooled ones are the better stand-in.
  // Null for measured and interpolated points, the campaigns' spread and a GPU the data lack,
  // which stay pooled.
  const IntervalCalibration* Find(RowKind kind, double level) const;

  const IntervalCalibration& points() const { return points_; }

 private:
  IntervalCalibration points_;
};

// Every trained campaign's CampaignCalibration, beside the pooled calibrations. Pooled, the
// campaigns with many configurations set every interval, and a campaign whose harness errs more
// than theirs (a campaign's first results, above all) is under-covered. Split by campaign (a
// "Mondrian" split), each reads its own where it has enough.
//
// Thread safety: immutable after construction.
class CampaignCalibrations {
 public:
  // One campaign's held-out scores of each point, per situation, as IntervalCalibration::FromScores
  // takes them.
  using Scores = std::array<std::vector<double>, kRowKindCount>;

  // Results without a campaign ("") are not split off: a query never names that campaign (it asks
  // for the population). Fewer than two campaigns: none, since one campaign's scores would be the
  // pooled ones.
  static CampaignCalibrations FromScores(std::map<std::string, Scores> scores);

  // `campaign`'s, or null for a campaign without its own.
  const CampaignCalibration* Of(const std::string& campaign) const;
  // The campaigns calibrated, sorted by name.
  std::vector<std::string> Campaigns() const;

  // The campaigns sorted by name, each with its calibration.
  void EncodeTo(ByteWriter& writer) const;
  // DataLoss for an implausible count, an empty or repeated name, scores of a situation that
  // stays pooled, more scores of a situation over the campaigns than `pooled` holds (its scores
  // are the campaigns' together), or a calibration that fails IntervalCalibration's own checks.
  static absl::StatusOr<CampaignCalibrations> DecodeFrom(ByteReader& reader,
                                                         const IntervalCalibration& pooled);

 private:
  absl::flat_hash_map<std::string, CampaignCalibration> calibrations_;
};

}  // namespace perfcast
