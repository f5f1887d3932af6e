#include "core/model/latency_tails.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/bundle/model_codec.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "core/util/byte_coding.h"
#include "gtest/gtest.h"
#include "tests/core/older_bundles.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

// How far the synthetic 99th percentile of the TTFT lies above its mean: a burst of `batch`
// requests queues its prefills, so the tail grows with the batch.
double TtftTailFactor(int batch_size) { return 1.5 + 0.05 * batch_size; }
constexpr double kTpotTailFactor = 1.1;

// The synthetic records of `campaign`, with mean latencies that add up to the batch latency and,
// when `tails`, 99th percentiles of the TTFT and of the TPOT by the factors above.
std::vector<BenchmarkRecord> Records(const std::string& campaign, bool tails) {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  for (BenchmarkRecord& r : records) {
    r.configuration.campaign = campaign;
    r.source = campaign;
    const double batch_latency =
        static_cast<double>(r.shape.output_tokens) * r.batch_size / r.throughput_tokens_per_s;
    const double ttft = std::min(0.5 * batch_latency, 0.01 + r.batch_size * r.shape.input_tokens /
                                                                 (2e5 * r.configuration.num_gpus));
    r.ttft_s = ttft;
    r.itl_s = (batch_latency - ttft) / (r.shape.output_tokens - 1);
    if (tails) {
      r.p99_ttft_s = ttft * TtftTailFactor(r.batch_size);
      r.p99_tpot_s = *r.itl_s * kTpotTailFactor;
    }
  }
  return records;
}

std::shared_ptr<const PerfcastModel> TrainOn(const std::vector<BenchmarkRecord>& records) {
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model =
      PerfcastModel::Train(records, TrainOptions{});
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

std::vector<BenchmarkRecord> TwoCampaigns() {
  std::vector<BenchmarkRecord> records = Records("with-tails", true);
  const std::vector<BenchmarkRecord> plain = Records("means-only", false);
  records.insert(records.end(), plain.begin(), plain.end());
  return records;
}

Configuration Of(const std::string& campaign, int gpus) {
  Configuration configuration{"gpu-a", gpus, "vllm", "org/model-7b", "fp16"};
  configuration.campaign = campaign;
  return configuration;
}

const int kBatches[] = {1, 8, 32, 128};

TEST(LatencyTailsTest, ACampaignThatMeasuredTailsGetsThemNearTheTruthAndAboveTheMeans) {
  auto model = TrainOn(TwoCampaigns());
  ASSERT_NE(model, nullptr);
  // A measured configuration and shape, and one whose GPU count the campaign never measured.
  for (const int gpus : {2, 8}) {
    auto prediction = model->Predict({Of("with-tails", gpus), {256, 256}}, kBatches, 0.9);
    ASSERT_TRUE(prediction.ok()) << prediction.status();
    for (const PointPrediction& p : *prediction) {
      SCOPED_TRACE(::testing::Message() << "gpus " << gpus << " batch " << p.batch_size);
      ASSERT_EQ(p.latency_statistic, LatencyStatistic::kMean);
      ASSERT_GT(p.p99_ttft_s, 0);
      ASSERT_GT(p.p99_tpot_s, 0);
      EXPECT_GE(p.p99_ttft_s, p.ttft_s);
      EXPECT_GE(p.p99_tpot_s, p.itl_s);
      EXPECT_LT(p.p99_ttft_lower_s, p.p99_ttft_s);
      EXPECT_GT(p.p99_ttft_upper_s, p.p99_ttft_s);
      EXPECT_LT(p.p99_tpot_lower_s, p.p99_tpot_s);
      EXPECT_GT(p.p99_tpot_upper_s, p.p99_tpot_s);
      if (gpus == 2) {
        // The law the data follow, within what the mean's own error and the trees allow.
        EXPECT_NEAR(p.p99_ttft_s / p.ttft_s, TtftTailFactor(p.batch_size),
                    0.2 * TtftTailFactor(p.batch_size));
        EXPECT_NEAR(p.p99_tpot_s / p.itl_s, kTpotTailFactor, 0.05);
      }
    }
    // The tail grows with the batch, as the data's does.
    EXPECT_GT(prediction->back().p99_ttft_s / prediction->back().ttft_s,
              1.5 * prediction->front().p99_ttft_s / prediction->front().ttft_s);
  }
}

TEST(LatencyTailsTest, ACampaignWhoseResultsCarriedNoTailsGetsItsMeansAndNoTail) {
  auto model = TrainOn(TwoCampaigns());
  ASSERT_NE(model, nullptr);
  // How a harness sends its requests makes the tail: another campaign's says nothing of it.
  for (const std::string campaign : {"means-only", "never-seen", ""}) {
    auto prediction = model->Predict({Of(campaign, 2), {256, 256}}, kBatches, 0.9);
    ASSERT_TRUE(prediction.ok()) << prediction.status();
    for (const PointPrediction& p : *prediction) {
      EXPECT_EQ(p.p99_ttft_s, 0) << campaign;
      EXPECT_EQ(p.p99_ttft_upper_s, 0) << campaign;
      EXPECT_EQ(p.p99_tpot_s, 0) << campaign;
      EXPECT_EQ(p.p99_tpot_upper_s, 0) << campaign;
    }
  }
  auto with_means = model->Predict({Of("means-only", 2), {256, 256}}, kBatches, 0.9);
  ASSERT_TRUE(with_means.ok());
  EXPECT_EQ(with_means->front().latency_statistic, LatencyStatistic::kMean);
}

// Samples of twelve configurations of one campaign, ten rows each, of the TTFT's tail only: a
// feature of noise and one that carries each configuration's level (its log(mean / reference))
// when `level_in_features`; the tail is 4 times the mean. The held-out mean is the level itself
// when `mean_known` (the latency model knew the configuration's mean), else a wrong one.
struct CraftedTails {
  FeatureMatrix features;
  std::vector<Configuration> configurations;
  std::vector<TailSample> samples;
};

CraftedTails Crafted(bool level_in_features, bool mean_known) {
  constexpr int kConfigurations = 12, kRows = 10;
  CraftedTails crafted;
  crafted.features.column_count = 2;
  for (int i = 0; i < kConfigurations; ++i) {
    Configuration configuration{"gpu", i + 1, "engine", "org/model", "fp16"};
    configuration.campaign = "crafted";
    crafted.configurations.push_back(configuration);
  }
  std::mt19937 random(7);
  std::uniform_real_distribution<double> uniform(-1, 1);
  const int ttft = static_cast<int>(TailTarget::kTtft);
  for (int i = 0; i < kConfigurations; ++i) {
    const double level = 1.5 * uniform(random);
    for (int r = 0; r < kRows; ++r) {
      const float row[] = {static_cast<float>(uniform(random)),
                           level_in_features ? static_cast<float>(level) : 0.0f};
      crafted.features.AddRow(row);
      TailSample sample;
      sample.feature_row = i * kRows + r;
      sample.configuration = &crafted.configurations[i];
      sample.curve_fold = r % 4;
      sample.configuration_fold = i % 4;
      sample.log_over_reference[ttft] = level + std::log(4.0);
      sample.log_mean_over_reference[ttft] = level;
      const double held_out = mean_known ? level : 1.5 * uniform(random);
      sample.held_out_log_mean_over_reference = {held_out, held_out};
      crafted.samples.push_back(sample);
    }
  }
  return crafted;
}

XGBoostParams CraftedParams() {
  XGBoostParams params;
  params.tree_count = 60;
  params.learning_rate = 0.24;
  params.threads = 1;
  return params;
}

// What no feature carries but the mean knows is learnt over the mean: the held-out answers weigh
// that form, and a new configuration's tail follows its mean.
TEST(LatencyTailsTest, ALevelOnlyTheMeanKnowsWeighsTheOverMeanForm) {
  const CraftedTails crafted = Crafted(/*level_in_features=*/false, /*mean_known=*/true);
  auto tails = LatencyTails::Train(crafted.features, crafted.samples, CraftedParams(), 4);
  ASSERT_TRUE(tails.ok()) << tails.status();
  ASSERT_TRUE(tails->trained(TailTarget::kTtft));
  EXPECT_FALSE(tails->trained(TailTarget::kTpot)) << "no sample carries a TPOT tail";
  Configuration unseen = crafted.configurations[0];
  unseen.num_gpus = 99;
  const auto calibration = tails->CalibrationOf(TailTarget::kTtft, unseen, 0.9);
  ASSERT_TRUE(calibration.has_value());
  EXPECT_GE(calibration->mean_weight, 0.9);
  const float rows[] = {0.5f, 0.0f, -0.5f, 0.0f};
  const double means[] = {0.8, -0.6};
  double out[2];
  tails->PredictLogOverReference(TailTarget::kTtft, calibration->mean_weight, rows, 2, means, out);
  EXPECT_NEAR(out[0], 0.8 + std::log(4.0), 0.15);
  EXPECT_NEAR(out[1], -0.6 + std::log(4.0), 0.15);
  Configuration elsewhere = unseen;
  elsewhere.campaign = "another";
  EXPECT_FALSE(tails->CalibrationOf(TailTarget::kTtft, elsewhere, 0.9).has_value());
}

// Where the features carry the level and the held-out mean errs, the tail over the reference
// wins, and the weight of the over-mean form stays near 0.
TEST(LatencyTailsTest, AMeanThatErrsWeighsLittle) {
  const CraftedTails crafted = Crafted(/*level_in_features=*/true, /*mean_known=*/false);
  auto tails = LatencyTails::Train(crafted.features, crafted.samples, CraftedParams(), 4);
  ASSERT_TRUE(tails.ok()) << tails.status();
  Configuration unseen = crafted.configurations[0];
  unseen.num_gpus = 99;
  const auto calibration = tails->CalibrationOf(TailTarget::kTtft, unseen, 0.9);
  ASSERT_TRUE(calibration.has_value());
  EXPECT_LE(calibration->mean_weight, 0.2);
}

TEST(LatencyTailsTest, AHigherLevelWidensTheTailIntervals) {
  auto model = TrainOn(TwoCampaigns());
  ASSERT_NE(model, nullptr);
  auto narrow = model->Predict({Of("with-tails", 8), {256, 256}}, kBatches, 0.5);
  auto wide = model->Predict({Of("with-tails", 8), {256, 256}}, kBatches, 0.95);
  ASSERT_TRUE(narrow.ok() && wide.ok());
  for (size_t i = 0; i < narrow->size(); ++i) {
    EXPECT_EQ((*narrow)[i].p99_ttft_s, (*wide)[i].p99_ttft_s);
    EXPECT_GT((*wide)[i].p99_ttft_upper_s, (*narrow)[i].p99_ttft_upper_s);
    EXPECT_GT((*wide)[i].p99_tpot_upper_s, (*narrow)[i].p99_tpot_upper_s);
  }
}

TEST(LatencyTailsBundleTest, RoundTripKeepsTheTailsAndAFormat18BundleAnswersNone) {
  auto model = TrainOn(TwoCampaigns());
  ASSERT_NE(model, nullptr);
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> loaded =
      DecodeModelBundle(EncodeModelBundle(*model));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> format18 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format18PayloadOf(*model), 18));
  ASSERT_TRUE(format18.ok()) << format18.status();
  const PredictionQuery query{Of("with-tails", 8), {256, 256}};
  auto before = model->Predict(query, kBatches, 0.9);
  auto after = (*loaded)->Predict(query, kBatches, 0.9);
  auto old = (*format18)->Predict(query, kBatches, 0.9);
  // Format 18 averages the anchors' readings, as format 22 still does.
  const std::shared_ptr<const PerfcastModel> averaged = testing::AsFormat22(*model);
  ASSERT_NE(averaged, nullptr);
  auto averaged_answers = averaged->Predict(query, kBatches, 0.9);
  ASSERT_TRUE(before.ok() && after.ok() && old.ok() && averaged_answers.ok());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_DOUBLE_EQ((*after)[i].p99_ttft_s, (*before)[i].p99_ttft_s);
    EXPECT_DOUBLE_EQ((*after)[i].p99_ttft_lower_s, (*before)[i].p99_ttft_lower_s);
    EXPECT_DOUBLE_EQ((*after)[i].p99_tpot_upper_s, (*before)[i].p99_tpot_upper_s);
    // The older bundle keeps every other answer and gives no tail.
    EXPECT_DOUBLE_EQ((*old)[i].ttft_s, (*averaged_answers)[i].ttft_s);
    EXPECT_DOUBLE_EQ((*old)[i].throughput_tokens_per_s,
                     (*averaged_answers)[i].throughput_tokens_per_s);
    EXPECT_EQ((*old)[i].p99_ttft_s, 0);
    EXPECT_EQ((*old)[i].p99_tpot_s, 0);
  }
}

TEST(LatencyTailsBundleTest, ABadFlagAWeightWithoutItsRegressorOrAnotherWidthIsDataLoss) {
  {
    ByteWriter writer;
    writer.PutU32(2);
    ByteReader reader(writer.Take());
    EXPECT_EQ(LatencyTails::DecodeFrom(reader, 11).status().code(), absl::StatusCode::kDataLoss);
  }
  {
    // A weight for an over-mean regressor that is not there.
    FeatureMatrix features;
    features.column_count = 2;
    std::vector<float> targets;
    for (int i = 0; i < 20; ++i) {
      const float row[] = {static_cast<float>(i), 1.0f};
      features.AddRow(row);
      targets.push_back(0.1f * i);
    }
    auto regressor = XGBoostRegressor::Train(features, targets, CraftedParams());
    ASSERT_TRUE(regressor.ok()) << regressor.status();
    ByteWriter writer;
    writer.PutU32(1);
    regressor->EncodeTo(writer);
    writer.PutU32(0);  // no over-mean regressor
    for (double weight : {0.5, 0.0}) {
      writer.PutDouble(weight);
      writer.PutU32(0);  // no scores
    }
    writer.PutU32(0);  // configurations
    writer.PutU32(0);  // campaigns
    writer.PutU32(0);  // no TPOT tail
    const std::string bytes = writer.Take();
    ByteReader reader(bytes);
    EXPECT_EQ(LatencyTails::DecodeFrom(reader, 2).status().code(), absl::StatusCode::kDataLoss);
  }
  auto model = TrainOn(TwoCampaigns());
  ASSERT_NE(model, nullptr);
  ByteWriter writer;
  PerfcastModelInternal::StateOf(*model).latency.EncodeTailsTo(writer);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  EXPECT_EQ(LatencyTails::DecodeFrom(reader, 3).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace perfcast
