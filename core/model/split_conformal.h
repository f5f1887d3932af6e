#pragma once

#include <array>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/anchor_index.h"
#include "core/model/campaign_calibrations.h"
#include "core/model/error_predictor.h"
#include "core/model/interval_calibration.h"
#include "core/model/train_options.h"

namespace perfcast {

// Split conformal (docs/METHOD.md §5): the error predictor learns from one half of the held-out
// errors (`records[0]`), the scores |error| / predicted error of the other half (`records[1]`)
// calibrate the intervals. Measured and interpolated points are scored unnormalised against
// their curve's own fit (measurement noise). FailedPrecondition, from ErrorPredictor::Train, when
// there are too few records.
struct Calibrations {
  ErrorPredictor error_predictor;
  // Each point's own interval.
  IntervalCalibration points;
  // A bound that holds for every point of a curve at once: the largest score over each
  // held-out curve's points of one kind (docs/METHOD.md §5).
  IntervalCalibration whole_curves;
  // Each point's again per campaign, from the same scores of its own curves.
  CampaignCalibrations campaigns;
};

absl::StatusOr<Calibrations> CalibrateIntervals(const AnchorIndex& index,
                                                std::array<std::vector<ErrorRecord>, 2> records,
                                                const TrainOptions& options);

}  // namespace perfcast
