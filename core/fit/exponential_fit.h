#pragma once

#include <cmath>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/data/curve.h"

namespace perfcast {

// thpt(bb) = c - a * exp(-b * bb): throughput saturating at c as the batch grows (docs/METHOD.md
// §1).
struct SaturationCurve {
  double a = 0;
  double b = 0;
  double c = 0;

  double ThroughputAt(double batch_size) const { return c - a * std::exp(-b * batch_size); }
};

struct CurveFit {
  SaturationCurve curve;
  double rmse_tokens_per_s = 0;
  double r_squared = 0;
};

// Bounded nonlinear least squares (Ceres) from the reference code's percentile start, with
// a, c >= 0 and b in [1e-5, 1]. Fails with FailedPrecondition for fewer than 3 distinct batch
// sizes, a flat curve (all throughputs equal) or non-finite input.
absl::StatusOr<CurveFit> FitSaturationCurve(absl::Span<const CurvePoint> points);

}  // namespace perfcast
