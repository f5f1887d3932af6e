#include "server/observability/curve_explorer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast::server {
namespace {

using ::testing::ElementsAre;

TEST(CurveExplorerTest, PredictsAtPowersOfTwoAndTheirMidpointsUpToTheLargestBatch) {
  EXPECT_THAT(ExplorerBatchSizes(16), ElementsAre(1, 2, 3, 4, 6, 8, 12, 16));
}

TEST(CurveExplorerTest, NeverPredictsAtMoreThanTheCapAllows) {
  const std::vector<int> sizes = ExplorerBatchSizes(1 << 20);

  EXPECT_EQ(sizes.back(), kMaxExplorerBatchSize);
  EXPECT_EQ(sizes.size(), 24u);
}

TEST(CurveExplorerTest, ASystemKeyNamesEveryFieldButTheCampaignAndTheAxis) {
  const Configuration configuration{
      "NVIDIA H100", 8, "vllm", "org/m", "fp8", "lab", BatchSemantics::kConcurrency};

  EXPECT_EQ(SystemKey(configuration), "NVIDIA H100 x8 | vllm | org/m | fp8");
}

TEST(CurveExplorerTest, WithoutAModelTheExplorerSaysSoAndRefusesACurve) {
  CurveRequest request;
  request.system = "NVIDIA H100 x8 | vllm | org/m | fp8";
  request.query.shape = {128, 128};

  const absl::StatusOr<std::string> page = RenderCurveExplorer(nullptr, std::nullopt);
  const absl::StatusOr<std::string> curve = RenderCurveExplorer(nullptr, request);

  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(*page, ::testing::HasSubstr("No model serves yet"));
  EXPECT_EQ(curve.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace perfcast::server
