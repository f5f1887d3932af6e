#include "core/model/score_quantiles.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/util/byte_coding.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

std::vector<double> SomeQuantiles() {
  std::vector<double> scores;
  for (int i = 1; i <= 50; ++i) scores.push_back(0.01 * i);
  return ScoreQuantilesOf(scores);
}

TEST(ScoreQuantilesTest, WhatPutWroteReadsBack) {
  const std::vector<double> quantiles = SomeQuantiles();
  ByteWriter writer;
  PutScoreQuantiles(writer, 50, quantiles);
  PutScoreQuantiles(writer, 0, {});
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  int count = -1;
  std::vector<double> read;
  ASSERT_TRUE(GetScoreQuantiles(reader, 50, "test", count, read).ok());
  EXPECT_EQ(count, 50);
  EXPECT_EQ(read, quantiles);
  ASSERT_TRUE(GetScoreQuantiles(reader, 50, "test", count, read).ok());
  EXPECT_EQ(count, 0);
  EXPECT_TRUE(read.empty());
  EXPECT_TRUE(reader.empty());
}

TEST(ScoreQuantilesTest, ACountAboveTheBoundOrAQuantileNoScoreCanBeIsDataLoss) {
  ByteWriter writer;
  PutScoreQuantiles(writer, 50, SomeQuantiles());
  const std::string bytes = writer.Take();
  int count = 0;
  std::vector<double> read;
  {
    ByteReader reader(bytes);
    const absl::Status status = GetScoreQuantiles(reader, 49, "section", count, read);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(status.message(), "section: bad score count");
  }
  // Scores are absolute log errors: a negative or non-finite quantile is a corrupt bundle.
  for (double bad : {-0.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    std::string corrupt = bytes;
    std::memcpy(corrupt.data() + sizeof(uint32_t) + 100 * sizeof(double), &bad, sizeof bad);
    ByteReader reader(corrupt);
    const absl::Status status = GetScoreQuantiles(reader, 50, "section", count, read);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_EQ(status.message(), "section: bad score quantile") << bad;
  }
}

TEST(ScoreQuantilesTest, ReachesALevelWithEnoughScoresOnly) {
  EXPECT_FALSE(ReachesLevel(0, 0.9));
  EXPECT_FALSE(ReachesLevel(8, 0.9));  // 0.9 x 9 / 8 > 1
  EXPECT_TRUE(ReachesLevel(9, 0.9));   // 0.9 x 10 / 9 = 1
  EXPECT_TRUE(ReachesLevel(1, 0.5));
  EXPECT_FALSE(ReachesLevel(18, 0.95));  // 0.95 x 19 / 18 > 1
  EXPECT_TRUE(ReachesLevel(40, 0.95));
}

TEST(ScoreQuantilesTest, ACampaignsScoresSufficeFromTheMinimumAndTheLevelOn) {
  EXPECT_FALSE(CampaignScoresSuffice(kMinCampaignScores - 1, 0.5));
  EXPECT_TRUE(CampaignScoresSuffice(kMinCampaignScores, 0.9));
  EXPECT_FALSE(CampaignScoresSuffice(kMinCampaignScores, 0.99));  // 0.99 x 21 / 20 > 1
  EXPECT_TRUE(CampaignScoresSuffice(99, 0.99));                   // 0.99 x 100 / 99 = 1
}

}  // namespace
}  // namespace perfcast
