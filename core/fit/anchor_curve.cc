#include "core/fit/anchor_curve.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/util/status_macros.h"

namespace perfcast {
namespace {

double Slope(const CurvePoint& from, const CurvePoint& to) {
  return std::log(to.throughput_tokens_per_s / from.throughput_tokens_per_s) /
         std::log(static_cast<double>(to.batch_size) / from.batch_size);
}

std::optional<SaturationCurve> UsableFit(const Curve& curve) {
  absl::StatusOr<CurveFit> fit = FitSaturationCurve(curve.points);
  if (!fit.ok() || fit->curve.c <= 0) return std::nullopt;
  return fit->curve;
}

}  // namespace

AnchorCurve::AnchorCurve(Curve curve) : curve_(std::move(curve)), fit_(UsableFit(curve_)) {}

AnchorCurve::AnchorCurve(Curve curve, std::optional<SaturationCurve> fit)
    : curve_(std::move(curve)), fit_(fit) {}

void AnchorCurve::EncodeTo(ByteWriter& writer) const {
  curve_.EncodeTo(writer);
  writer.PutU32(fit_.has_value());
  if (fit_.has_value()) {
    writer.PutDouble(fit_->a);
    writer.PutDouble(fit_->b);
    writer.PutDouble(fit_->c);
  }
}

absl::StatusOr<AnchorCurve> AnchorCurve::DecodeFrom(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(Curve curve, Curve::DecodeFrom(reader));
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t has_fit, reader.GetU32());
  std::optional<SaturationCurve> fit;
  if (has_fit != 0) {
    SaturationCurve saturation;
    PERFCAST_ASSIGN_OR_RETURN(saturation.a, reader.GetDouble());
    PERFCAST_ASSIGN_OR_RETURN(saturation.b, reader.GetDouble());
    PERFCAST_ASSIGN_OR_RETURN(saturation.c, reader.GetDouble());
    fit = saturation;
  }
  return AnchorCurve(std::move(curve), fit);
}

double AnchorCurve::LastSegmentSlope() const {
  const auto& points = curve_.points;
  if (points.size() < 2) return 0;
  return Slope(points[points.size() - 2], points.back());
}

double AnchorCurve::ExtrapolateFrom(const CurvePoint& edge, double batch_size,
                                    double edge_slope) const {
  if (fit_.has_value()) {
    const double at_edge = fit_->ThroughputAt(edge.batch_size);
    const double at_batch = fit_->ThroughputAt(batch_size);
    if (at_edge > 0 && at_batch > 0) return edge.throughput_tokens_per_s * at_batch / at_edge;
  }
  // Throughput neither falls nor grows faster than the batch when more sequences share a step.
  const double slope = std::clamp(edge_slope, 0.0, 1.0);
  return edge.throughput_tokens_per_s * std::pow(batch_size / edge.batch_size, slope);
}

void AnchorCurve::AttachRoofline(RooflineGrowth roofline) {
  roofline_ = std::move(roofline);
  efficiency_trend_.reset();
  const auto& points = curve_.points;
  if (roofline_.empty()) return;
  if (points.size() < 2) {
    // One point has no slope to tell a trend by: it follows the roofline at its own efficiency.
    // A published maximum is where its curve levels off, so it holds past it instead.
    if (curve_.configuration.batch_semantics != BatchSemantics::kMaxThroughput) {
      efficiency_trend_ = 0;
    }
    return;
  }
  const CurvePoint& before = points[points.size() - 2];
  const CurvePoint& edge = points.back();
  const double physical_slope =
      (roofline_.LogThroughputAt(edge.batch_size) - roofline_.LogThroughputAt(before.batch_size)) /
      std::log(static_cast<double>(edge.batch_size) / before.batch_size);
  const double measured_slope = LastSegmentSlope();
  if (!std::isfinite(physical_slope) || !std::isfinite(measured_slope)) return;
  // A stack that levels off before its ceiling does shows it as efficiency falling at its last
  // points; one whose efficiency rises there is not assumed to keep gaining on the ceiling.
  efficiency_trend_ = std::min(0.0, measured_slope - physical_slope);
}

std::optional<double> AnchorCurve::FollowRoofline(double batch_size) const {
  if (!efficiency_trend_.has_value()) return std::nullopt;
  const CurvePoint& edge = curve_.points.back();
  return edge.throughput_tokens_per_s *
         std::exp(roofline_.LogGrowthBetween(edge.batch_size, batch_size, *efficiency_trend_));
}

bool AnchorCurve::FollowsRooflineBelow() const {
  return !roofline_.empty() && curve_.points.size() == 1;
}

double AnchorCurve::ThroughputAt(double batch_size) const {
  const auto& points = curve_.points;
  if (batch_size <= points.front().batch_size) {
    if (FollowsRooflineBelow() && batch_size < points.front().batch_size) {
      return points.front().throughput_tokens_per_s /
             std::exp(roofline_.LogGrowthBetween(batch_size, points.front().batch_size, 0));
    }
    const double slope = points.size() < 2 ? 1.0 : Slope(points[0], points[1]);
    return ExtrapolateFrom(points.front(), batch_size, slope);
  }
  if (batch_size >= points.back().batch_size) {
    if (batch_size > points.back().batch_size) {
      if (const std::optional<double> followed = FollowRoofline(batch_size)) return *followed;
    }
    return ExtrapolateFrom(points.back(), batch_size, LastSegmentSlope());
  }
  auto upper = std::lower_bound(
      points.begin(), points.end(), batch_size,
      [](const CurvePoint& point, double batch) { return point.batch_size < batch; });
  const CurvePoint& hi = *upper;
  if (hi.batch_size == batch_size) return hi.throughput_tokens_per_s;
  const CurvePoint& lo = *(upper - 1);
  const double t = std::log(batch_size / lo.batch_size) /
                   std::log(static_cast<double>(hi.batch_size) / lo.batch_size);
  return std::exp((1 - t) * std::log(lo.throughput_tokens_per_s) +
                  t * std::log(hi.throughput_tokens_per_s));
}

}  // namespace perfcast
