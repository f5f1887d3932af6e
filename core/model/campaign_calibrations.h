#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/model/interval_calibration.h"
#include "core/model/prediction.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// Each trained campaign's own throughput calibration (docs/METHOD.md §5, "A campaign's own
// scores"): the held-out scores of its curves' predictions, per situation, beside the pooled ones.
// Pooled, the campaigns with many configurations set every interval, and a campaign whose
// harness errs more than theirs (a campaign's first results, above all) is under-covered. Split
// by campaign (a "Mondrian" split), each reads its own where it has enough.
//
// Thread safety: immutable after construction.
class CampaignCalibrations {
 public:
  // One campaign's held-out scores, as IntervalCalibration::FromScores takes them: each point's,
  // and each held-out prediction of a whole curve's largest.
  struct Scores {
    std::array<std::vector<double>, kRowKindCount> points;
    std::array<std::vector<double>, kRowKindCount> whole_curves;
  };
  // Fewer scores than this in a situation and the campaign reads the pooled calibration there.
  static constexpr int kMinScores = 20;

  static CampaignCalibrations FromScores(std::map<std::string, Scores> scores);

  // `campaign`'s own calibration of `scope` where it holds kMinScores or more scores of `kind`,
  // enough for `level` uncapped (ReachesLevel); otherwise null, and the pooled one answers.
  // Measured and interpolated points (RowKind::kMeasurement) and the campaigns' spread are never
  // split: null.
  const IntervalCalibration* Find(const std::string& campaign, RowKind kind, double level,
                                  IntervalScope scope) const;
  // The campaigns calibrated, sorted by name.
  std::vector<std::string> Campaigns() const;

  // The campaigns sorted by name, each with its two calibrations.
  void EncodeTo(ByteWriter& writer) const;
  // DataLoss for an implausible count, a repeated name (results without a campaign make one named
  // ""), or a calibration that fails IntervalCalibration's own checks.
  static absl::StatusOr<CampaignCalibrations> DecodeFrom(ByteReader& reader);

 private:
  struct Calibrations {
    IntervalCalibration points;
    IntervalCalibration whole_curves;
  };
  absl::flat_hash_map<std::string, Calibrations> calibrations_;
};

}  // namespace perfcast
