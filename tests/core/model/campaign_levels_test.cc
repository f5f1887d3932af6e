#include "core/model/campaign_levels.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace perfcast {
namespace {

// `count` curves of `campaign` whose residuals scatter by +-0.05 around `level`.
void AddCurves(const std::string& campaign, double level, int count,
               std::vector<CampaignResidual>& out) {
  for (int i = 0; i < count; ++i) out.push_back({campaign, level + (i % 2 == 0 ? 0.05 : -0.05)});
}

TEST(CampaignLevelsTest, ManyCurvesGiveTheirMeanAndFewAreShrunkTowardsZero) {
  std::vector<CampaignResidual> residuals;
  AddCurves("high", 0.4, 40, residuals);
  AddCurves("low", -0.4, 40, residuals);
  AddCurves("middle", 0.0, 40, residuals);
  residuals.push_back({"one-curve", 0.4});
  const std::vector<std::string> campaigns = {"high", "low", "middle", "one-curve", "no-curve"};
  const CampaignLevels levels = CampaignLevels::Estimate(campaigns, residuals);

  EXPECT_NEAR(levels.LevelOf("high"), 0.4, 0.02);
  EXPECT_NEAR(levels.LevelOf("low"), -0.4, 0.02);
  EXPECT_GT(levels.LevelOf("one-curve"), 0.0);
  EXPECT_LT(levels.LevelOf("one-curve"), levels.LevelOf("high"));
  EXPECT_TRUE(levels.Knows("no-curve"));
  EXPECT_EQ(levels.LevelOf("no-curve"), 0.0);
  EXPECT_FALSE(levels.Knows("never-trained"));
  EXPECT_EQ(levels.LevelOf("never-trained"), 0.0);
}

TEST(CampaignLevelsTest, CampaignsThatDoNotDifferBeyondTheirNoiseAllGetZero) {
  std::vector<CampaignResidual> residuals;
  // Means +-0.01 apart with curves scattering by 0.3: nothing to tell the campaigns apart.
  for (int i = 0; i < 10; ++i) {
    residuals.push_back({"a", (i % 2 == 0 ? 0.3 : -0.3) + 0.01});
    residuals.push_back({"b", (i % 2 == 0 ? 0.3 : -0.3) - 0.01});
  }
  const std::vector<std::string> campaigns = {"a", "b"};
  const CampaignLevels levels = CampaignLevels::Estimate(campaigns, residuals);
  EXPECT_EQ(levels.LevelOf("a"), 0.0);
  EXPECT_EQ(levels.LevelOf("b"), 0.0);
}

TEST(CampaignLevelsTest, RoundTripsThroughItsEncoding) {
  std::vector<CampaignResidual> residuals;
  AddCurves("x", 0.3, 10, residuals);
  AddCurves("y", -0.2, 10, residuals);
  const std::vector<std::string> campaigns = {"x", "y", ""};
  const CampaignLevels levels = CampaignLevels::Estimate(campaigns, residuals);
  ByteWriter writer;
  levels.EncodeTo(writer);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  const absl::StatusOr<CampaignLevels> decoded = CampaignLevels::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->All(), levels.All());
  EXPECT_TRUE(decoded->Knows(""));
}

}  // namespace
}  // namespace perfcast
