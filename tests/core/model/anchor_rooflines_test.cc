// The roofline growth an anchor follows past its last measured batch (docs/METHOD.md §1).
#include "core/model/anchor_rooflines.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/catalogue/physical_features.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

Catalogue Shipped() {
  absl::StatusOr<Catalogue> catalogue =
      Catalogue::Load(std::string(PERFCAST_SOURCE_DIR) + "/data/catalogue");
  EXPECT_TRUE(catalogue.ok()) << catalogue.status();
  return *std::move(catalogue);
}

TEST(RooflineGrowthOfTest, GrowsUntilTheKvCacheIsFullThenHolds) {
  const Catalogue catalogue = Shipped();
  const Configuration configuration{"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};
  const Shape shape{1024, 1024};
  const RooflineGrowth growth = RooflineGrowthOf(catalogue, configuration, shape);
  ASSERT_FALSE(growth.empty());
  absl::StatusOr<ResolvedConfiguration> resolved = catalogue.Resolve(configuration);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  const double capacity = ComputePhysicalCeilings(*resolved, shape, 1).kv_cache_capacity_sequences;
  // An 8B model beside 80 GB holds a few hundred sequences of 2,048 tokens.
  ASSERT_GT(capacity, 64);
  ASSERT_LT(capacity, 4096);
  EXPECT_DOUBLE_EQ(
      growth.LogThroughputAt(64),
      std::log(ComputePhysicalCeilings(*resolved, shape, 64).roofline_output_tokens_per_s));
  EXPECT_LT(growth.LogThroughputAt(32), growth.LogThroughputAt(64));
  const double at_capacity =
      std::log(ComputePhysicalCeilings(*resolved, shape, capacity).roofline_output_tokens_per_s);
  EXPECT_DOUBLE_EQ(growth.LogThroughputAt(4096), at_capacity);
  EXPECT_DOUBLE_EQ(growth.LogThroughputAt(65536), at_capacity);
}

TEST(RooflineGrowthOfTest, NoneWhereTheWeightsAloneExceedTheMemoryOrTheNamesAreUnknown) {
  const Catalogue catalogue = Shipped();
  // 70B parameters in fp16 are 140 GB: more than one 80 GB GPU holds.
  EXPECT_TRUE(RooflineGrowthOf(catalogue,
                               {"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-70B", "fp16"},
                               {128, 128})
                  .empty());
  EXPECT_FALSE(RooflineGrowthOf(catalogue,
                                {"NVIDIA H100", 4, "vllm", "meta-llama/Meta-Llama-3-70B", "fp16"},
                                {128, 128})
                   .empty());
  EXPECT_TRUE(RooflineGrowthOf(catalogue, {"gpu-nobody-made", 1, "vllm", "org/model-7b", "fp16"},
                               {128, 128})
                  .empty());
}

TEST(AttachRooflinesTest, EveryAnchorGetsItsOwnAndNoneWithoutACatalogue) {
  const Catalogue catalogue = Shipped();
  Curve known{{"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"},
              {1024, 1024},
              {{1, 100}, {8, 700}}};
  Curve unknown{
      {"gpu-nobody-made", 1, "vllm", "org/model-7b", "fp16"}, {128, 128}, {{1, 100}, {8, 700}}};
  std::vector<AnchorCurve> anchors = {AnchorCurve(known), AnchorCurve(unknown)};
  AttachRooflines(nullptr, absl::MakeSpan(anchors));
  EXPECT_TRUE(anchors[0].roofline().empty());
  AttachRooflines(&catalogue, absl::MakeSpan(anchors));
  ASSERT_FALSE(anchors[0].roofline().empty());
  EXPECT_DOUBLE_EQ(
      anchors[0].roofline().LogThroughputAt(256),
      RooflineGrowthOf(catalogue, known.configuration, known.shape).LogThroughputAt(256));
  EXPECT_TRUE(anchors[1].roofline().empty());
}

TEST(AttachRooflinesTest, CurvesOfTwoPointsOrMoreLeavesOnePointCurvesWithout) {
  const Catalogue catalogue = Shipped();
  Configuration published{"NVIDIA H100", 1, "tensorrt-llm", "meta-llama/Meta-Llama-3-8B", "fp16"};
  published.batch_semantics = BatchSemantics::kMaxThroughput;
  Curve maximum{published, {128, 128}, {{kSaturationBatchSize, 20000}}};
  Curve sweep{{"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"},
              {128, 128},
              {{1, 100}, {8, 700}}};
  std::vector<AnchorCurve> anchors = {AnchorCurve(maximum), AnchorCurve(sweep)};
  AttachRooflines(&catalogue, absl::MakeSpan(anchors), RooflineReach::kCurvesOfTwoPointsOrMore);
  EXPECT_TRUE(anchors[0].roofline().empty());
  EXPECT_FALSE(anchors[1].roofline().empty());
  AttachRooflines(&catalogue, absl::MakeSpan(anchors));
  EXPECT_FALSE(anchors[0].roofline().empty());
  EXPECT_GT(anchors[0].ThroughputAt(16), AnchorCurve(maximum).ThroughputAt(16));
}

}  // namespace
}  // namespace perfcast
