#include "core/plan/operating_point.h"

#include <algorithm>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;

// A point whose throughput is `throughput` with bounds at +-`spread` (relative), and latencies
// consistent with it: TTFT grows with the batch.
PointPrediction Point(int batch_size, double throughput, double spread = 0.2) {
  PointPrediction p;
  p.batch_size = batch_size;
  p.throughput_tokens_per_s = throughput;
  p.lower_tokens_per_s = throughput * (1 - spread);
  p.upper_tokens_per_s = throughput * (1 + spread);
  p.memory.verdict = MemoryVerdict::kFits;
  p.latency_statistic = LatencyStatistic::kMean;
  p.ttft_s = 0.01 * batch_size;
  p.ttft_lower_s = p.ttft_s * (1 - spread);
  p.ttft_upper_s = p.ttft_s * (1 + spread);
  p.itl_s = 0.01;
  p.itl_lower_s = 0.008;
  p.itl_upper_s = 0.012;
  return p;
}

CandidateCurves OneShape(std::vector<PointPrediction> points, Shape shape = {100, 100}) {
  CandidateCurves curves;
  curves.shapes = {{shape, 1.0}};
  curves.points = {std::move(points)};
  return curves;
}

TEST(ChooseOperatingPointTest, FewestReplicasFromTheLowerBound) {
  // Lower bounds 80, 400, 800: a demand of 1000 needs 13, 3 and 2 replicas.
  const CandidateCurves curves = OneShape({Point(1, 100), Point(8, 500), Point(64, 1000)});
  auto choice = ChooseOperatingPoint(curves, {}, 1000, Judgement::kPessimisticBound, "bound");
  ASSERT_TRUE(std::holds_alternative<OperatingPoint>(choice));
  const OperatingPoint& point = std::get<OperatingPoint>(choice);
  EXPECT_EQ(point.batch_size, 64);
  EXPECT_EQ(point.replicas, 2);
  EXPECT_DOUBLE_EQ(point.tokens_per_s_per_replica, 800);
  // Judged by the point predictions, one replica is enough.
  auto optimistic = ChooseOperatingPoint(curves, {}, 1000, Judgement::kPointEstimate, "point");
  EXPECT_EQ(std::get<OperatingPoint>(optimistic).replicas, 1);
}

TEST(ChooseOperatingPointTest, TiesGoToTheSmallerBatch) {
  const CandidateCurves curves = OneShape({Point(8, 1000), Point(16, 1010), Point(32, 1020)});
  auto choice = ChooseOperatingPoint(curves, {}, 500, Judgement::kPessimisticBound, "bound");
  EXPECT_EQ(std::get<OperatingPoint>(choice).batch_size, 8);
}

TEST(ChooseOperatingPointTest, ALatencyObjectiveKeepsTheBatchSmall) {
  // TTFT upper bounds 0.012, 0.096, 0.768 s: an objective of 0.1 s rules batch 64 out.
  const CandidateCurves curves = OneShape({Point(1, 100), Point(8, 500), Point(64, 1000)});
  LatencyObjectives objectives;
  objectives.ttft_s = 0.1;
  auto choice =
      ChooseOperatingPoint(curves, objectives, 1000, Judgement::kPessimisticBound, "bound");
  ASSERT_TRUE(std::holds_alternative<OperatingPoint>(choice));
  EXPECT_EQ(std::get<OperatingPoint>(choice).batch_size, 8);
  EXPECT_DOUBLE_EQ(*std::get<OperatingPoint>(choice).ttft_s, 0.096);
  // The point estimate (0.08 s at batch 8) passes where the bound would not at 0.09 s.
  objectives.ttft_s = 0.09;
  EXPECT_EQ(std::get<OperatingPoint>(
                ChooseOperatingPoint(curves, objectives, 1000, Judgement::kPointEstimate, "point"))
                .batch_size,
            8);
  EXPECT_EQ(std::get<OperatingPoint>(ChooseOperatingPoint(curves, objectives, 1000,
                                                          Judgement::kPessimisticBound, "bound"))
                .batch_size,
            1);
}

TEST(ChooseOperatingPointTest, RejectionSaysWhichObjectiveAndTheFigures) {
  const CandidateCurves curves = OneShape({Point(1, 100), Point(8, 500)});
  LatencyObjectives objectives;
  objectives.ttft_s = 0.001;
  auto choice = ChooseOperatingPoint(curves, objectives, 1000, Judgement::kPessimisticBound,
                                     "at 90% confidence");
  ASSERT_TRUE(std::holds_alternative<Rejection>(choice));
  const Rejection& rejection = std::get<Rejection>(choice);
  EXPECT_EQ(rejection.reason, CandidateRejection::kMissesTtft);
  EXPECT_THAT(rejection.detail, HasSubstr("TTFT at 90% confidence 0.012 s > objective 0.001 s"));
  EXPECT_THAT(rejection.detail, HasSubstr("batch 1"));

  objectives = {};
  objectives.itl_s = 0.011;  // upper bound 0.012
  EXPECT_EQ(std::get<Rejection>(
                ChooseOperatingPoint(curves, objectives, 1000, Judgement::kPessimisticBound, "b"))
                .reason,
            CandidateRejection::kMissesItl);
  objectives = {};
  objectives.batch_latency_s = 0.5;  // 100 tokens x 1 / 80 tokens/s = 1.25 s
  EXPECT_EQ(std::get<Rejection>(
                ChooseOperatingPoint(curves, objectives, 1000, Judgement::kPessimisticBound, "b"))
                .reason,
            CandidateRejection::kMissesBatchLatency);
}

TEST(ChooseOperatingPointTest, PointsThatDoNotFitAreSkippedAndNamedWhenNoneFits) {
  std::vector<PointPrediction> points = {Point(1, 100), Point(8, 500), Point(64, 1000)};
  points[2].memory.verdict = MemoryVerdict::kDoesNotFit;
  points[2].memory.reason = "KV cache too large";
  points[2].throughput_tokens_per_s = points[2].lower_tokens_per_s = 0;
  auto choice = ChooseOperatingPoint(OneShape(points), {}, 1000, Judgement::kPessimisticBound, "b");
  EXPECT_EQ(std::get<OperatingPoint>(choice).batch_size, 8);

  for (PointPrediction& p : points) {
    p.memory.verdict = MemoryVerdict::kDoesNotFit;
    p.memory.reason = "weights 138 GB > 72 GB";
  }
  auto none = ChooseOperatingPoint(OneShape(points), {}, 1000, Judgement::kPessimisticBound, "b");
  ASSERT_TRUE(std::holds_alternative<Rejection>(none));
  EXPECT_EQ(std::get<Rejection>(none).reason, CandidateRejection::kDoesNotFit);
  EXPECT_EQ(std::get<Rejection>(none).detail, "weights 138 GB > 72 GB");
}

TEST(ChooseOperatingPointTest, ABatchBeyondTheResidentSequencesIsNoOperatingPoint) {
  // Only 16 sequences fit at once: batch 64's predicted throughput would run in waves.
  std::vector<PointPrediction> points = {Point(1, 100), Point(16, 500), Point(64, 5000)};
  for (PointPrediction& p : points) p.memory.largest_fitting_batch_size = 16;
  auto choice = ChooseOperatingPoint(OneShape(points), {}, 1000, Judgement::kPessimisticBound, "b");
  EXPECT_EQ(std::get<OperatingPoint>(choice).batch_size, 16);
  for (PointPrediction& p : points) p.memory.largest_fitting_batch_size = 0;  // unknown: no limit
  choice = ChooseOperatingPoint(OneShape(points), {}, 1000, Judgement::kPessimisticBound, "b");
  EXPECT_EQ(std::get<OperatingPoint>(choice).batch_size, 64);
  std::vector<PointPrediction> waves = {Point(64, 5000)};
  waves[0].memory.largest_fitting_batch_size = 16;
  auto rejected =
      ChooseOperatingPoint(OneShape(waves), {}, 1000, Judgement::kPessimisticBound, "b");
  ASSERT_TRUE(std::holds_alternative<Rejection>(rejected));
  EXPECT_EQ(std::get<Rejection>(rejected).reason, CandidateRejection::kDoesNotFit);
  EXPECT_THAT(std::get<Rejection>(rejected).detail,
              HasSubstr("at most 16 sequences of 100/100 tokens are resident at once"));
}

TEST(ChooseOperatingPointTest, ALatencyObjectiveWithoutLatencyPredictionsIsRejected) {
  std::vector<PointPrediction> points = {Point(1, 100)};
  points[0].latency_statistic = LatencyStatistic::kUnavailable;
  LatencyObjectives objectives;
  objectives.ttft_s = 1;
  auto choice =
      ChooseOperatingPoint(OneShape(points), objectives, 10, Judgement::kPessimisticBound, "b");
  EXPECT_EQ(std::get<Rejection>(choice).reason, CandidateRejection::kNoLatencyPrediction);
  // Without such an objective the point serves, and has no TTFT to report.
  auto served = ChooseOperatingPoint(OneShape(points), {}, 10, Judgement::kPessimisticBound, "b");
  EXPECT_FALSE(std::get<OperatingPoint>(served).ttft_s.has_value());
}

TEST(ChooseOperatingPointTest, TooManyReplicasIsARejection) {
  const CandidateCurves curves = OneShape({Point(1, 1e-3)});
  auto choice = ChooseOperatingPoint(curves, {}, 1e9, Judgement::kPessimisticBound, "b");
  EXPECT_EQ(std::get<Rejection>(choice).reason, CandidateRejection::kTooManyReplicas);
}

TEST(MixTokensPerSecondTest, EachShapesTokensTakeTheirOwnTime) {
  // Half the requests of 100 output tokens at 1000 tokens/s, half of 300 at 100 tokens/s: per
  // pair of requests 400 tokens in 0.1 + 3 s.
  CandidateCurves curves;
  curves.shapes = {{{10, 100}, 0.5}, {{10, 300}, 0.5}};
  curves.points = {{Point(4, 1000, 0)}, {Point(4, 100, 0)}};
  EXPECT_NEAR(MixTokensPerSecond(curves, 0, Judgement::kPointEstimate), 400 / 3.1, 1e-9);
  curves.points[1][0].throughput_tokens_per_s = 0;
  EXPECT_EQ(MixTokensPerSecond(curves, 0, Judgement::kPointEstimate), 0);
}

// Points predicted without latencies: the choice asks for them at the point it picks only, unless
// an objective reads them, and then at every batch it judges; the figures are those of complete
// points.
TEST(ChooseOperatingPointTest, ReadsLatenciesOnlyWhereItNeedsThem) {
  const std::vector<PointPrediction> complete = {Point(1, 100), Point(8, 500), Point(64, 1000)};
  std::vector<size_t> asked;
  CandidateCurves curves = OneShape(complete);
  for (PointPrediction& p : curves.points.front()) {
    p.latency_statistic = LatencyStatistic::kUnavailable;
    p.ttft_s = p.ttft_lower_s = p.ttft_upper_s = p.itl_s = p.itl_lower_s = p.itl_upper_s = 0;
  }
  const CandidateCurves bare = curves;
  curves.complete_latencies = [&](size_t shape, PointPrediction& point) {
    EXPECT_EQ(shape, 0u);
    const auto j = static_cast<size_t>(
        std::find_if(complete.begin(), complete.end(),
                     [&](const PointPrediction& p) { return p.batch_size == point.batch_size; }) -
        complete.begin());
    ASSERT_LT(j, complete.size());
    asked.push_back(j);
    point = complete[j];
  };

  auto choice = ChooseOperatingPoint(curves, {}, 1000, Judgement::kPessimisticBound, "bound");
  ASSERT_TRUE(std::holds_alternative<OperatingPoint>(choice));
  EXPECT_EQ(std::get<OperatingPoint>(choice).batch_size, 64);
  EXPECT_THAT(asked, ::testing::ElementsAre(2u));
  auto from_complete =
      ChooseOperatingPoint(OneShape(complete), {}, 1000, Judgement::kPessimisticBound, "bound");
  EXPECT_EQ(std::get<OperatingPoint>(choice).ttft_s,
            std::get<OperatingPoint>(from_complete).ttft_s);
  EXPECT_EQ(std::get<OperatingPoint>(choice).itl_s, std::get<OperatingPoint>(from_complete).itl_s);
  // The planner's second judgement on the same curves picks the same batch (the point estimates
  // serve 1,000 tokens/s with one replica at 64): complete already, it is not asked again.
  auto optimistic = ChooseOperatingPoint(curves, {}, 1000, Judgement::kPointEstimate, "point");
  ASSERT_TRUE(std::holds_alternative<OperatingPoint>(optimistic));
  EXPECT_EQ(std::get<OperatingPoint>(optimistic).batch_size, 64);
  EXPECT_EQ(std::get<OperatingPoint>(optimistic).ttft_s, complete[2].ttft_s);
  EXPECT_THAT(asked, ::testing::ElementsAre(2u));

  // A TTFT objective that batch 64 misses (0.64 x 1.2 s upper bound > 0.5 s): every batch is read.
  asked.clear();
  curves.points = bare.points;
  LatencyObjectives objectives;
  objectives.ttft_s = 0.5;
  choice = ChooseOperatingPoint(curves, objectives, 1000, Judgement::kPessimisticBound, "bound");
  ASSERT_TRUE(std::holds_alternative<OperatingPoint>(choice));
  EXPECT_EQ(std::get<OperatingPoint>(choice).batch_size, 8);
  EXPECT_THAT(asked, ::testing::ElementsAre(0u, 1u, 2u));
}

}  // namespace
}  // namespace perfcast
