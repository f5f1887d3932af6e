#include "core/plan/planner.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_model.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;

class PlannerTest : public testing::SyntheticModelTest {
 protected:
  // 2,000 output tokens/s of 256/256-token requests, every candidate the data know, gpu-a at
  // $1 and gpu-b at $2 per GPU-hour.
  static PlanRequest Request() {
    PlanRequest request;
    request.model = "org/model-7b";
    request.shapes = {{{256, 256}, 1}};
    request.demand = 20000;
    request.batch_sizes = {1, 8, 16, 32, 64, 128};
    request.prices = *PriceList::FromEntries({{"gpu-a", 1}, {"gpu-b", 2}});
    return request;
  }
};

TEST_F(PlannerTest, EnumeratesWhatTheDataKnowForTheModel) {
  const std::vector<Configuration> candidates = EnumerateCandidates(model(), Request());
  ASSERT_EQ(candidates.size(), 6u);  // 2 hardware x 3 GPU counts, vllm, fp16
  for (const Configuration& c : candidates) {
    EXPECT_EQ(c.model, "org/model-7b");
    EXPECT_EQ(c.framework, "vllm");
    EXPECT_EQ(c.precision, "fp16");
  }
  PlanRequest narrowed = Request();
  narrowed.filter.hardware = {"GPU-B"};
  narrowed.filter.max_gpu_count = 2;
  EXPECT_EQ(EnumerateCandidates(model(), narrowed).size(), 2u);
}

TEST_F(PlannerTest, OptionsServeTheDemandFromTheLowerBoundRankedByCost) {
  absl::StatusOr<PlanResult> plan = MakePlan(model(), PriceList(), Request(), PlanLimits{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->options.size(), 6u);
  EXPECT_TRUE(plan->rejected.empty());
  for (size_t i = 0; i < plan->options.size(); ++i) {
    const PlanOption& o = plan->options[i];
    SCOPED_TRACE(o.configuration.ToString());
    EXPECT_GE(o.planned.replicas * o.planned.tokens_per_s_per_replica, 20000);
    EXPECT_LT((o.planned.replicas - 1) * o.planned.tokens_per_s_per_replica, 20000);
    EXPECT_LT(o.planned.tokens_per_s_per_replica, o.point_tokens_per_s_per_replica);
    const double price = o.configuration.hardware == "gpu-a" ? 1 : 2;
    EXPECT_DOUBLE_EQ(o.planned.cost_per_hour,
                     static_cast<double>(o.planned.replicas * o.configuration.num_gpus) * price);
    EXPECT_NEAR(o.cost_per_million_output_tokens, o.planned.cost_per_hour / (20000 * 3600) * 1e6,
                1e-12);
    ASSERT_TRUE(o.point_estimate.has_value());
    EXPECT_LE(o.point_estimate->cost_per_hour, o.planned.cost_per_hour);
    if (i > 0) {
      EXPECT_LE(plan->options[i - 1].planned.cost_per_hour, o.planned.cost_per_hour);
    }
  }
  ASSERT_TRUE(plan->cheapest_point_estimate.has_value());
  const PlanOption& point_plan = *plan->cheapest_point_estimate;
  EXPECT_LE(point_plan.planned.cost_per_hour, plan->options.front().planned.cost_per_hour);
  // A whole option: its own figures, not the bound plan's defaults.
  EXPECT_DOUBLE_EQ(point_plan.point_tokens_per_s_per_replica,
                   point_plan.planned.tokens_per_s_per_replica);
  EXPECT_GT(point_plan.cost_per_million_output_tokens, 0);
  EXPECT_GT(point_plan.expected_relative_error, 0);
}

TEST_F(PlannerTest, MoreConfidenceNeverCostsLess) {
  double previous = 0;
  for (double confidence : {0.6, 0.9, 0.99}) {
    PlanRequest request = Request();
    request.confidence = confidence;
    absl::StatusOr<PlanResult> plan = MakePlan(model(), PriceList(), request, PlanLimits{});
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_GE(plan->options.front().planned.cost_per_hour, previous) << confidence;
    previous = plan->options.front().planned.cost_per_hour;
  }
}

TEST_F(PlannerTest, UnpricedHardwareIsRejectedAndTheServerPricesApply) {
  PlanRequest request = Request();
  request.prices = *PriceList::FromEntries({{"gpu-a", 1}});
  absl::StatusOr<PlanResult> plan = MakePlan(model(), PriceList(), request, PlanLimits{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->options.size(), 3u);
  ASSERT_EQ(plan->rejected.size(), 3u);
  EXPECT_EQ(plan->rejected[0].reason, CandidateRejection::kNoPrice);
  EXPECT_THAT(plan->rejected[0].detail, HasSubstr("gpu-b"));
  // The server's list prices gpu-b; the request's own price of gpu-a stays.
  plan = MakePlan(model(), *PriceList::FromEntries({{"gpu-b", 2}, {"gpu-a", 100}}), request,
                  PlanLimits{});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->options.size(), 6u);
  for (const PlanOption& o : plan->options) {
    EXPECT_EQ(*o.usd_per_gpu_hour, o.configuration.hardware == "gpu-a" ? 1 : 2);
  }
}

TEST_F(PlannerTest, WithoutAnyPriceCostRankingFailsAndGpuRankingAnswers) {
  PlanRequest request = Request();
  request.prices = PriceList();
  absl::StatusOr<PlanResult> plan = MakePlan(model(), PriceList(), request, PlanLimits{});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("prices"));
  request.ranking = PlanRanking::kGpus;
  plan = MakePlan(model(), PriceList(), request, PlanLimits{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->options.size(), 6u);
  for (size_t i = 1; i < plan->options.size(); ++i) {
    EXPECT_LE(plan->options[i - 1].total_gpus, plan->options[i].total_gpus);
  }
  EXPECT_FALSE(plan->options.front().usd_per_gpu_hour.has_value());
}

TEST_F(PlannerTest, ATightObjectiveRejectsWithTheReason) {
  PlanRequest request = Request();
  request.objectives.batch_latency_s = 1e-6;
  absl::StatusOr<PlanResult> plan = MakePlan(model(), PriceList(), request, PlanLimits{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->options.empty());
  ASSERT_EQ(plan->rejected.size(), 6u);
  EXPECT_EQ(plan->rejected[0].reason, CandidateRejection::kMissesBatchLatency);
  EXPECT_THAT(plan->rejected[0].detail, HasSubstr("at 90% confidence"));
}

TEST_F(PlannerTest, RequestsPerSecondCountTheMixsOutputTokens) {
  PlanRequest request = Request();
  request.shapes = {{{256, 100}, 3}, {{256, 500}, 1}};
  request.demand = 10;
  request.demand_unit = DemandUnit::kRequestsPerSecond;
  absl::StatusOr<PlanResult> plan = MakePlan(model(), PriceList(), request, PlanLimits{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_DOUBLE_EQ(plan->demand_output_tokens_per_s, 10 * (0.75 * 100 + 0.25 * 500));
}

TEST_F(PlannerTest, IsDeterministicWhateverTheThreads) {
  PlanLimits threaded;
  threaded.threads = 3;
  auto a = MakePlan(model(), PriceList(), Request(), PlanLimits{});
  auto b = MakePlan(model(), PriceList(), Request(), threaded);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->options.size(), b->options.size());
  for (size_t i = 0; i < a->options.size(); ++i) {
    EXPECT_EQ(a->options[i].configuration, b->options[i].configuration);
    EXPECT_EQ(a->options[i].planned.cost_per_hour, b->options[i].planned.cost_per_hour);
  }
}

TEST_F(PlannerTest, BadRequestsNameTheField) {
  const auto message_of = [&](const std::function<void(PlanRequest&)>& spoil) {
    PlanRequest request = Request();
    spoil(request);
    absl::Status status = MakePlan(model(), PriceList(), request, PlanLimits{}).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    return std::string(status.message());
  };
  EXPECT_THAT(message_of([](PlanRequest& r) { r.demand = 0; }),
              HasSubstr("output_tokens_per_second"));
  EXPECT_THAT(message_of([](PlanRequest& r) {
                r.demand = -1;
                r.demand_unit = DemandUnit::kRequestsPerSecond;
              }),
              HasSubstr("requests_per_second"));
  EXPECT_THAT(message_of([](PlanRequest& r) { r.confidence = 1; }), HasSubstr("confidence"));
  EXPECT_THAT(message_of([](PlanRequest& r) { r.confidence = 0.3; }), HasSubstr("[0.5, 1)"));
  EXPECT_THAT(message_of([](PlanRequest& r) { r.objectives.ttft_s = 0; }),
              HasSubstr("slo.ttft_seconds"));
  EXPECT_THAT(message_of([](PlanRequest& r) { r.shapes[0].weight = -1; }),
              HasSubstr("shapes[0].weight"));
  EXPECT_THAT(message_of([](PlanRequest& r) { r.shapes.clear(); }), HasSubstr("shapes"));
  EXPECT_THAT(message_of([](PlanRequest& r) { r.model.clear(); }), HasSubstr("model"));
  EXPECT_THAT(message_of([](PlanRequest& r) { r.batch_sizes = {0}; }), HasSubstr("batch_sizes[0]"));
}

TEST_F(PlannerTest, AVanishingDemandStillNeedsOneReplica) {
  PlanRequest request = Request();
  request.demand = 5e-324;
  absl::StatusOr<PlanResult> plan = MakePlan(model(), PriceList(), request, PlanLimits{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (const PlanOption& o : plan->options) EXPECT_EQ(o.planned.replicas, 1);
}

TEST_F(PlannerTest, HugeWeightsAreShares) {
  PlanRequest huge = Request();
  huge.shapes = {{{256, 256}, 1e308}, {{128, 128}, 1e308}};
  PlanRequest small = Request();
  small.shapes = {{{256, 256}, 1}, {{128, 128}, 1}};
  auto a = MakePlan(model(), PriceList(), huge, PlanLimits{});
  auto b = MakePlan(model(), PriceList(), small, PlanLimits{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_DOUBLE_EQ(a->demand_output_tokens_per_s, 20000);
  ASSERT_EQ(a->options.size(), b->options.size());
  for (size_t i = 0; i < a->options.size(); ++i) {
    EXPECT_DOUBLE_EQ(a->options[i].planned.tokens_per_s_per_replica,
                     b->options[i].planned.tokens_per_s_per_replica);
  }
}

TEST_F(PlannerTest, RepeatedCandidatesAndPrecisionsCountOnce) {
  PlanRequest request = Request();
  const Configuration a{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  request.candidates = {a, a, a};
  absl::StatusOr<PlanResult> plan = MakePlan(model(), PriceList(), request, PlanLimits{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->options.size(), 1u);
  request.candidates.clear();
  request.precisions = {"fp16", "FP16", "fp16"};
  EXPECT_EQ(EnumerateCandidates(model(), request).size(), 6u);
}

TEST_F(PlannerTest, AStopAskedBetweenCandidatesCancelsThePlan) {
  PlanLimits limits;
  int asked = 0;
  limits.should_stop = [&asked] { return ++asked > 2; };
  absl::Status status = MakePlan(model(), PriceList(), Request(), limits).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_EQ(asked, 3);
}

TEST_F(PlannerTest, TooManyCandidatesIsResourceExhausted) {
  PlanLimits limits;
  limits.max_candidates = 5;
  absl::Status status = MakePlan(model(), PriceList(), Request(), limits).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("candidates: 6 enumerated"));
  limits = PlanLimits{};
  limits.max_points = 10;
  EXPECT_EQ(MakePlan(model(), PriceList(), Request(), limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  PlanRequest request = Request();
  request.precisions.assign(17, "fp16");
  status = MakePlan(model(), PriceList(), request, PlanLimits{}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("precisions: 17 entries, at most 16"));
}

}  // namespace
}  // namespace perfcast
