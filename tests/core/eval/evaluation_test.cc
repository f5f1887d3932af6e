#include "core/eval/evaluation.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/data/curve.h"
#include "core/eval/baselines.h"
#include "core/eval/evaluation_points.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

// Predicts truth * (1 + e) with e growing with the point's batch size, expects exactly e, and
// gives an interval that misses the truth below 80 % and contains it from 80 % on.
class KnownErrorMethod : public EvaluationMethod {
 public:
  absl::string_view name() const override { return "known-error"; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const override {
    std::vector<MethodPrediction> out;
    for (const HeldOutPoint& point : fold.held_out) {
      const double error = 0.001 * point.batch_size;
      const double predicted = point.throughput_tokens_per_s * (1 + error);
      MethodPrediction p;
      p.throughput_tokens_per_s = predicted;
      p.expected_relative_error = error;
      for (double level : confidence_levels) {
        p.intervals.push_back(level >= 0.8 ? PredictionInterval{0, 2 * predicted}
                                           : PredictionInterval{predicted, predicted});
      }
      out.push_back(p);
    }
    return out;
  }
};

TEST(EvaluationTest, ReportsCoverageAtEveryLevelAndTheRankCorrelation) {
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  methods.push_back(std::make_unique<KnownErrorMethod>());
  EvaluationOptions options;
  options.confidence_level = 0.9;
  options.reliability_levels = {0.95, 0.5, 0.9};
  auto figures = Evaluate(Protocol::kNewConfig, GroupIntoCurves(testing::SyntheticRecords()),
                          methods, options);
  ASSERT_TRUE(figures.ok()) << figures.status();
  ASSERT_EQ(figures->size(), 1u);
  const EvaluationFigures& f = figures->front();
  EXPECT_EQ(f.coverage, 1.0);  // the headline level, 90 %
  ASSERT_EQ(f.reliability.size(), 3u);
  EXPECT_EQ(f.reliability[0].confidence_level, 0.5);
  EXPECT_EQ(f.reliability[0].coverage, 0.0);
  EXPECT_EQ(f.reliability[0].median_width, 0.0);
  EXPECT_EQ(f.reliability[1].confidence_level, 0.9);
  EXPECT_EQ(f.reliability[2].confidence_level, 0.95);
  EXPECT_EQ(f.reliability[2].coverage, 1.0);
  ASSERT_TRUE(f.error_rank_correlation.has_value());
  // Points of one batch size tie in the expected error, but rounding breaks the tie in the
  // observed one: nearly 1.
  EXPECT_GT(*f.error_rank_correlation, 0.95);

  const std::string table = FiguresTable(*figures);
  EXPECT_NE(table.find("reliability"), std::string::npos);
  const std::string json = FiguresJsonLines(*figures);
  EXPECT_NE(json.find("\"spearman\":"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"spearman\":null"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"confidence_level\":0.5,\"coverage\":0,\"median_width\":0}"),
            std::string::npos)
      << json;
}

// Declines every point of one hardware type, predicts the others exactly.
class DeclinesOneHardware : public EvaluationMethod {
 public:
  absl::string_view name() const override { return "declines-one"; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double>) const override {
    std::vector<MethodPrediction> out(fold.held_out.size());
    for (size_t i = 0; i < fold.held_out.size(); ++i) {
      if (fold.held_out[i].configuration.hardware != declined_hardware) {
        out[i].throughput_tokens_per_s = fold.held_out[i].throughput_tokens_per_s;
      }
    }
    return out;
  }
  std::string declined_hardware;
};

TEST(EvaluationTest, ReportsEveryHeldOutPointToOnPointDeclinedOnesIncluded) {
  const std::vector<Curve> curves = GroupIntoCurves(testing::SyntheticRecords());
  auto method = std::make_unique<DeclinesOneHardware>();
  method->declined_hardware = curves.front().configuration.hardware;
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  methods.push_back(std::move(method));
  int reported = 0, declined = 0, exact = 0;
  EvaluationOptions options;
  options.parallel_folds = 2;
  options.on_point = [&](absl::string_view protocol, absl::string_view method_name, const Fold&,
                         const HeldOutPoint& point, const MethodPrediction& prediction) {
    EXPECT_EQ(protocol, "new-config");
    EXPECT_EQ(method_name, "declines-one");
    ++reported;
    if (!prediction.throughput_tokens_per_s.has_value()) {
      ++declined;
    } else if (*prediction.throughput_tokens_per_s == point.throughput_tokens_per_s) {
      ++exact;
    }
  };
  auto figures = Evaluate(Protocol::kNewConfig, curves, methods, options);
  ASSERT_TRUE(figures.ok()) << figures.status();
  EXPECT_EQ(reported, figures->front().points + figures->front().declined);
  EXPECT_GT(declined, 0);
  EXPECT_EQ(declined, figures->front().declined);
  EXPECT_EQ(exact, figures->front().points);
}

// The synthetic data as two campaigns: lab-a the 1- and 2-GPU systems, lab-b the 4-GPU ones.
std::vector<Curve> TwoCampaigns() {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  for (BenchmarkRecord& record : records) {
    record.configuration.campaign = record.configuration.num_gpus == 4 ? "lab-b" : "lab-a";
  }
  return GroupIntoCurves(records);
}

TEST(NewCampaignEvaluationTest, GivesFiguresPerCampaignThenOverAllWithTheShots) {
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  methods.push_back(std::make_unique<KnownErrorMethod>());
  EvaluationOptions options;
  options.shots = 0.25;
  std::vector<std::pair<std::string, double>> points_seen;
  options.on_point = [&](absl::string_view, absl::string_view, const Fold& fold,
                         const HeldOutPoint& point, const MethodPrediction&) {
    EXPECT_EQ(point.configuration.campaign, fold.campaign);
    points_seen.push_back({point.configuration.campaign, *fold.shots});
  };

  auto figures = Evaluate(Protocol::kNewCampaign, TwoCampaigns(), methods, options);

  ASSERT_TRUE(figures.ok()) << figures.status();
  ASSERT_EQ(figures->size(), 3u);
  EXPECT_EQ((*figures)[0].campaign, "lab-a");
  EXPECT_EQ((*figures)[1].campaign, "lab-b");
  EXPECT_EQ((*figures)[2].campaign, kAllCampaigns);
  for (const EvaluationFigures& f : *figures) {
    EXPECT_EQ(f.protocol, "new-campaign");
    EXPECT_EQ(f.shots, 0.25);
    EXPECT_EQ(f.coverage, 1.0);
  }
  // 16 curves of lab-a, 4 of them shots; 8 of lab-b, 2 shots; 6 points a curve.
  EXPECT_EQ((*figures)[0].points, 12 * 6);
  EXPECT_EQ((*figures)[1].points, 6 * 6);
  EXPECT_EQ((*figures)[2].points, 18 * 6);
  EXPECT_EQ(points_seen.size(), 18u * 6);

  const std::string json = FiguresJsonLines(*figures);
  EXPECT_NE(json.find("\"protocol\":\"new-campaign\",\"method\":\"known-error\",\"campaign\":"
                      "\"lab-a\",\"shots\":0.25,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"campaign\":\"all\",\"shots\":0.25,"), std::string::npos) << json;
  const std::string table = FiguresTable(*figures);
  EXPECT_NE(table.find("campaign shots"), std::string::npos) << table;
  EXPECT_NE(table.find("known-error     lab-b     0.25"), std::string::npos) << table;
}

TEST(NewCampaignEvaluationTest, OtherProtocolsCarryNoCampaign) {
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  methods.push_back(std::make_unique<KnownErrorMethod>());

  auto figures = Evaluate(Protocol::kNewConfig, TwoCampaigns(), methods, EvaluationOptions());

  ASSERT_TRUE(figures.ok()) << figures.status();
  ASSERT_EQ(figures->size(), 1u);
  EXPECT_FALSE(figures->front().campaign.has_value());
  EXPECT_EQ(FiguresJsonLines(*figures).find("campaign"), std::string::npos);
  EXPECT_EQ(FiguresTable(*figures).find("campaign"), std::string::npos);
}

TEST(NewCampaignEvaluationTest, RefusesShotsOutsideZeroToOne) {
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  methods.push_back(std::make_unique<KnownErrorMethod>());
  for (double shots : {-0.1, 1.0, 1.5}) {
    EvaluationOptions options;
    options.shots = shots;

    auto figures = Evaluate(Protocol::kNewCampaign, TwoCampaigns(), methods, options);

    EXPECT_EQ(figures.status().code(), absl::StatusCode::kInvalidArgument) << shots;
    EXPECT_NE(figures.status().message().find("shots"), absl::string_view::npos);
  }
}

TEST(NewCampaignEvaluationTest, RefusesDataOfOneCampaign) {
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  methods.push_back(std::make_unique<KnownErrorMethod>());

  auto figures = Evaluate(Protocol::kNewCampaign, GroupIntoCurves(testing::SyntheticRecords()),
                          methods, EvaluationOptions());

  EXPECT_EQ(figures.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(figures.status().message().find("new-campaign"), absl::string_view::npos);
}

// The baselines know configurations, and the campaign is part of one: without shots they decline
// every point, with shots they predict the held-out curves of the configurations shots reached.
TEST(NewCampaignEvaluationTest, EveryBaselineRunsWithAndWithoutShots) {
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  methods.push_back(std::make_unique<NearestCurve>());
  methods.push_back(std::make_unique<DirectXGBoost>(1));
  methods.push_back(std::make_unique<PublishedAla>(false, 1));
  for (double shots : {0.0, 0.5}) {
    EvaluationOptions options;
    options.shots = shots;

    auto figures = Evaluate(Protocol::kNewCampaign, TwoCampaigns(), methods, options);

    ASSERT_TRUE(figures.ok()) << figures.status();
    ASSERT_EQ(figures->size(), 9u);  // 3 methods x (2 campaigns + all)
    for (const EvaluationFigures& f : *figures) {
      if (shots == 0) {
        EXPECT_EQ(f.points, 0) << f.method;
        EXPECT_GT(f.declined, 0) << f.method;
      } else {
        EXPECT_GT(f.points, 0) << f.method << " " << *f.campaign;
      }
    }
  }
}

// Predicts the TTFT 10 % high, the ITL exactly, the 99th percentile of the TTFT 20 % high and
// of the TPOT exactly (where the point measured them), each with an interval that holds the
// truth; the throughput exactly.
class KnownLatencyMethod : public EvaluationMethod {
 public:
  absl::string_view name() const override { return "known-latency"; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const override {
    std::vector<MethodPrediction> out;
    for (const HeldOutPoint& point : fold.held_out) {
      MethodPrediction p;
      p.throughput_tokens_per_s = point.throughput_tokens_per_s;
      p.ttft_s = 1.1 * point.ttft_s.value_or(1);
      p.itl_s = point.itl_s.value_or(1);
      if (point.p99_ttft_s.has_value()) p.p99_ttft_s = 1.2 * *point.p99_ttft_s;
      if (point.p99_tpot_s.has_value()) p.p99_tpot_s = *point.p99_tpot_s;
      for (size_t l = 0; l < confidence_levels.size(); ++l) {
        p.intervals.push_back({0, 2 * point.throughput_tokens_per_s});
        p.ttft_intervals.push_back({0, 2 * *p.ttft_s});
        p.itl_intervals.push_back({0, 2 * *p.itl_s});
        if (p.p99_ttft_s.has_value()) p.p99_ttft_intervals.push_back({0, 2 * *p.p99_ttft_s});
        if (p.p99_tpot_s.has_value()) p.p99_tpot_intervals.push_back({0, 0.5 * *p.p99_tpot_s});
      }
      out.push_back(p);
    }
    return out;
  }
};

TEST(EvaluationTargetTest, LatencyTargetsGetTheirOwnLinesOverThePointsThatMeasuredThem) {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  int with_ttft = 0, with_tails = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i % 2 == 0) continue;  // half the points measured no latency
    records[i].ttft_s = 0.1;
    records[i].itl_s = 0.01;
    ++with_ttft;
    if (i % 4 != 1) continue;  // half of those no 99th percentile
    records[i].p99_ttft_s = 0.5;
    records[i].p99_tpot_s = 0.02;
    ++with_tails;
  }
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  methods.push_back(std::make_unique<KnownLatencyMethod>());
  methods.push_back(std::make_unique<KnownErrorMethod>());  // predicts no latency
  auto figures =
      Evaluate(Protocol::kNewConfig, GroupIntoCurves(records), methods, EvaluationOptions());
  ASSERT_TRUE(figures.ok()) << figures.status();
  ASSERT_EQ(figures->size(), 6u);
  EXPECT_EQ((*figures)[0].target, EvaluationTarget::kThroughput);
  EXPECT_EQ((*figures)[0].points, static_cast<int>(records.size()));
  const EvaluationFigures& ttft = (*figures)[1];
  EXPECT_EQ(ttft.target, EvaluationTarget::kTtft);
  EXPECT_EQ(ttft.method, "known-latency");
  EXPECT_EQ(ttft.points, with_ttft);
  EXPECT_NEAR(ttft.median_ape, 10, 1e-9);
  EXPECT_EQ(ttft.coverage, 1.0);
  const EvaluationFigures& itl = (*figures)[2];
  EXPECT_EQ(itl.target, EvaluationTarget::kItl);
  EXPECT_EQ(itl.points, with_ttft);
  EXPECT_NEAR(itl.median_ape, 0, 1e-9);
  const EvaluationFigures& p99_ttft = (*figures)[3];
  EXPECT_EQ(p99_ttft.target, EvaluationTarget::kP99Ttft);
  EXPECT_EQ(p99_ttft.points, with_tails);
  EXPECT_NEAR(p99_ttft.median_ape, 20, 1e-9);
  EXPECT_EQ(p99_ttft.coverage, 1.0);
  const EvaluationFigures& p99_tpot = (*figures)[4];
  EXPECT_EQ(p99_tpot.target, EvaluationTarget::kP99Tpot);
  EXPECT_EQ(p99_tpot.points, with_tails);
  EXPECT_NEAR(p99_tpot.median_ape, 0, 1e-9);
  EXPECT_EQ(p99_tpot.coverage, 0.0) << "its interval lies below the truth";
  // A method that predicts no latency gets its throughput line only.
  EXPECT_EQ((*figures)[5].method, "known-error");
  EXPECT_EQ((*figures)[5].target, EvaluationTarget::kThroughput);

  const std::string json = FiguresJsonLines(*figures);
  EXPECT_NE(json.find("\"target\":\"throughput\""), std::string::npos);
  EXPECT_NE(json.find("\"target\":\"ttft\""), std::string::npos);
  EXPECT_NE(json.find("\"target\":\"itl\""), std::string::npos);
  EXPECT_NE(json.find("\"target\":\"p99_ttft\""), std::string::npos);
  EXPECT_NE(json.find("\"target\":\"p99_tpot\""), std::string::npos);
  EXPECT_NE(FiguresTable(*figures).find(" ttft"), std::string::npos);
}

TEST(EvaluationPointsTest, QuotesNamesWithCommasAndLeavesMissingValuesEmpty) {
  HeldOutPoint point;
  point.configuration = {"NVIDIA H100", 2, "vllm", "org/model, \"v2\"", "fp8"};
  point.shape = {128, 2048};
  point.batch_size = 64;
  point.throughput_tokens_per_s = 1234.5;
  MethodPrediction declined;
  MethodPrediction predicted;
  predicted.throughput_tokens_per_s = 1000;
  predicted.intervals = {{800, 1300}, {900, 1100}};
  predicted.expected_relative_error = 0.25;

  EXPECT_EQ(EvaluationPointsCsvRow("new-config", "nearest-curve", std::nullopt, point, declined),
            "new-config,nearest-curve,,NVIDIA H100,2,vllm,\"org/model, \"\"v2\"\"\",fp8,,128,2048,"
            "64,1234.5,,,,,,,,,,,,,,,,,,,,\n");
  EXPECT_EQ(EvaluationPointsCsvRow("new-config", "perfcast", std::nullopt, point, predicted),
            "new-config,perfcast,,NVIDIA H100,2,vllm,\"org/model, \"\"v2\"\"\",fp8,,128,2048,64,"
            "1234.5,1000,800,1300,0.25,,,,,,,,,,,,,,,,\n");
  const std::string header = EvaluationPointsCsvHeader();
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), 32);
  // Latencies where the point has them and the method predicts them.
  point.ttft_s = 0.5;
  point.itl_s = 0.02;
  predicted.ttft_s = 0.4;
  predicted.ttft_intervals = {{0.2, 0.8}, {0.3, 0.6}};
  predicted.itl_s = 0.025;
  predicted.itl_intervals = {{0.01, 0.05}, {0.02, 0.03}};
  EXPECT_EQ(EvaluationPointsCsvRow("new-config", "perfcast", std::nullopt, point, predicted),
            "new-config,perfcast,,NVIDIA H100,2,vllm,\"org/model, \"\"v2\"\"\",fp8,,128,2048,64,"
            "1234.5,1000,800,1300,0.25,0.5,0.4,0.2,0.8,0.02,0.025,0.01,0.05,,,,,,,,\n");
  // And the 99th percentiles likewise; one the method did not predict leaves its bounds empty.
  point.p99_ttft_s = 2.5;
  point.p99_tpot_s = 0.03;
  predicted.p99_ttft_s = 2;
  predicted.p99_ttft_intervals = {{1, 4}, {1.5, 3}};
  EXPECT_EQ(EvaluationPointsCsvRow("new-config", "perfcast", std::nullopt, point, predicted),
            "new-config,perfcast,,NVIDIA H100,2,vllm,\"org/model, \"\"v2\"\"\",fp8,,128,2048,64,"
            "1234.5,1000,800,1300,0.25,0.5,0.4,0.2,0.8,0.02,0.025,0.01,0.05,2.5,2,1,4,0.03,,,\n");
}

TEST(EvaluationPointsTest, CarriesTheCampaignAndTheShotsOfNewCampaign) {
  HeldOutPoint point;
  point.configuration = {"NVIDIA H100", 1, "vllm", "org/model", "fp16", "lab, 2025"};
  point.shape = {128, 128};
  point.batch_size = 8;
  point.throughput_tokens_per_s = 500;
  MethodPrediction declined;

  EXPECT_EQ(EvaluationPointsCsvRow("new-campaign", "perfcast", 0.1, point, declined),
            "new-campaign,perfcast,0.1,NVIDIA H100,1,vllm,org/model,fp16,\"lab, 2025\",128,128,8,"
            "500,,,,,,,,,,,,,,,,,,,,\n");
  EXPECT_EQ(EvaluationPointsCsvHeader().substr(0, 75),
            "protocol,method,shots,hardware,num_gpus,framework,model,precision,campaign,");
}

}  // namespace
}  // namespace perfcast
