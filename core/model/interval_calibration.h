#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/model/prediction.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// The situations perfcast learns from, each standing for one prediction case.
enum class RowKind {
  kOtherShape,          // another curve of the same configuration -> extrapolated shape
  kOwnSmallerBatches,   // the curve's own smaller batches -> extrapolated batch
  kOtherConfiguration,  // a curve of another configuration -> new configuration
  kMeasurement,         // a measured point against its curve's fit -> measured, interpolated
  // A curve predicted from configurations that all differ from it in one name (hardware,
  // framework, model or precision), as if the data had never seen that name -> a new
  // configuration with a framework, model or precision the data lack.
  kUnseenName,
  // A curve predicted from other campaigns only, its error unnormalised: how far a campaign the
  // data lack may lie from what the others say -> the floor of a population query's interval,
  // and that share of it for an answer read partly from other campaigns.
  kCampaignSpread,
  // Another curve of a configuration that leaves it one measured curve, as a campaign's first
  // result does -> a new shape of a configuration measured at one other shape only. With too few
  // scores, it borrows kOtherShape's quantiles (KindRead).
  kOneCurveShape,
  // kUnseenName's records of the hardware alone, by models that never trained on its hardware
  // type -> a new configuration on a GPU the data lack. With too few scores for the level (none
  // in a bundle before format 22, or from data without hardware folds), it borrows kUnseenName's
  // quantiles (KindRead).
  kUnseenHardware,
};
inline constexpr int kRowKindCount = 8;
// Bundles add kinds in sections after the last one, so that the sections before keep the layout
// older readers know: the kinds before kFirstLaterRowKind where bundles up to format 14 held them
// (EncodeTo), those from it to kUnseenHardware after format 14's last section
// (EncodeLaterKindsTo), and kUnseenHardware after format 21's (EncodeUnseenHardwareTo).
inline constexpr int kFirstLaterRowKind = static_cast<int>(RowKind::kOneCurveShape);

// Which names of a configuration no training configuration carries, as the calibration tells
// them apart: a GPU the data lack shifts a prediction more than an engine, model or precision
// they lack, and is predicted by models that never saw its type (docs/METHOD.md §5).
enum class UnseenField {
  kNone,
  kFrameworkModelOrPrecision,  // one or more of these, the hardware known
  kHardware,                   // the hardware, whatever else
};

// The situation that stands for `prediction_case`.
RowKind KindOf(PredictionCase prediction_case);
// The same for a prediction made with names the data lack (a new configuration's kUnseenName or
// kUnseenHardware), or read off one curve of its configuration (a new shape's kOneCurveShape):
// the one rule by which held-out errors are calibrated and queries read them.
RowKind KindOf(PredictionCase prediction_case, UnseenField unseen, bool one_own_curve);

// Normalised split-conformal intervals (docs/METHOD.md §5): symmetric in log space,
// log(pred) +- q * expected_error, where q is the conformal `level` quantile of the
// non-conformity scores |log(true / predicted)| / expected_error seen for the prediction's case
// on predictions that neither the model nor the error predictor trained on. With expected_error
// = 1 the scores are plain absolute log errors (the measured and interpolated cases).
//
// Thread safety: immutable after construction.
class IntervalCalibration {
 public:
  // `scores[kind]`: held-out non-conformity scores of that kind. `weights[kind]`, where not
  // empty, gives each score a positive weight and the quantiles are of that weighted
  // distribution (WeightedQuantileOfSorted; the count, which the finite-sample correction
  // reads, stays the number of scores).
  static IntervalCalibration FromScores(
      std::array<std::vector<double>, kRowKindCount> scores,
      const std::array<std::vector<double>, kRowKindCount>& weights = {});

  // The score quantile at `level` with the finite-sample correction of split conformal
  // prediction (level * (n + 1) / n, capped at the largest score seen). REQUIRES: 0 < level < 1.
  double ScoreQuantile(PredictionCase prediction_case, double level) const;
  // The same for a situation; kOneCurveShape with too few scores borrows kOtherShape's
  // (KindRead), and one never calibrated the new-configuration quantiles. kUnseenHardware is never
  // below kUnseenName.
  double ScoreQuantile(RowKind kind, double level) const;
  // The situation whose quantiles `kind` reads at `level` before that rule: kOneCurveShape
  // borrows kOtherShape's until it has the scores the level needs (level (n + 1) / n <= 1;
  // fewer cap its quantile at the largest score, which covers less than the level), and
  // kUnseenHardware kUnseenName's alike; any other kind, its own.
  RowKind KindRead(RowKind kind, double level) const;
  // How many scores calibrated `kind`; 0 when it was never calibrated (kOneCurveShape may borrow
  // with more: KindRead).
  uint32_t ScoreCount(RowKind kind) const { return counts_[static_cast<int>(kind)]; }

  // The kinds before kFirstLaterRowKind.
  void EncodeTo(ByteWriter& writer) const;
  // DataLoss for quantiles of the wrong size, or quantiles without scores.
  static absl::StatusOr<IntervalCalibration> DecodeFrom(ByteReader& reader);
  // The kinds from kFirstLaterRowKind to kUnseenHardware, after their count.
  void EncodeLaterKindsTo(ByteWriter& writer) const;
  // DataLoss, as DecodeFrom, and for a count of kinds other than the one every format since 15
  // wrote.
  absl::Status DecodeLaterKindsFrom(ByteReader& reader);
  // kUnseenHardware alone. DataLoss as DecodeFrom.
  void EncodeUnseenHardwareTo(ByteWriter& writer) const;
  absl::Status DecodeUnseenHardwareFrom(ByteReader& reader);

 private:
  // The quantile of `kind`'s own scores at `level`, corrected (ScoreQuantile without its rules).
  double QuantileOf(RowKind kind, double level) const;
  void EncodeKindTo(int kind, ByteWriter& writer) const;
  absl::Status DecodeKindFrom(int kind, ByteReader& reader);

  // Quantiles at 0%, 0.5%, ..., 100% per kind (empty when the kind was never seen), and how
  // many scores they summarise.
  std::array<std::vector<double>, kRowKindCount> quantiles_;
  std::array<uint32_t, kRowKindCount> counts_{};
};

}  // namespace perfcast
