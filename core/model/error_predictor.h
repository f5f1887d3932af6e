#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/ml/xgboost_regressor.h"
#include "core/model/interval_calibration.h"
#include "core/model/prediction.h"
#include "core/model/workload_similarity.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// What is known, before the truth, about one anchored prediction: what tells how far to trust it.
struct ErrorFeatures {
  PredictionCase prediction_case = PredictionCase::kNewConfiguration;
  Shape shape;
  double batch_size = 1;
  Neighbourhood neighbourhood;
  int anchor_count = 0;
  // Standard deviation of the anchors' corrected log throughputs: anchors that disagree mean the
  // model is unsure.
  double anchor_spread = 0;
  // Mean L1 log2 shape distance from the query to its anchors.
  double anchor_shape_distance = 0;
  // log2(batch size / largest batch measured on any anchor); > 0 = beyond every anchor.
  double log2_batch_beyond_anchors = 0;
  // The share of a new shape's prediction read off a sibling of the query's campaign
  // (ShapeTransfer::CalibrationWeightAt; 0 elsewhere): such predictions err less than the
  // anchors' alone, and one calibration for both would leave the others under-covered.
  double shape_transfer_weight = 0;
};

inline constexpr int kErrorFeatureCount = 13;

// An observed error of a prediction made without the data it predicts.
struct ErrorRecord {
  ErrorFeatures features;
  double absolute_log_error = 0;  // |log(true / predicted)|
  // Predicted without any configuration that shares one of its names (RowKind::kUnseenName,
  // kUnseenHardware): calibrates intervals only, so the error predictor learns from the cases it
  // always did.
  UnseenField unseen_field = UnseenField::kNone;
  // Predicted from other campaigns only (RowKind::kCampaignSpread): calibrates the population's
  // intervals, unnormalised; the error predictor does not learn from it either.
  bool other_campaign = false;
  // The held-out curve the prediction was of (its anchor index), so that the largest score over
  // one curve's points can calibrate a bound for the whole curve; -1: not known.
  int curve = -1;
  // Predicted as a new shape from a campaign's first result, one other curve of the configuration
  // (CollectHeldOutErrors): calibrates intervals only, as unseen_field does; a second prediction
  // of the whole curve, whose largest score stands apart from the first's.
  bool first_result = false;
  // A new shape predicted from one curve of its configuration (RowKind::kOneCurveShape); every
  // first result is one.
  bool one_own_curve = false;
};

// Maps ErrorFeatures to the expected |log error| of the prediction (docs/METHOD.md §3): a small
// XGBoost regressor trained on held-out errors.
//
// Thread safety: immutable after construction.
class ErrorPredictor {
 public:
  // The smallest error it predicts: keeps conformal scores (error / predicted error) finite.
  static constexpr double kFloor = 0.005;

  // FailedPrecondition with fewer than 10 records.
  static absl::StatusOr<ErrorPredictor> Train(absl::Span<const ErrorRecord> records, uint64_t seed,
                                              int threads);
  // DataLoss for bytes that are not an XGBoost model of kErrorFeatureCount features, or of one
  // fewer (bundle format 11 and older, before shape_transfer_weight, which is last).
  static absl::StatusOr<ErrorPredictor> FromModelBytes(absl::string_view bytes);

  void EncodeTo(ByteWriter& writer) const;
  static absl::StatusOr<ErrorPredictor> DecodeFrom(ByteReader& reader);

  // Expected |log(true / predicted)|, at least kFloor.
  double ExpectedAbsoluteLogError(const ErrorFeatures& features) const;
  // The same for each of `features`, walking the trees for all of them at once.
  std::vector<double> ExpectedAbsoluteLogErrors(absl::Span<const ErrorFeatures> features) const;
  const std::string& model_bytes() const { return model_.model_bytes(); }

 private:
  explicit ErrorPredictor(XGBoostRegressor model) : model_(std::move(model)) {}
  XGBoostRegressor model_;
};

}  // namespace perfcast
