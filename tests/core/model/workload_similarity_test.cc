#include "core/model/workload_similarity.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace perfcast {
namespace {

const Configuration kA{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
const Configuration kB{"gpu-b", 2, "vllm", "org/model-7b", "fp16"};

AnchorCurve CurveOf(const Configuration& configuration, Shape shape) {
  Curve curve{configuration, shape, {}};
  for (int batch : {1, 4, 16, 64}) curve.points.push_back({batch, 100.0 * batch});
  return AnchorCurve(std::move(curve));
}

class WorkloadSimilarityTest : public ::testing::Test {
 protected:
  WorkloadSimilarityTest()
      : anchors_({CurveOf(kA, {128, 128}), CurveOf(kA, {1024, 256}), CurveOf(kB, {128, 128})}),
        similarity_(anchors_, WorkloadSimilarity::ScalesOf(anchors_)) {}

  std::vector<AnchorCurve> anchors_;
  WorkloadSimilarity similarity_;
};

TEST_F(WorkloadSimilarityTest, APointIsAtDistanceZeroFromItself) {
  EXPECT_EQ(similarity_.Distance(kA, {128, 128}, 16, kA, {128, 128}, 16), 0);
  EXPECT_GT(similarity_.Distance(kA, {128, 128}, 16, kA, {128, 128}, 32), 0);
}

TEST_F(WorkloadSimilarityTest, AMeasuredPointHasANeighbourAtDistanceZero) {
  const Neighbourhood around = similarity_.Around(kA, {128, 128}, 16, Unobserved{});
  EXPECT_EQ(around.nearest_point_distance, 0);
  EXPECT_EQ(around.nearest_same_configuration_distance, 0);
  EXPECT_EQ(around.configuration_curve_count, 2);
}

TEST_F(WorkloadSimilarityTest, EachConfigurationMismatchAddsAUnit) {
  const double gpus = std::abs(std::log2(2.0)) / similarity_.scales().log2_gpus;
  EXPECT_NEAR(similarity_.Distance(kA, {128, 128}, 16, kB, {128, 128}, 16),
              std::sqrt(1 + gpus * gpus), 1e-12);
}

TEST_F(WorkloadSimilarityTest, UnobservedDataIsLeftOut) {
  const Neighbourhood without_curve =
      similarity_.Around(kA, {128, 128}, 16, Unobserved{.curve = 0});
  EXPECT_GT(without_curve.nearest_same_configuration_distance, 0);
  EXPECT_EQ(without_curve.configuration_curve_count, 1);

  const Neighbourhood smaller_half =
      similarity_.Around(kA, {128, 128}, 64, Unobserved{.curve = 0, .kept_points = 2});
  EXPECT_NEAR(smaller_half.nearest_same_configuration_distance,
              std::log2(64.0 / 4) / similarity_.scales().log2_batch_size, 1e-12);

  const Neighbourhood new_configuration =
      similarity_.Around(kA, {128, 128}, 16, Unobserved{.configuration = true});
  EXPECT_TRUE(std::isnan(new_configuration.nearest_same_configuration_distance));
  EXPECT_EQ(new_configuration.configuration_curve_count, 0);
  EXPECT_GT(new_configuration.nearest_point_distance, 0);
}

TEST_F(WorkloadSimilarityTest, NearestCurvesStartWithTheQueryCurve) {
  const std::vector<NeighborCurve> nearest = similarity_.NearestCurves(kA, {128, 128}, 2);
  ASSERT_EQ(nearest.size(), 2u);
  EXPECT_EQ(nearest[0].configuration, kA);
  EXPECT_EQ(nearest[0].shape, (Shape{128, 128}));
  EXPECT_EQ(nearest[0].distance, 0);
  EXPECT_GT(nearest[1].distance, 0);
}

TEST(WorkloadScalesTest, RoundTrip) {
  const WorkloadScales scales{.log2_input_tokens = 1.5,
                              .log2_output_tokens = 2.5,
                              .log2_batch_size = 3.5,
                              .log2_gpus = 0.25};
  ByteWriter writer;
  scales.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::StatusOr<WorkloadScales> decoded = WorkloadScales::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->log2_input_tokens, 1.5);
  EXPECT_EQ(decoded->log2_output_tokens, 2.5);
  EXPECT_EQ(decoded->log2_batch_size, 3.5);
  EXPECT_EQ(decoded->log2_gpus, 0.25);
  EXPECT_TRUE(reader.empty());
}

TEST(WorkloadScalesTest, AScaleThatIsNotPositiveIsDataLoss) {
  ByteWriter writer;
  WorkloadScales{.log2_batch_size = 0}.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::Status status = WorkloadScales::DecodeFrom(reader).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "bundle: a similarity scale is not positive");
}

}  // namespace
}  // namespace perfcast
