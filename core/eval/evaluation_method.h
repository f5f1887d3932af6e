#pragma once

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/eval/evaluation_protocol.h"

namespace perfcast {

struct PredictionInterval {
  double lower_tokens_per_s = 0;
  double upper_tokens_per_s = 0;
};

// An interval of a latency target, in seconds.
struct LatencyInterval {
  double lower_s = 0;
  double upper_s = 0;
};

struct MethodPrediction {
  std::optional<double> throughput_tokens_per_s;  // nullopt: the method declines the point
  // One per requested confidence level, in order; empty for methods that give no interval.
  std::vector<PredictionInterval> intervals;
  // The method's own expectation of its |relative error| here, for methods that give one.
  std::optional<double> expected_relative_error;
  // Mean TTFT and ITL, for methods that predict them (nullopt: not predicted here), with one
  // interval per level as for the throughput.
  std::optional<double> ttft_s;
  std::optional<double> itl_s;
  std::vector<LatencyInterval> ttft_intervals;
  std::vector<LatencyInterval> itl_intervals;
  // The 99th percentiles of the TTFT and of the TPOT, likewise.
  std::optional<double> p99_ttft_s;
  std::optional<double> p99_tpot_s;
  std::vector<LatencyInterval> p99_ttft_intervals;
  std::vector<LatencyInterval> p99_tpot_intervals;
};

// A way of predicting held-out points from a fold's training curves, compared side by side by
// `perfcast eval`. Implementations may keep no state between calls.
class EvaluationMethod {
 public:
  virtual ~EvaluationMethod() = default;
  virtual absl::string_view name() const = 0;
  // One prediction per fold.held_out point, in order; intervals at each of `confidence_levels`.
  virtual absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const = 0;
};

// The 6 shape features of the published reference code: ii, oo, log1p(ii), log1p(oo),
// log1p(ii/oo), ii/(oo+1).
std::vector<float> PublishedShapeFeatures(const Shape& shape);

}  // namespace perfcast
