#include "core/model/training_rows.h"

#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "core/catalogue/catalogue.h"
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

TEST(TruncatedTest, KeepsTheFirstPointsTheCurvesIdentityAndItsRoofline) {
  AnchorCurve anchor(CurveOf({1, 2, 4, 8}));
  std::vector<double> linear;
  for (int k = 0; k <= RooflineGrowth::kDoublings; ++k) linear.push_back(k * std::log(2.0));
  anchor.AttachRoofline(RooflineGrowth(linear));
  const AnchorCurve truncated = Truncated(anchor, 2);
  EXPECT_EQ(truncated.curve().configuration, anchor.curve().configuration);
  EXPECT_EQ(truncated.curve().shape, anchor.curve().shape);
  ASSERT_EQ(truncated.curve().points.size(), 2u);
  EXPECT_EQ(truncated.curve().points[1].batch_size, 2);
  // Its larger batches are predicted as the whole anchor's are: along the roofline.
  ASSERT_FALSE(truncated.roofline().empty());
  EXPECT_DOUBLE_EQ(truncated.roofline().LogThroughputAt(64), 6 * std::log(2.0));
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

TEST(RowBuilderTest, TheShapesExponentIsFittedWithinAConfigurationAndTakenOutOfTheTargets) {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  const Configuration h100{"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};
  const TransferFeatures features(FeatureVocabulary::FromConfigurations({h100}),
                                  std::make_shared<const Catalogue>(*std::move(catalogue)));
  const AnchorCurve anchor(Curve{h100, {128, 128}, {{1, 90}, {4, 330}, {16, 1100}, {64, 2900}}});
  // The long prompts' curve steps from the anchor by half the roofline's step, in log.
  Curve prompts{h100, {2048, 128}, {}};
  std::vector<float> row(features.column_count());
  for (const CurvePoint& point : anchor.curve().points) {
    const double step =
        features.Compute(h100, prompts.shape, anchor, false, point.batch_size, absl::MakeSpan(row))
            .shape_log_ratio;
    ASSERT_LT(step, 0);
    prompts.points.push_back(
        {point.batch_size, point.throughput_tokens_per_s * std::exp(0.5 * step)});
  }
  RowBuilder rows(features);
  rows.AddCurve(prompts, 0, anchor, false, 0);

  const PhysicalExponents exponents = rows.FitPhysicalExponents();

  ASSERT_TRUE(exponents.shape.has_value());
  EXPECT_NEAR(*exponents.shape, 0.5, 1e-6);
  EXPECT_EQ(exponents.same_hardware, 0);
  for (float value : rows.targets()) EXPECT_NEAR(value, 0, 1e-6);
}

}  // namespace
}  // namespace perfcast
