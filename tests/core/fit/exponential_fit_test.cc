#include "core/fit/exponential_fit.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

constexpr int kBatchSizes[] = {1, 2, 4, 8, 16, 32, 64, 128};

// Points of `curve` at kBatchSizes, each multiplied by (1 + relative_noise * N(0, 1)).
std::vector<CurvePoint> Sample(const SaturationCurve& curve, double relative_noise, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<CurvePoint> points;
  for (int batch_size : kBatchSizes) {
    points.push_back(
        {batch_size, curve.ThroughputAt(batch_size) * (1 + relative_noise * normal(rng))});
  }
  return points;
}

void ExpectStatus(absl::Span<const CurvePoint> points, const std::string& message) {
  const absl::StatusOr<CurveFit> fit = FitSaturationCurve(points);
  EXPECT_EQ(fit.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fit.status().message(), message);
}

struct RecoveryCase {
  const char* name;
  SaturationCurve truth;
  // Allowed relative errors of a, b and c under 2% noise.
  double a_tolerance;
  double b_tolerance;
  double c_tolerance;
};

class RecoversParametersTest : public ::testing::TestWithParam<RecoveryCase> {};

TEST_P(RecoversParametersTest, FromExactData) {
  const SaturationCurve& truth = GetParam().truth;
  const absl::StatusOr<CurveFit> fit = FitSaturationCurve(Sample(truth, 0.0, 0));
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_NEAR(fit->curve.a, truth.a, 1e-3 * truth.a);
  EXPECT_NEAR(fit->curve.b, truth.b, 1e-3 * truth.b);
  EXPECT_NEAR(fit->curve.c, truth.c, 1e-3 * truth.c);
  EXPECT_GT(fit->r_squared, 0.999);
  EXPECT_LT(fit->rmse_tokens_per_s, 1e-3 * truth.c);
}

TEST_P(RecoversParametersTest, FromDataWithTwoPercentNoise) {
  const RecoveryCase& param = GetParam();
  const SaturationCurve& truth = param.truth;
  for (unsigned seed = 1; seed <= 5; ++seed) {
    const absl::StatusOr<CurveFit> fit = FitSaturationCurve(Sample(truth, 0.02, seed));
    ASSERT_TRUE(fit.ok()) << fit.status();
    EXPECT_NEAR(fit->curve.a, truth.a, param.a_tolerance * truth.a) << "seed " << seed;
    EXPECT_NEAR(fit->curve.b, truth.b, param.b_tolerance * truth.b) << "seed " << seed;
    EXPECT_NEAR(fit->curve.c, truth.c, param.c_tolerance * truth.c) << "seed " << seed;
    EXPECT_GT(fit->r_squared, 0.98) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(
    ParameterSets, RecoversParametersTest,
    ::testing::Values(
        // Saturates around batch 64: the typical single-GPU decode curve.
        RecoveryCase{"Typical", {1000, 0.05, 1000}, 0.1, 0.2, 0.06},
        // Large throughput, slow saturation, a < c (positive throughput at batch 0).
        RecoveryCase{"LargeAndSlow", {40000, 0.02, 50000}, 0.15, 0.3, 0.12},
        // Fast saturation by batch 16.
        RecoveryCase{"FastSaturation", {300, 0.25, 320}, 0.1, 0.3, 0.05},
        // Small numbers: conditioning must not depend on the throughput scale.
        RecoveryCase{"SmallThroughput", {12, 0.1, 15}, 0.1, 0.3, 0.06}),
    [](const ::testing::TestParamInfo<RecoveryCase>& info) { return info.param.name; });

TEST(FitSaturationCurveTest, ReportsGoodnessOfFitInTokensPerSecond) {
  const SaturationCurve truth{1000, 0.05, 1000};
  const std::vector<CurvePoint> points = Sample(truth, 0.02, 7);
  const absl::StatusOr<CurveFit> fit = FitSaturationCurve(points);
  ASSERT_TRUE(fit.ok()) << fit.status();
  double ss_res = 0;
  for (const CurvePoint& point : points) {
    const double error = point.throughput_tokens_per_s - fit->curve.ThroughputAt(point.batch_size);
    ss_res += error * error;
  }
  EXPECT_NEAR(fit->rmse_tokens_per_s, std::sqrt(ss_res / points.size()), 1e-9);
  EXPECT_GT(fit->rmse_tokens_per_s, 0);
  EXPECT_LT(fit->rmse_tokens_per_s, 0.05 * truth.c);
}

TEST(FitSaturationCurveTest, KeepsParametersWithinBounds) {
  // A straight line: the best fit wants b -> 0 and c -> infinity, so b lands on its bound.
  std::vector<CurvePoint> points;
  for (int batch_size : kBatchSizes) points.push_back({batch_size, 10.0 * batch_size});
  const absl::StatusOr<CurveFit> fit = FitSaturationCurve(points);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_GE(fit->curve.a, 0);
  EXPECT_GE(fit->curve.b, 1e-5);
  EXPECT_LE(fit->curve.b, 1);
  EXPECT_GE(fit->curve.c, 0);
}

TEST(FitSaturationCurveTest, IsDeterministic) {
  const std::vector<CurvePoint> points = Sample({500, 0.08, 600}, 0.02, 3);
  const absl::StatusOr<CurveFit> first = FitSaturationCurve(points);
  const absl::StatusOr<CurveFit> second = FitSaturationCurve(points);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->curve.a, second->curve.a);
  EXPECT_EQ(first->curve.b, second->curve.b);
  EXPECT_EQ(first->curve.c, second->curve.c);
}

TEST(FitSaturationCurveTest, FitsThreePoints) {
  const SaturationCurve truth{800, 0.1, 900};
  const std::vector<CurvePoint> points = {
      {1, truth.ThroughputAt(1)}, {8, truth.ThroughputAt(8)}, {32, truth.ThroughputAt(32)}};
  const absl::StatusOr<CurveFit> fit = FitSaturationCurve(points);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_GT(fit->r_squared, 0.999);
}

TEST(FitSaturationCurveTest, FailsWithFewerThanThreeDistinctBatchSizes) {
  ExpectStatus({{1, 100}, {2, 180}}, "need at least 3 distinct batch sizes, got 2");
  ExpectStatus({{1, 100}, {2, 180}, {2, 190}, {1, 110}},
               "need at least 3 distinct batch sizes, got 2");
  ExpectStatus({}, "need at least 3 distinct batch sizes, got 0");
}

TEST(FitSaturationCurveTest, FailsOnFlatCurve) {
  ExpectStatus({{1, 100}, {2, 100}, {4, 100}, {8, 100}}, "flat curve");
}

TEST(FitSaturationCurveTest, FailsOnNonFiniteInput) {
  ExpectStatus({{1, 100}, {2, std::numeric_limits<double>::quiet_NaN()}, {4, 300}},
               "non-finite input");
  ExpectStatus({{1, 100}, {2, 180}, {4, std::numeric_limits<double>::infinity()}},
               "non-finite input");
}

}  // namespace
}  // namespace perfcast
