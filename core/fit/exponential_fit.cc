#include "core/fit/exponential_fit.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ceres/ceres.h"
#include "core/util/percentile.h"

namespace perfcast {
namespace {

constexpr double kMinRate = 1e-5;
constexpr double kMaxRate = 1.0;
constexpr int kMaxIterations = 100;

// Parameter block layout: {a, b, c}, with a and c in units of the curve's largest throughput
// so that all three parameters and the residuals are of order one (Ceres's tolerances are
// absolute in parts, and a curve of 50 tokens/s must converge like one of 50,000).
enum Parameter { kA = 0, kB = 1, kC = 2 };

struct ScaledResidual {
  double batch_size;
  double scaled_throughput;  // throughput / max throughput

  template <typename T>
  bool operator()(const T* const p, T* residual) const {
    residual[0] = T(scaled_throughput) - (p[kC] - p[kA] * exp(-p[kB] * T(batch_size)));
    return true;
  }
};

std::array<double, 3> Feasible(double a, double b, double c) {
  auto finite_or = [](double v, double fallback) { return std::isfinite(v) ? v : fallback; };
  return {std::max(0.0, finite_or(a, 0.0)), std::clamp(finite_or(b, kMaxRate), kMinRate, kMaxRate),
          std::max(0.0, finite_or(c, 0.0))};
}

// Starting points in scaled units: the reference code's percentile start first, then starts
// that assume the curve has not saturated yet (c above every measurement) at several rates,
// because the percentile start lands in a poor basin on short or barely bending curves.
std::vector<std::array<double, 3>> StartingPoints(std::vector<double> batch_sizes,
                                                  std::vector<double> scaled_throughputs) {
  std::sort(batch_sizes.begin(), batch_sizes.end());
  std::sort(scaled_throughputs.begin(), scaled_throughputs.end());
  const double thpt_p10 = PercentileOfSorted(scaled_throughputs, 0.1);
  const double thpt_p90 = PercentileOfSorted(scaled_throughputs, 0.9);
  const double bb_spread =
      PercentileOfSorted(batch_sizes, 0.9) - PercentileOfSorted(batch_sizes, 0.1);

  std::vector<std::array<double, 3>> starts;
  starts.push_back(
      Feasible(thpt_p90 - thpt_p10, bb_spread > 0 ? 1 / bb_spread : kMaxRate, thpt_p90));
  const double c0 = 1.2 * scaled_throughputs.back();
  const double a0 = c0 - scaled_throughputs.front();
  for (double b0 : {1 / PercentileOfSorted(batch_sizes, 0.5), 0.01, 0.1}) {
    starts.push_back(Feasible(a0, b0, c0));
  }
  return starts;
}

}  // namespace

absl::StatusOr<CurveFit> FitSaturationCurve(absl::Span<const CurvePoint> points) {
  std::vector<double> batch_sizes;
  std::vector<double> throughputs;
  batch_sizes.reserve(points.size());
  throughputs.reserve(points.size());
  for (const CurvePoint& point : points) {
    if (!std::isfinite(point.throughput_tokens_per_s)) {
      return absl::FailedPreconditionError("non-finite input");
    }
    batch_sizes.push_back(point.batch_size);
    throughputs.push_back(point.throughput_tokens_per_s);
  }
  std::vector<double> distinct = batch_sizes;
  std::sort(distinct.begin(), distinct.end());
  const std::size_t distinct_count =
      std::unique(distinct.begin(), distinct.end()) - distinct.begin();
  if (distinct_count < 3) {
    return absl::FailedPreconditionError(
        absl::StrCat("need at least 3 distinct batch sizes, got ", distinct_count));
  }
  const auto [min_it, max_it] = std::minmax_element(throughputs.begin(), throughputs.end());
  const double min_thpt = *min_it;
  const double max_thpt = *max_it;
  if (min_thpt == max_thpt) return absl::FailedPreconditionError("flat curve");
  // Non-negative throughputs make max > 0 here; a curve that is negative somewhere still gets
  // a positive scale.
  const double scale = std::max(std::abs(max_thpt), std::abs(min_thpt));

  std::vector<double> scaled(throughputs.size());
  for (std::size_t i = 0; i < throughputs.size(); ++i) scaled[i] = throughputs[i] / scale;

  std::array<double, 3> p{};
  ceres::Problem problem;
  for (std::size_t i = 0; i < points.size(); ++i) {
    problem.AddResidualBlock(new ceres::AutoDiffCostFunction<ScaledResidual, 1, 3>(
                                 new ScaledResidual{batch_sizes[i], scaled[i]}),
                             nullptr, p.data());
  }
  problem.SetParameterLowerBound(p.data(), kA, 0.0);
  problem.SetParameterLowerBound(p.data(), kB, kMinRate);
  problem.SetParameterUpperBound(p.data(), kB, kMaxRate);
  problem.SetParameterLowerBound(p.data(), kC, 0.0);

  ceres::Solver::Options options;
  options.linear_solver_type = ceres::DENSE_QR;
  options.logging_type = ceres::SILENT;
  options.minimizer_progress_to_stdout = false;
  options.max_num_iterations = kMaxIterations;
  options.num_threads = 1;
  options.function_tolerance = 1e-12;
  options.parameter_tolerance = 1e-12;

  double best_cost = std::numeric_limits<double>::infinity();
  std::array<double, 3> best{};
  for (const std::array<double, 3>& start : StartingPoints(batch_sizes, scaled)) {
    p = start;
    ceres::Solver::Summary summary;
    ceres::Solve(options, &problem, &summary);
    if (summary.IsSolutionUsable() && std::isfinite(summary.final_cost) &&
        summary.final_cost < best_cost) {
      best_cost = summary.final_cost;
      best = p;
    }
  }
  if (!std::isfinite(best_cost)) {
    return absl::InternalError("curve fit failed from every starting point");
  }

  CurveFit fit;
  fit.curve = SaturationCurve{best[kA] * scale, best[kB], best[kC] * scale};
  double mean = 0;
  for (double t : throughputs) mean += t;
  mean /= static_cast<double>(throughputs.size());
  double ss_res = 0;
  double ss_tot = 0;
  for (std::size_t i = 0; i < throughputs.size(); ++i) {
    const double error = throughputs[i] - fit.curve.ThroughputAt(batch_sizes[i]);
    ss_res += error * error;
    ss_tot += (throughputs[i] - mean) * (throughputs[i] - mean);
  }
  fit.rmse_tokens_per_s = std::sqrt(ss_res / static_cast<double>(throughputs.size()));
  fit.r_squared = 1 - ss_res / ss_tot;
  return fit;
}

}  // namespace perfcast
