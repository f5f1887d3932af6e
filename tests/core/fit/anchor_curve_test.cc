#include "core/fit/anchor_curve.h"

#include <cmath>
#include <optional>
#include <string>

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

}  // namespace
}  // namespace perfcast
