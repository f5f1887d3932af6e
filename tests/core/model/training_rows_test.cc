#include "core/model/training_rows.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace perfcast {
namespace {

Curve CurveOf(std::vector<int> batch_sizes) {
  Curve curve{{"gpu-a", 1, "vllm", "org/model-7b", "fp16"}, {256, 256}, {}};
  for (int batch_size : batch_sizes) curve.points.push_back({batch_size, 100.0 * batch_size});
  return curve;
}

TEST(LargerBatchSplitTest, CurvesOfFewerThanFourPointsAreNotSplit) {
  EXPECT_EQ(LargerBatchSplit(1), 1u);
  EXPECT_EQ(LargerBatchSplit(3), 3u);
}

TEST(LargerBatchSplitTest, TheSmallerHalfKeepsTheMiddlePoint) {
  EXPECT_EQ(LargerBatchSplit(4), 2u);
  EXPECT_EQ(LargerBatchSplit(5), 3u);
}

TEST(TruncatedTest, KeepsTheFirstPointsAndTheCurvesIdentity) {
  const Curve curve = CurveOf({1, 2, 4, 8});
  const Curve truncated = Truncated(curve, 2);
  EXPECT_EQ(truncated.configuration, curve.configuration);
  EXPECT_EQ(truncated.shape, curve.shape);
  ASSERT_EQ(truncated.points.size(), 2u);
  EXPECT_EQ(truncated.points[1].batch_size, 2);
}

TEST(RowBuilderTest, ARowPerPointFromTheFirstAndATargetOfTheLogRatio) {
  const TransferFeatures features(
      FeatureVocabulary::FromConfigurations({{"gpu-a", 1, "vllm", "org/model-7b", "fp16"}}),
      nullptr);
  const Curve target = CurveOf({1, 2, 4, 8});
  Curve doubled = target;
  for (CurvePoint& point : doubled.points) point.throughput_tokens_per_s *= 2;
  const AnchorCurve anchor(doubled);
  RowBuilder rows(features);

  rows.AddCurve(target, 5, anchor, false, 1);

  ASSERT_EQ(rows.targets().size(), 3u);
  for (float value : rows.targets()) EXPECT_NEAR(value, std::log(0.5), 1e-6);
  EXPECT_EQ(rows.target_curves(), std::vector<int>(3, 5));
  const PhysicalExponents exponents = rows.FitPhysicalExponents();
  EXPECT_EQ(exponents.same_hardware, 0);
  EXPECT_EQ(rows.TakeMatrix().row_count(), 3);
}

}  // namespace
}  // namespace perfcast
