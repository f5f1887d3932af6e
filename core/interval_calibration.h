#pragma once

#include <array>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/bundle_format.h"
#include "core/prediction.h"

namespace perfcast {

// The situations perfcast learns from, each standing for one prediction case.
enum class RowKind {
  kOtherShape,          // another curve of the same configuration -> extrapolated shape
  kOwnSmallerBatches,   // the curve's own smaller batches -> extrapolated batch
  kOtherConfiguration,  // a curve of another configuration -> new configuration
  kMeasurement,         // a measured point against its curve's fit -> measured, interpolated
};
inline constexpr int kRowKindCount = 4;

// Symmetric intervals in log space, log(pred) +- q, where q is the `level` quantile of the
// absolute log errors seen for the prediction's case on data the model did not train on.
//
// Thread safety: immutable after construction.
class IntervalCalibration {
 public:
  // `absolute_log_errors[kind]`: held-out |log(true / predicted)| of that kind.
  static IntervalCalibration FromAbsoluteLogErrors(
      std::array<std::vector<double>, kRowKindCount> absolute_log_errors);

  // REQUIRES: 0 < level < 1.
  double LogHalfWidth(PredictionCase prediction_case, double level) const;

  void Serialize(ByteWriter& writer) const;
  static absl::StatusOr<IntervalCalibration> Deserialize(ByteReader& reader);

 private:
  // Quantiles at 0%, 0.5%, ..., 100% per kind (empty when the kind was never seen).
  std::array<std::vector<double>, kRowKindCount> quantiles_;
};

}  // namespace perfcast
