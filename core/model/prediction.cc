#include "core/model/prediction.h"

#include "absl/strings/string_view.h"

namespace perfcast {

absl::string_view PredictionCaseName(PredictionCase prediction_case) {
  switch (prediction_case) {
    case PredictionCase::kMeasured:
      return "measured";
    case PredictionCase::kInterpolated:
      return "interpolated";
    case PredictionCase::kExtrapolatedBatch:
      return "extrapolated_batch";
    case PredictionCase::kExtrapolatedShape:
      return "extrapolated_shape";
    case PredictionCase::kNewConfiguration:
      return "new_configuration";
  }
  return "unknown";
}

}  // namespace perfcast
