#pragma once

#include <optional>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "core/evaluation_protocol.h"

namespace perfcast {

struct MethodPrediction {
  std::optional<double> throughput_tokens_per_s;  // nullopt: the method declines the point
  std::optional<double> lower_tokens_per_s;       // interval, for methods that give one
  std::optional<double> upper_tokens_per_s;
};

// A way of predicting held-out points from a fold's training curves, compared side by side by
// `perfcast eval`. Implementations may keep no state between calls.
class EvaluationMethod {
 public:
  virtual ~EvaluationMethod() = default;
  virtual absl::string_view name() const = 0;
  // One prediction per fold.held_out point, in order; intervals at `confidence_level`.
  virtual absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, double confidence_level) const = 0;
};

// The 6 shape features of the published reference code: ii, oo, log1p(ii), log1p(oo),
// log1p(ii/oo), ii/(oo+1).
std::vector<float> PublishedShapeFeatures(const Shape& shape);

}  // namespace perfcast
