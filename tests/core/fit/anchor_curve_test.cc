#include "core/fit/anchor_curve.h"

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

Curve Saturating() {
  Curve curve{{"gpu-a", 1, "vllm", "org/model-7b", "fp16"}, {256, 256}, {}};
  for (int batch_size : {1, 2, 4, 8, 16, 32, 64}) {
    curve.points.push_back({batch_size, 3000 - 2900 * std::exp(-0.05 * batch_size)});
  }
  return curve;
}

AnchorCurve RoundTrip(const AnchorCurve& anchor) {
  ByteWriter writer;
  anchor.EncodeTo(writer);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  absl::StatusOr<AnchorCurve> decoded = AnchorCurve::DecodeFrom(reader);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(reader.empty());
  return *std::move(decoded);
}

// A reloaded model must extrapolate exactly as the trained one: the fit travels, it is not redone.
TEST(AnchorCurveCodingTest, KeepsTheFitAsItWas) {
  const SaturationCurve stored{.a = 1000, .b = 0.01, .c = 5000};
  const AnchorCurve decoded = RoundTrip(AnchorCurve(Saturating(), stored));
  ASSERT_TRUE(decoded.fit().has_value());
  EXPECT_EQ(decoded.fit()->a, 1000);
  EXPECT_EQ(decoded.fit()->b, 0.01);
  EXPECT_EQ(decoded.fit()->c, 5000);
  EXPECT_EQ(decoded.curve().points.size(), Saturating().points.size());
}

TEST(AnchorCurveCodingTest, KeepsTheAbsenceOfAFit) {
  const AnchorCurve decoded = RoundTrip(AnchorCurve(Saturating(), std::nullopt));
  EXPECT_FALSE(decoded.fit().has_value());
}

TEST(AnchorCurveCodingTest, ExtrapolatesAsBefore) {
  const AnchorCurve anchor(Saturating());
  const AnchorCurve decoded = RoundTrip(anchor);
  for (double batch_size : {0.5, 3.0, 64.0, 500.0}) {
    EXPECT_EQ(decoded.ThroughputAt(batch_size), anchor.ThroughputAt(batch_size));
  }
}

TEST(AnchorCurveCodingTest, ATruncatedFitIsDataLoss) {
  ByteWriter writer;
  AnchorCurve(Saturating(), SaturationCurve{.a = 1, .b = 1, .c = 1}).EncodeTo(writer);
  std::string bytes = writer.Take();
  bytes.resize(bytes.size() - 8);

  ByteReader reader(bytes);
  EXPECT_EQ(AnchorCurve::DecodeFrom(reader).status().code(), absl::StatusCode::kDataLoss);
}

// A roofline that grows as b / (1 + b / 256): nearly linear at first, level past a few hundred.
RooflineGrowth LevellingRoofline() {
  std::vector<double> log_throughput;
  for (int k = 0; k <= RooflineGrowth::kDoublings; ++k) {
    const double batch = std::ldexp(1.0, k);
    log_throughput.push_back(std::log(1000 * batch / (1 + batch / 256)));
  }
  return RooflineGrowth(std::move(log_throughput));
}

double Roofline(double batch) { return std::exp(LevellingRoofline().LogThroughputAt(batch)); }

// Measured at 1-16, at `efficiency` times the roofline, then at `last_efficiency` at 32.
AnchorCurve AlongTheRoofline(double efficiency, double last_efficiency) {
  Curve curve{{"gpu-a", 1, "vllm", "org/model-7b", "fp16"}, {256, 256}, {}};
  for (int batch_size : {1, 2, 4, 8, 16}) {
    curve.points.push_back({batch_size, efficiency * Roofline(batch_size)});
  }
  curve.points.push_back({32, last_efficiency * Roofline(32)});
  AnchorCurve anchor(std::move(curve));
  anchor.AttachRoofline(LevellingRoofline());
  return anchor;
}

TEST(RooflineGrowthTest, ReadsALogLogLineBetweenDoublingsAndHoldsPastTheLast) {
  const RooflineGrowth growth = LevellingRoofline();
  EXPECT_DOUBLE_EQ(growth.LogThroughputAt(64), std::log(1000 * 64 / (1 + 64.0 / 256)));
  EXPECT_NEAR(growth.LogThroughputAt(std::sqrt(2.0) * 64),
              (growth.LogThroughputAt(64) + growth.LogThroughputAt(128)) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(growth.LogThroughputAt(1 << 20), growth.LogThroughputAt(1 << 16));
  EXPECT_DOUBLE_EQ(growth.LogThroughputAt(0.5), growth.LogThroughputAt(1));
  EXPECT_DOUBLE_EQ(growth.LogThroughputAt(std::nan("")), growth.LogThroughputAt(1));
  EXPECT_TRUE(RooflineGrowth({1.0, 2.0}).empty());
  std::vector<double> with_a_gap(RooflineGrowth::kDoublings + 1, 1.0);
  with_a_gap[3] = std::nan("");
  EXPECT_TRUE(RooflineGrowth(with_a_gap).empty());
}

TEST(RooflineGrowthTest, GrowsWhereTheRooflineOutgrowsTheTrendAndHoldsWhereNot) {
  // Doubling the throughput up to 2^4, flat after.
  std::vector<double> log_throughput;
  for (int k = 0; k <= RooflineGrowth::kDoublings; ++k) {
    log_throughput.push_back(std::min(k, 4) * std::log(2.0));
  }
  const RooflineGrowth growth(log_throughput);
  EXPECT_NEAR(growth.LogGrowthBetween(2, 8, 0), 2 * std::log(2.0), 1e-12);
  // A trend of -0.25 per log-batch unit takes a quarter of each doubling's growth.
  EXPECT_NEAR(growth.LogGrowthBetween(2, 8, -0.25), 2 * 0.75 * std::log(2.0), 1e-12);
  // Past 16 the roofline is flat: nothing more, and nothing taken back.
  EXPECT_NEAR(growth.LogGrowthBetween(2, 4096, -0.25), 3 * 0.75 * std::log(2.0), 1e-12);
  EXPECT_NEAR(growth.LogGrowthBetween(2, 1 << 20, -0.25), 3 * 0.75 * std::log(2.0), 1e-12);
  // A trend steeper than the roofline's growth: the throughput holds.
  EXPECT_DOUBLE_EQ(growth.LogGrowthBetween(2, 4096, -2), 0);
  // Ends between doublings read the partial segments.
  EXPECT_NEAR(growth.LogGrowthBetween(3, 12, 0), std::log(12.0 / 3.0), 1e-12);
  EXPECT_NEAR(growth.LogGrowthBetween(3, 12, -0.25), 0.75 * std::log(12.0 / 3.0), 1e-12);
  EXPECT_NEAR(growth.LogGrowthBetween(12, 48, 0), std::log(16.0 / 12.0), 1e-12);
}

TEST(AnchorCurveRooflineTest, PastTheLastPointFollowsTheRooflineWhereEfficiencyHolds) {
  const AnchorCurve anchor = AlongTheRoofline(0.4, 0.4);
  for (int batch_size : {64, 256, 1536, 8192}) {
    EXPECT_NEAR(anchor.ThroughputAt(batch_size), 0.4 * Roofline(batch_size),
                1e-9 * Roofline(batch_size))
        << batch_size;
  }
}

TEST(AnchorCurveRooflineTest, CarriesAFallingEfficiencyOnWhileTheRooflineOutgrowsIt) {
  // Efficiency 0.4 up to 16, then 0.3 at 32: its trend over the last doubling goes on.
  const AnchorCurve anchor = AlongTheRoofline(0.4, 0.3);
  const double trend = std::log(0.3 / 0.4) / std::log(2.0);
  const double last = 0.3 * Roofline(32);
  for (int batch_size : {64, 128, 256}) {
    EXPECT_NEAR(anchor.ThroughputAt(batch_size),
                last * Roofline(batch_size) / Roofline(32) * std::pow(batch_size / 32.0, trend),
                1e-9 * last)
        << batch_size;
  }
  // Past 256 the roofline grows by no more than the efficiency falls: the throughput holds there,
  // neither sinking back towards the last point nor growing.
  double previous = last;
  for (double batch_size = 32; batch_size <= 131072; batch_size *= 1.5) {
    EXPECT_GE(anchor.ThroughputAt(batch_size), previous) << batch_size;
    previous = anchor.ThroughputAt(batch_size);
  }
  EXPECT_NEAR(anchor.ThroughputAt(65536), anchor.ThroughputAt(256), 1e-9 * last);
  EXPECT_GT(anchor.ThroughputAt(256), anchor.ThroughputAt(128));
}

TEST(AnchorCurveRooflineTest, ARisingEfficiencyIsNotCarriedOn) {
  const AnchorCurve anchor = AlongTheRoofline(0.4, 0.5);
  EXPECT_NEAR(anchor.ThroughputAt(256), 0.5 * Roofline(256), 1e-9 * Roofline(256));
}

TEST(AnchorCurveRooflineTest, LeavesTheMeasuredRangeAndTheSmallerBatchesAsTheyWere) {
  const AnchorCurve anchor = AlongTheRoofline(0.4, 0.3);
  const AnchorCurve fitted_only(anchor.curve());
  for (double batch_size : {0.5, 1.0, 3.0, 16.0, 24.0, 32.0}) {
    EXPECT_DOUBLE_EQ(anchor.ThroughputAt(batch_size), fitted_only.ThroughputAt(batch_size))
        << batch_size;
  }
}

TEST(AnchorCurveRooflineTest, ASinglePointFollowsTheRooflineBothWaysAtItsEfficiency) {
  Curve curve{{"gpu-a", 1, "vllm", "org/model-7b", "fp16"}, {256, 256}, {{8, 0.3 * Roofline(8)}}};
  const AnchorCurve bare(curve);
  AnchorCurve anchor(curve);
  anchor.AttachRoofline(LevellingRoofline());
  for (double batch_size : {1.0, 3.0, 8.0, 64.0, 1536.0}) {
    EXPECT_NEAR(anchor.ThroughputAt(batch_size), 0.3 * Roofline(batch_size),
                1e-9 * Roofline(batch_size))
        << batch_size;
  }
  // Without a roofline: a line through the origin below the point, level above it.
  EXPECT_DOUBLE_EQ(bare.ThroughputAt(2), 0.3 * Roofline(8) / 4);
  EXPECT_DOUBLE_EQ(bare.ThroughputAt(64), 0.3 * Roofline(8));
}

TEST(AnchorCurveRooflineTest, APublishedMaximumFollowsTheRooflineDownAndHoldsPastIt) {
  Configuration published{"gpu-a", 1, "tensorrt-llm", "org/model-7b", "fp8"};
  published.batch_semantics = BatchSemantics::kMaxThroughput;
  const double maximum = 0.5 * Roofline(kSaturationBatchSize);
  AnchorCurve anchor(Curve{published, {128, 128}, {{kSaturationBatchSize, maximum}}});
  const AnchorCurve bare = anchor;
  anchor.AttachRoofline(LevellingRoofline());
  for (double batch_size : {1.0, 16.0, 100.0, 512.0}) {
    EXPECT_NEAR(anchor.ThroughputAt(batch_size), 0.5 * Roofline(batch_size),
                1e-9 * Roofline(batch_size))
        << batch_size;
    // Without a roofline: the straight line through the origin, far below it at small batches.
    EXPECT_LT(bare.ThroughputAt(batch_size), anchor.ThroughputAt(batch_size)) << batch_size;
  }
  EXPECT_DOUBLE_EQ(anchor.ThroughputAt(kSaturationBatchSize), maximum);
  EXPECT_DOUBLE_EQ(anchor.ThroughputAt(8192), maximum);
}

}  // namespace
}  // namespace perfcast
