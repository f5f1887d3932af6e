#include "core/report/throughput_chart.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;

PredictionQuery Query(const std::string& campaign) {
  PredictionQuery query;
  query.configuration = {"NVIDIA H100", 2, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16", campaign};
  query.shape = {1000, 500};
  return query;
}

PointPrediction Point(int batch, double throughput, MemoryVerdict verdict = MemoryVerdict::kFits) {
  PointPrediction p;
  p.batch_size = batch;
  p.throughput_tokens_per_s = throughput;
  p.lower_tokens_per_s = throughput * 0.8;
  p.upper_tokens_per_s = throughput * 1.25;
  p.memory.verdict = verdict;
  return p;
}

TEST(ThroughputChartTest, PutsThePredictionInOneCurveAndOneBandOverALogBatchAxis) {
  const std::vector<PointPrediction> predicted = {Point(1, 100), Point(4, 380), Point(16, 1200)};
  const Chart chart = ThroughputChart(Query(""), predicted, 0.9, {});
  ASSERT_EQ(chart.lines.size(), 1u);
  ASSERT_EQ(chart.bands.size(), 1u);
  EXPECT_EQ(chart.lines[0].points.size(), 3u);
  EXPECT_DOUBLE_EQ(chart.bands[0].points[2].upper, 1500);
  EXPECT_EQ(chart.bands[0].name, "90% interval");
  EXPECT_EQ(chart.x_axis.scale, AxisScale::kLog2);
  EXPECT_EQ(chart.title, "NVIDIA H100 x2 | vllm | meta-llama/Meta-Llama-3-8B | fp16");
  EXPECT_THAT(chart.subtitle, HasSubstr("1000 input / 500 output tokens"));
  EXPECT_THAT(chart.subtitle, HasSubstr("population of campaigns"));
}

TEST(ThroughputChartTest, LeavesOutPointsThatDoNotFitInMemory) {
  const std::vector<PointPrediction> predicted = {Point(1, 100),
                                                  Point(512, 0, MemoryVerdict::kDoesNotFit)};
  const Chart chart = ThroughputChart(Query(""), predicted, 0.9, {});
  EXPECT_EQ(chart.lines[0].points.size(), 1u);
  EXPECT_EQ(chart.bands[0].points.size(), 1u);
}

TEST(ThroughputChartTest, GivesEachMeasuredCampaignItsOwnPointSeries) {
  Curve a{Query("argonne").configuration, {1000, 500}, {{1, 99}, {8, 700}}};
  Curve b{Query("").configuration, {1000, 500}, {{2, 210}}};
  const Chart chart = ThroughputChart(Query("argonne"), {Point(1, 100)}, 0.8, {a, b});
  ASSERT_EQ(chart.markers.size(), 2u);
  EXPECT_EQ(chart.markers[0].name, "measured, argonne");
  EXPECT_EQ(chart.markers[0].points.size(), 2u);
  EXPECT_EQ(chart.markers[1].name, "measured, unnamed campaign");
  EXPECT_THAT(chart.subtitle, HasSubstr("campaign argonne"));
  EXPECT_EQ(chart.bands[0].name, "80% interval");
}

}  // namespace
}  // namespace perfcast
