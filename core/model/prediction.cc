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
      return "extrapolated-batch";
    case PredictionCase::kExtrapolatedShape:
      return "extrapolated-shape";
    case PredictionCase::kNewConfiguration:
      return "new-configuration";
  }
  return "unknown";
}

}  // namespace perfcast
