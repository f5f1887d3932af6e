#include "core/model/interval_calibration.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/score_quantiles.h"
#include "core/util/percentile.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

constexpr int kQuantileSteps = 200;
// The end of the kinds EncodeLaterKindsTo writes.
constexpr int kLaterRowKindEnd = static_cast<int>(RowKind::kUnseenHardware);

}  // namespace

RowKind KindOf(PredictionCase prediction_case) {
  switch (prediction_case) {
    case PredictionCase::kMeasured:
    case PredictionCase::kInterpolated:
      return RowKind::kMeasurement;
    case PredictionCase::kExtrapolatedBatch:
      return RowKind::kOwnSmallerBatches;
    case PredictionCase::kExtrapolatedShape:
      return RowKind::kOtherShape;
    case PredictionCase::kNewConfiguration:
      return RowKind::kOtherConfiguration;
  }
  return RowKind::kOtherConfiguration;
}

IntervalCalibration IntervalCalibration::FromScores(
    std::array<std::vector<double>, kRowKindCount> scores,
    const std::array<std::vector<double>, kRowKindCount>& weights) {
  IntervalCalibration calibration;
  for (int kind = 0; kind < kRowKindCount; ++kind) {
    std::vector<double>& errors = scores[kind];
    if (errors.empty()) continue;
    calibration.counts_[kind] = static_cast<uint32_t>(errors.size());
    if (weights[kind].size() == errors.size()) {
      std::vector<size_t> order(errors.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return errors[a] < errors[b]; });
      std::vector<double> sorted, sorted_weights;
      for (size_t i : order) {
        sorted.push_back(errors[i]);
        sorted_weights.push_back(weights[kind][i]);
      }
      for (int step = 0; step <= kQuantileSteps; ++step) {
        calibration.quantiles_[kind].push_back(WeightedQuantileOfSorted(
            sorted, sorted_weights, static_cast<double>(step) / kQuantileSteps));
      }
      continue;
    }
    std::sort(errors.begin(), errors.end());
    for (int step = 0; step <= kQuantileSteps; ++step) {
      calibration.quantiles_[kind].push_back(
          PercentileOfSorted(errors, static_cast<double>(step) / kQuantileSteps));
    }
  }
  return calibration;
}

RowKind KindOf(PredictionCase prediction_case, UnseenField unseen, bool one_own_curve) {
  if (prediction_case == PredictionCase::kNewConfiguration) {
    switch (unseen) {
      case UnseenField::kNone:
        break;
      case UnseenField::kFrameworkModelOrPrecision:
        return RowKind::kUnseenName;
      case UnseenField::kHardware:
        return RowKind::kUnseenHardware;
    }
  }
  if (one_own_curve && prediction_case == PredictionCase::kExtrapolatedShape) {
    return RowKind::kOneCurveShape;
  }
  return KindOf(prediction_case);
}

double IntervalCalibration::ScoreQuantile(PredictionCase prediction_case, double level) const {
  return ScoreQuantile(KindOf(prediction_case), level);
}

double IntervalCalibration::ScoreQuantile(RowKind row_kind, double level) const {
  const RowKind read = KindRead(row_kind, level);
  const double quantile = QuantileOf(read, level);
  // A GPU the data lack is a name they lack: never narrower than every unseen name's. Its own
  // scores are mostly of GPUs like the data's many; a GPU unlike them (another stack) errs as
  // the other names do, or more.
  if (read == RowKind::kUnseenHardware) {
    return std::max(quantile, QuantileOf(RowKind::kUnseenName, level));
  }
  return quantile;
}

double IntervalCalibration::QuantileOf(RowKind row_kind, double level) const {
  // A case never seen in training borrows the widest calibrated case rather than claiming 0.
  int kind = static_cast<int>(row_kind);
  if (quantiles_[kind].empty()) kind = static_cast<int>(RowKind::kOtherConfiguration);
  const std::vector<double>* quantiles = &quantiles_[kind];
  if (quantiles->empty()) return 0;
  const double n = counts_[kind];
  const double corrected = level * (n + 1) / n;
  const double position = std::clamp(corrected, 0.0, 1.0) * kQuantileSteps;
  const int below = std::min(static_cast<int>(position), kQuantileSteps - 1);
  const double t = position - below;
  return (1 - t) * (*quantiles)[below] + t * (*quantiles)[below + 1];
}

RowKind IntervalCalibration::KindRead(RowKind kind, double level) const {
  if (kind != RowKind::kOneCurveShape && kind != RowKind::kUnseenHardware) return kind;
  // The corrected level ScoreQuantile reads, computed alike, so that the two agree at the edge.
  if (ReachesLevel(counts_[static_cast<int>(kind)], level)) return kind;
  return kind == RowKind::kOneCurveShape ? RowKind::kOtherShape : RowKind::kUnseenName;
}

void IntervalCalibration::EncodeKindTo(int kind, ByteWriter& writer) const {
  writer.PutU32(counts_[kind]);
  writer.PutU32(quantiles_[kind].size());
  for (double q : quantiles_[kind]) writer.PutDouble(q);
}

absl::Status IntervalCalibration::DecodeKindFrom(int kind, ByteReader& reader) {
  std::vector<double>& quantiles = quantiles_[kind];
  quantiles.clear();
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t scores, reader.GetU32());
  counts_[kind] = scores;
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t count, reader.GetU32());
  if ((count != 0 && count != kQuantileSteps + 1) || ((count == 0) != (scores == 0)) ||
      scores > kMaxStoredScoreCount) {
    return absl::DataLossError("bundle: interval calibration has the wrong size");
  }
  for (uint32_t i = 0; i < count; ++i) {
    PERFCAST_ASSIGN_OR_RETURN(const double q, reader.GetDouble());
    // Scores are absolute log errors, some scaled by a positive expected error: anything else
    // would make a half-width negative or NaN. (The quantiles are not checked for order: linear
    // interpolation between scores may round one a unit in the last place past the next.)
    if (!std::isfinite(q) || q < 0) {
      return absl::DataLossError("bundle: interval calibration: a bad score quantile");
    }
    quantiles.push_back(q);
  }
  return absl::OkStatus();
}

void IntervalCalibration::EncodeTo(ByteWriter& writer) const {
  for (int kind = 0; kind < kFirstLaterRowKind; ++kind) EncodeKindTo(kind, writer);
}

absl::StatusOr<IntervalCalibration> IntervalCalibration::DecodeFrom(ByteReader& reader) {
  IntervalCalibration calibration;
  for (int kind = 0; kind < kFirstLaterRowKind; ++kind) {
    PERFCAST_RETURN_IF_ERROR(calibration.DecodeKindFrom(kind, reader));
  }
  return calibration;
}

void IntervalCalibration::EncodeLaterKindsTo(ByteWriter& writer) const {
  writer.PutU32(kLaterRowKindEnd - kFirstLaterRowKind);
  for (int kind = kFirstLaterRowKind; kind < kLaterRowKindEnd; ++kind) EncodeKindTo(kind, writer);
}

void IntervalCalibration::EncodeUnseenHardwareTo(ByteWriter& writer) const {
  EncodeKindTo(static_cast<int>(RowKind::kUnseenHardware), writer);
}

absl::Status IntervalCalibration::DecodeUnseenHardwareFrom(ByteReader& reader) {
  return DecodeKindFrom(static_cast<int>(RowKind::kUnseenHardware), reader);
}

absl::Status IntervalCalibration::DecodeLaterKindsFrom(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t later, reader.GetU32());
  if (later != kLaterRowKindEnd - kFirstLaterRowKind) {
    return absl::DataLossError(absl::StrCat("bundle: ", later, " later interval kinds, expected ",
                                            kLaterRowKindEnd - kFirstLaterRowKind));
  }
  for (int kind = kFirstLaterRowKind; kind < kLaterRowKindEnd; ++kind) {
    PERFCAST_RETURN_IF_ERROR(DecodeKindFrom(kind, reader));
  }
  return absl::OkStatus();
}

}  // namespace perfcast
