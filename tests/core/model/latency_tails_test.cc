#include "core/model/latency_tails.h"

#include <algorithm>
#include <cmath>
#include <memory>
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

// Where each configuration's TTFT sits at a level of its own over the backbone but its tail is
// one ratio of its mean, the tail is learnt best over the mean: the held-out answers weigh that
// form.
TEST(LatencyTailsTest, ATailThatIsOneRatioOfItsMeanWeighsTheOverMeanForm) {
  std::vector<BenchmarkRecord> records = Records("ratio", false);
  for (BenchmarkRecord& r : records) {
    // A level per configuration that no feature carries.
    const double level =
        1 +
        0.7 * ((r.configuration.num_gpus * 7 + (r.configuration.hardware == "gpu-b" ? 3 : 0)) % 5);
    const double batch_latency =
        static_cast<double>(r.shape.output_tokens) * r.batch_size / r.throughput_tokens_per_s;
    r.ttft_s = std::min(*r.ttft_s * level, 0.9 * batch_latency);
    r.itl_s = (batch_latency - *r.ttft_s) / (r.shape.output_tokens - 1);
    r.p99_ttft_s = 4 * *r.ttft_s;
  }
  auto model = TrainOn(records);
  ASSERT_NE(model, nullptr);
  const LatencyTails& tails = PerfcastModelInternal::StateOf(*model).latency.tails();
  ASSERT_TRUE(tails.trained(TailTarget::kTtft));
  EXPECT_FALSE(tails.trained(TailTarget::kTpot)) << "no TPOT tail in the data";
  EXPECT_GE(tails.mean_weight(TailTarget::kTtft, Of("ratio", 8)), 0.5);
  auto prediction = model->Predict({Of("ratio", 4), {256, 256}}, kBatches, 0.9);
  ASSERT_TRUE(prediction.ok()) << prediction.status();
  for (const PointPrediction& p : *prediction) {
    EXPECT_NEAR(p.p99_ttft_s / p.ttft_s, 4, 0.8) << "batch " << p.batch_size;
    EXPECT_EQ(p.p99_tpot_s, 0);
  }
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
  ASSERT_TRUE(before.ok() && after.ok() && old.ok());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_DOUBLE_EQ((*after)[i].p99_ttft_s, (*before)[i].p99_ttft_s);
    EXPECT_DOUBLE_EQ((*after)[i].p99_ttft_lower_s, (*before)[i].p99_ttft_lower_s);
    EXPECT_DOUBLE_EQ((*after)[i].p99_tpot_upper_s, (*before)[i].p99_tpot_upper_s);
    // The older bundle keeps every other answer and gives no tail.
    EXPECT_DOUBLE_EQ((*old)[i].ttft_s, (*before)[i].ttft_s);
    EXPECT_DOUBLE_EQ((*old)[i].throughput_tokens_per_s, (*before)[i].throughput_tokens_per_s);
    EXPECT_EQ((*old)[i].p99_ttft_s, 0);
    EXPECT_EQ((*old)[i].p99_tpot_s, 0);
  }
}

TEST(LatencyTailsBundleTest, ABadPresenceFlagOrARegressorOfAnotherWidthIsDataLoss) {
  {
    ByteWriter writer;
    writer.PutU32(2);
    ByteReader reader(writer.Take());
    EXPECT_EQ(LatencyTails::DecodeFrom(reader, 11).status().code(), absl::StatusCode::kDataLoss);
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
