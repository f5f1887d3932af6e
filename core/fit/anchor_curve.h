#pragma once

#include <optional>

#include "absl/status/statusor.h"
#include "core/data/curve.h"
#include "core/fit/exponential_fit.h"
#include "core/fit/roofline_growth.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// A measured curve used as the starting point ("anchor") of a prediction: perfcast predicts a
// throughput as an anchor's value times a learned correction.
//
// Within the measured batch range the anchor interpolates its points in log-log space (exact at
// every measured point). Below it, and past it without a roofline, it follows the shape of its
// analytic saturation fit (docs/METHOD.md §1) from the nearest measured point, or a log-log line
// through its two outermost points when the curve has too few points to fit. Past its last
// point, with a roofline attached and two points or more, it grows as the roofline does plus the
// trend of its efficiency (measured / roofline) over its last segment where that falls, wherever
// that sum is positive, and holds where it is not (RooflineGrowth::LogGrowthBetween): a
// saturation fit levels off where the measurements stop, long before a curve does that is still
// far from its physical ceiling, while a stack that levels off early shows it as falling
// efficiency (docs/METHOD.md §1, "Past the last measured batch").
//
// A single point with a roofline follows it both ways at the point's efficiency, where without
// one it would be a line through the origin below and flat above: one point has no slope of its
// own, and the roofline's is the physical one. A published maximum throughput (one point on the
// kMaxThroughput axis, at the stand-in batch kSaturationBatchSize unless its row names a batch)
// is where its curve levels off: it follows the roofline below and holds past it.
class AnchorCurve {
 public:
  // REQUIRES: curve.points is non-empty and sorted by batch size.
  explicit AnchorCurve(Curve curve);
  AnchorCurve(Curve curve, std::optional<SaturationCurve> fit);

  double ThroughputAt(double batch_size) const;
  // d log(thpt) / d log(batch) over the last measured segment; 0 for a single point.
  double LastSegmentSlope() const;

  const Curve& curve() const { return curve_; }
  const std::optional<SaturationCurve>& fit() const { return fit_; }
  // Not encoded: a model attaches it from its catalogue when it trains or loads
  // (AttachRooflines); an anchor built from a bare curve has none.
  const RooflineGrowth& roofline() const { return roofline_; }
  void AttachRoofline(RooflineGrowth roofline);
  int min_batch_size() const { return curve_.points.front().batch_size; }
  int max_batch_size() const { return curve_.points.back().batch_size; }

  // The curve and its fit as they are: a decoded anchor is not fitted again.
  void EncodeTo(ByteWriter& writer) const;
  static absl::StatusOr<AnchorCurve> DecodeFrom(ByteReader& reader);

 private:
  double ExtrapolateFrom(const CurvePoint& edge, double batch_size, double edge_slope) const;
  // A single point with a roofline (see the class comment).
  bool FollowsRooflineBelow() const;
  // Past the last point along the roofline; nullopt without one (efficiency_trend_ unset).
  std::optional<double> FollowRoofline(double batch_size) const;

  Curve curve_;
  std::optional<SaturationCurve> fit_;
  RooflineGrowth roofline_;
  // The fall of the curve's efficiency (measured / roofline) over its last segment, worked out
  // once with the roofline rather than at every batch asked past the last point; 0 for a single
  // point; unset without a roofline, for a published maximum or a degenerate last segment.
  std::optional<double> efficiency_trend_;
};

}  // namespace perfcast
