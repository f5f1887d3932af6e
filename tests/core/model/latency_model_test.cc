#include "core/model/latency_model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/bundle/bundle_format.h"
#include "core/bundle/model_codec.h"
#include "core/catalogue/catalogue.h"
#include "core/catalogue/physical_features.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "core/util/byte_coding.h"
#include "gtest/gtest.h"
#include "tests/core/older_bundles.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

// The synthetic records with a mean TTFT that grows with batch x input tokens and an ITL that
// makes batch latency = TTFT + (output - 1) x ITL, as a static batch's figures do.
std::vector<BenchmarkRecord> RecordsWithLatency() {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  for (BenchmarkRecord& r : records) {
    const double speed = r.configuration.hardware == "gpu-b" ? 1.8 : 1.0;
    const double batch_latency =
        static_cast<double>(r.shape.output_tokens) * r.batch_size / r.throughput_tokens_per_s;
    const double ttft =
        std::min(0.5 * batch_latency, 0.01 + r.batch_size * r.shape.input_tokens /
                                                 (2e5 * speed * r.configuration.num_gpus));
    r.ttft_s = ttft;
    r.itl_s = (batch_latency - ttft) / (r.shape.output_tokens - 1);
  }
  return records;
}

std::shared_ptr<const PerfcastModel> TrainOn(const std::vector<BenchmarkRecord>& records) {
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model =
      PerfcastModel::Train(records, TrainOptions{});
  EXPECT_TRUE(model.ok()) << model.status();
  return *model;
}

const Configuration kKnown{"gpu-a", 2, "vllm", "org/model-7b", "fp16"};
const int kBatches[] = {1, 8, 12, 64, 512};

TEST(LatencyModelTest, EveryCaseAgreesWithTheBatchLatencyAndTheThroughput) {
  auto model = TrainOn(RecordsWithLatency());
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  for (const PredictionQuery& query :
       {PredictionQuery{kKnown, {256, 256}}, PredictionQuery{kKnown, {300, 700}},
        PredictionQuery{unseen, {256, 256}}}) {
    auto prediction = model->Predict(query, kBatches, 0.9);
    ASSERT_TRUE(prediction.ok()) << prediction.status();
    for (const PointPrediction& p : *prediction) {
      ASSERT_EQ(p.latency_statistic, LatencyStatistic::kMean);
      const int out = query.shape.output_tokens;
      EXPECT_NEAR(p.ttft_s + (out - 1) * p.itl_s, p.batch_latency_s, 1e-9 * p.batch_latency_s);
      EXPECT_NEAR(p.throughput_tokens_per_s,
                  static_cast<double>(p.batch_size) * out / p.batch_latency_s,
                  1e-9 * p.throughput_tokens_per_s);
      EXPECT_GT(p.ttft_s, 0);
      EXPECT_GT(p.itl_s, 0);
      EXPECT_LE(p.ttft_lower_s, p.ttft_s);
      EXPECT_GE(p.ttft_upper_s, p.ttft_s);
      EXPECT_LE(p.itl_lower_s, p.itl_s);
      EXPECT_GE(p.itl_upper_s, p.itl_s);
    }
  }
}

// The ITL is the batch latency less the TTFT: an error of the batch latency that the TTFT shares
// moves the decode time by itself, once, not twice.
TEST(ItlLogHalfWidthTest, CarriesTheBatchLatencysErrorOnce) {
  const double latency = 10, ttft = 6, throughput_half_width = 0.2;
  // A TTFT read wholly as a share of the batch latency, with no error of its own: the decode time
  // is a fixed share of the batch latency and errs as it does, however large the TTFT's share.
  EXPECT_NEAR(ItlLogHalfWidth(latency, ttft, 1.0, throughput_half_width, 0, 0),
              throughput_half_width, 1e-12);
  // A TTFT that does not move with the batch latency: the decode time carries all of the
  // latency's error, on a smaller base.
  EXPECT_NEAR(ItlLogHalfWidth(latency, ttft, 0.0, throughput_half_width, 0, 0),
              throughput_half_width * latency / (latency - ttft), 1e-12);
  // The TTFT's own error and the disagreement add as independent errors.
  EXPECT_NEAR(ItlLogHalfWidth(latency, ttft, 1.0, 0, 0.3, 0), 0.3 * ttft / (latency - ttft), 1e-12);
  EXPECT_NEAR(ItlLogHalfWidth(latency, ttft, 1.0, 0, 0, 0.4), 0.4, 1e-12);
  // Never wider than counting the latency's error in the batch latency and again in the whole
  // TTFT, each as independent, as builds before did.
  for (const double share : {0.0, 0.25, 0.5, 1.0}) {
    const double own = 0.3;
    const double ttft_half_width = std::hypot(own, share * throughput_half_width);
    const double independent =
        std::hypot(latency * throughput_half_width, ttft * ttft_half_width) / (latency - ttft);
    EXPECT_LE(ItlLogHalfWidth(latency, ttft, share, throughput_half_width, own, 0),
              independent + 1e-12)
        << share;
  }
}

// Latencies left out of a prediction and added later to some of its points are those a full
// prediction gives them (what a plan without latency objectives does).
TEST(LatencyModelTest, LatenciesAddedLaterAreThoseOfAFullPrediction) {
  auto model = TrainOn(RecordsWithLatency());
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  PredictOptions without_latencies;
  without_latencies.latencies = false;
  for (const PredictionQuery& query :
       {PredictionQuery{kKnown, {300, 700}}, PredictionQuery{unseen, {256, 256}}}) {
    auto full = model->Predict(query, kBatches, 0.9);
    auto bare = model->Predict(query, kBatches, 0.9, without_latencies);
    ASSERT_TRUE(full.ok()) << full.status();
    ASSERT_TRUE(bare.ok()) << bare.status();
    for (const PointPrediction& p : *bare) {
      EXPECT_EQ(p.latency_statistic, LatencyStatistic::kUnavailable);
      EXPECT_EQ(p.ttft_s, 0);
    }
    model->CompleteLatencies(query, 0.9, absl::MakeSpan(*bare).subspan(1, 3));
    for (size_t i = 1; i < 4; ++i) {
      const PointPrediction& later = (*bare)[i];
      const PointPrediction& at_once = (*full)[i];
      ASSERT_EQ(later.latency_statistic, LatencyStatistic::kMean);
      for (double PointPrediction::*figure :
           {&PointPrediction::throughput_tokens_per_s, &PointPrediction::ttft_s,
            &PointPrediction::ttft_lower_s, &PointPrediction::ttft_upper_s, &PointPrediction::itl_s,
            &PointPrediction::itl_lower_s, &PointPrediction::itl_upper_s}) {
        EXPECT_EQ(later.*figure, at_once.*figure) << "batch " << later.batch_size;
      }
    }
    EXPECT_EQ(bare->back().latency_statistic, LatencyStatistic::kUnavailable);
  }
}

// Where TTFT is nearly the whole batch latency, the decode time is a small difference: its
// interval must still stay within what the whole batch may take at its upper bound, where the
// campaign's figures agree (as these do).
TEST(LatencyModelTest, NoLatencyBoundExceedsTheLongestBatch) {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  for (BenchmarkRecord& r : records) {
    const double batch_latency =
        static_cast<double>(r.shape.output_tokens) * r.batch_size / r.throughput_tokens_per_s;
    r.ttft_s = 0.97 * batch_latency;
    r.itl_s = 0.03 * batch_latency / (r.shape.output_tokens - 1);
  }
  auto model = TrainOn(records);
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  for (const PredictionQuery& query :
       {PredictionQuery{kKnown, {256, 256}}, PredictionQuery{unseen, {128, 128}}}) {
    auto prediction = model->Predict(query, kBatches, 0.98);
    ASSERT_TRUE(prediction.ok()) << prediction.status();
    for (const PointPrediction& p : *prediction) {
      ASSERT_EQ(p.latency_statistic, LatencyStatistic::kMean);
      const int out = query.shape.output_tokens;
      const double longest_batch = static_cast<double>(out) * p.batch_size / p.lower_tokens_per_s;
      EXPECT_LE(p.ttft_upper_s, longest_batch * (1 + 1e-9)) << p.batch_size;
      EXPECT_LE(p.itl_upper_s * (out - 1), longest_batch * (1 + 1e-9)) << p.batch_size;
      EXPECT_GE(p.itl_upper_s, p.itl_s);
    }
  }
}

// A campaign whose measured ITL is four times the one its throughput and TTFT imply (runs that
// stop before their requested output) measures gaps past the whole batch's bound, and its ITL
// interval must reach them.
TEST(LatencyModelTest, AnItlIntervalReachesAsFarPastTheBatchAsTheCampaignMeasures) {
  constexpr double kDisagreement = 4;
  std::vector<BenchmarkRecord> records = RecordsWithLatency();
  for (BenchmarkRecord& r : records) *r.itl_s *= kDisagreement;
  auto model = TrainOn(records);
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  for (const PredictionQuery& query :
       {PredictionQuery{kKnown, {256, 256}}, PredictionQuery{unseen, {128, 128}}}) {
    auto prediction = model->Predict(query, kBatches, 0.9);
    ASSERT_TRUE(prediction.ok()) << prediction.status();
    for (const PointPrediction& p : *prediction) {
      ASSERT_EQ(p.latency_statistic, LatencyStatistic::kMean);
      const int out = query.shape.output_tokens;
      const double implied = (p.batch_latency_s - p.ttft_s) / (out - 1);
      EXPECT_NEAR(p.itl_s, implied, 1e-9 * implied);
      EXPECT_GE(p.itl_upper_s, kDisagreement * implied * (1 - 1e-9)) << p.batch_size;
      const double longest_batch = static_cast<double>(out) * p.batch_size / p.lower_tokens_per_s;
      EXPECT_LE(p.itl_upper_s * (out - 1), kDisagreement * longest_batch * (1 + 1e-6));
    }
  }
}

// A campaign whose ITL drifts from its latency at its longest outputs only: the shorter ones,
// whose figures agree, keep bounds within the batch's, and a format-16 copy, which knows the
// campaign's disagreement as a whole, stretches them all.
TEST(LatencyModelTest, AnItlIntervalReadsTheDisagreementOfItsOutputLength) {
  constexpr double kDisagreement = 4;
  std::vector<BenchmarkRecord> records = RecordsWithLatency();
  for (BenchmarkRecord& r : records) {
    if (r.shape.output_tokens == 1024) *r.itl_s *= kDisagreement;
  }
  auto model = TrainOn(records);
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> format16 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format16PayloadOf(*model), 16));
  ASSERT_TRUE(format16.ok()) << format16.status();
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  for (const Configuration& configuration : {kKnown, unseen}) {
    for (int tokens : {256, 1024}) {
      const PredictionQuery query{configuration, {tokens, tokens}};
      auto prediction = model->Predict(query, kBatches, 0.9);
      auto as_format16 = (*format16)->Predict(query, kBatches, 0.9);
      ASSERT_TRUE(prediction.ok() && as_format16.ok());
      for (size_t i = 0; i < prediction->size(); ++i) {
        const PointPrediction& p = (*prediction)[i];
        const PointPrediction& old = (*as_format16)[i];
        const double implied = (p.batch_latency_s - p.ttft_s) / (tokens - 1);
        const double longest_batch =
            static_cast<double>(tokens) * p.batch_size / p.lower_tokens_per_s;
        if (tokens == 1024) {
          EXPECT_GE(p.itl_upper_s, kDisagreement * implied * (1 - 1e-9)) << p.batch_size;
        } else {
          EXPECT_LE(p.itl_upper_s * (tokens - 1), longest_batch * (1 + 1e-9)) << p.batch_size;
          // Its own TTFT: format 16 reads the nearest sibling alone, today's two as near.
          const double old_implied = (old.batch_latency_s - old.ttft_s) / (tokens - 1);
          EXPECT_GE(old.itl_upper_s, kDisagreement * old_implied * (1 - 1e-9)) << p.batch_size;
        }
      }
    }
  }
}

// The disagreement quantiles bound the ITL through their exp: a stored one that is negative or
// not a number is a corrupt bundle.
TEST(LatencyBundleTest, ABadDisagreementQuantileIsDataLoss) {
  std::vector<BenchmarkRecord> records = RecordsWithLatency();
  for (BenchmarkRecord& r : records) *r.itl_s *= 4;  // every disagreement score is log 4
  auto model = TrainOn(records);
  ByteWriter writer;
  PerfcastModelInternal::StateOf(*model).latency.EncodeTo(writer);
  const std::string bytes = writer.Take();
  const double log4 = std::log(4.0);
  std::string quantile(sizeof log4, '\0');
  std::memcpy(quantile.data(), &log4, sizeof log4);
  const size_t at = bytes.find(quantile);
  ASSERT_NE(at, std::string::npos);
  for (double bad : {-0.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    std::string corrupt = bytes;
    std::memcpy(corrupt.data() + at, &bad, sizeof bad);
    ByteReader reader(corrupt);
    EXPECT_EQ(LatencyModel::DecodeFrom(reader, nullptr, kBundleFormatVersion).status().code(),
              absl::StatusCode::kDataLoss)
        << bad;
  }
  ByteReader reader(bytes);
  absl::StatusOr<LatencyModel> decoded =
      LatencyModel::DecodeFrom(reader, nullptr, kBundleFormatVersion);
  ASSERT_TRUE(decoded.ok()) << decoded.status();

  // The same of the quantiles by output length, and of their lengths' order.
  ByteWriter by_output_writer;
  PerfcastModelInternal::StateOf(*model).latency.EncodeDisagreementByOutputTo(by_output_writer);
  const std::string by_output = by_output_writer.Take();
  const size_t quantile_at = by_output.find(quantile);
  ASSERT_NE(quantile_at, std::string::npos);
  std::string bad_quantile = by_output;
  const double negative = -0.5;
  std::memcpy(bad_quantile.data() + quantile_at, &negative, sizeof negative);
  // The first length of the first entry: the order alone would let a negative one pass.
  std::string bad_length = by_output;
  const int32_t negative_length = -1;
  std::memcpy(bad_length.data() + quantile_at - sizeof negative_length, &negative_length,
              sizeof negative_length);
  std::string bad_count = by_output;
  uint32_t entries = 0;
  std::memcpy(&entries, bad_count.data(), sizeof entries);
  ++entries;
  std::memcpy(bad_count.data(), &entries, sizeof entries);
  for (const std::string& corrupt : {bad_quantile, bad_length, bad_count}) {
    LatencyModel copy = *decoded;
    ByteReader tail(corrupt);
    EXPECT_EQ(copy.DecodeDisagreementByOutputFrom(tail).code(), absl::StatusCode::kDataLoss);
  }
  ByteReader tail(by_output);
  EXPECT_TRUE(decoded->DecodeDisagreementByOutputFrom(tail).ok());
  EXPECT_TRUE(tail.empty());
}

TEST(LatencyModelTest, OneOutputTokenIsAllFirstToken) {
  auto model = TrainOn(RecordsWithLatency());
  auto prediction = model->Predict({kKnown, {256, 1}}, kBatches, 0.9);
  ASSERT_TRUE(prediction.ok()) << prediction.status();
  for (const PointPrediction& p : *prediction) {
    ASSERT_EQ(p.latency_statistic, LatencyStatistic::kMean);
    EXPECT_DOUBLE_EQ(p.ttft_s, p.batch_latency_s);
    EXPECT_EQ(p.itl_s, 0);
  }
}

TEST(LatencyModelTest, MeasuredTtftIsPredictedClosely) {
  const std::vector<BenchmarkRecord> records = RecordsWithLatency();
  auto model = TrainOn(records);
  const BenchmarkRecord& record = records[9];
  const int batch[] = {record.batch_size};
  auto prediction = model->Predict({record.configuration, record.shape}, batch, 0.9);
  ASSERT_TRUE(prediction.ok()) << prediction.status();
  EXPECT_NEAR(prediction->front().ttft_s, *record.ttft_s, 0.2 * *record.ttft_s);
}

TEST(LatencyModelTest, NoLatencyDataAnswersNoLatency) {
  auto model = TrainOn(testing::SyntheticRecords());
  auto prediction = model->Predict({kKnown, {256, 256}}, kBatches, 0.9);
  ASSERT_TRUE(prediction.ok()) << prediction.status();
  for (const PointPrediction& p : *prediction) {
    EXPECT_EQ(p.latency_statistic, LatencyStatistic::kUnavailable);
    EXPECT_EQ(p.ttft_s, 0);
    EXPECT_EQ(p.itl_s, 0);
  }
}

TEST(LatencyModelTest, ACampaignWithoutLatenciesIsUnavailableWhenNoneCanBeCalibrated) {
  // One campaign has latencies: nothing calibrates a campaign without them.
  std::vector<BenchmarkRecord> records = RecordsWithLatency();
  for (BenchmarkRecord& r : records) r.configuration.campaign = "with-latency";
  std::vector<BenchmarkRecord> other = testing::SyntheticRecords();
  for (BenchmarkRecord& r : other) r.configuration.campaign = "throughput-only";
  records.insert(records.end(), other.begin(), other.end());
  auto model = TrainOn(records);
  Configuration configuration = kKnown;
  configuration.campaign = "throughput-only";
  auto prediction = model->Predict({configuration, {256, 256}}, kBatches, 0.9);
  ASSERT_TRUE(prediction.ok()) << prediction.status();
  EXPECT_EQ(prediction->front().latency_statistic, LatencyStatistic::kUnavailable);
  configuration.campaign = "with-latency";
  prediction = model->Predict({configuration, {256, 256}}, kBatches, 0.9);
  ASSERT_TRUE(prediction.ok()) << prediction.status();
  EXPECT_EQ(prediction->front().latency_statistic, LatencyStatistic::kMean);
}

TEST(LatencyModelTest, AHigherLevelWidensTheLatencyIntervals) {
  auto model = TrainOn(RecordsWithLatency());
  const int batch[] = {16};
  auto narrow = model->Predict({kKnown, {300, 700}}, batch, 0.5);
  auto wide = model->Predict({kKnown, {300, 700}}, batch, 0.95);
  ASSERT_TRUE(narrow.ok() && wide.ok());
  EXPECT_GT(wide->front().ttft_upper_s, narrow->front().ttft_upper_s);
  EXPECT_LT(wide->front().itl_lower_s, narrow->front().itl_lower_s);
  EXPECT_DOUBLE_EQ(wide->front().ttft_s, narrow->front().ttft_s);
}

// The point `p` again, its latencies not yet worked out and its case `prediction_case`.
PointPrediction Uncompleted(PointPrediction p, PredictionCase prediction_case) {
  p.prediction_case = prediction_case;
  p.latency_statistic = LatencyStatistic::kUnavailable;
  p.ttft_s = p.ttft_lower_s = p.ttft_upper_s = p.itl_s = p.itl_lower_s = p.itl_upper_s = 0;
  return p;
}

// Past the batches its curve measured, a configuration's TTFT is extrapolated and its interval
// reads the calibration of larger batches held out; at another shape, that of curves held out.
// A configuration whose latencies were never measured has one calibration for both.
TEST(LatencyModelTest, PastItsCurvesBatchesATtftIntervalReadsItsOwnCalibration) {
  auto model = TrainOn(RecordsWithLatency());
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  const int past_the_curve[] = {512};
  for (const Configuration& configuration : {kKnown, unseen}) {
    const PredictionQuery query{configuration, {256, 256}};
    auto predicted = model->Predict(query, past_the_curve, 0.9);
    ASSERT_TRUE(predicted.ok()) << predicted.status();
    const PointPrediction& point = predicted->front();
    ASSERT_EQ(point.latency_statistic, LatencyStatistic::kMean);
    PointPrediction by_batch[] = {Uncompleted(point, PredictionCase::kExtrapolatedBatch)};
    PointPrediction by_shape[] = {Uncompleted(point, PredictionCase::kExtrapolatedShape)};
    model->CompleteLatencies(query, 0.9, by_batch);
    model->CompleteLatencies(query, 0.9, by_shape);
    // The case moves the TTFT only through the weight its situation gives the sibling.
    const LatencyModel& latency = PerfcastModelInternal::StateOf(*model).latency;
    if (configuration != kKnown ||
        latency.sibling_weight(LatencySituation::kSameConfiguration) ==
            latency.sibling_weight(LatencySituation::kExtrapolatedBatch)) {
      EXPECT_EQ(by_batch[0].ttft_s, by_shape[0].ttft_s);
    } else {
      EXPECT_NE(by_batch[0].ttft_s, by_shape[0].ttft_s);
    }
    if (configuration == kKnown) {
      EXPECT_EQ(point.prediction_case, PredictionCase::kExtrapolatedBatch);
      EXPECT_EQ(point.ttft_upper_s, by_batch[0].ttft_upper_s);
      EXPECT_NE(by_batch[0].ttft_upper_s, by_shape[0].ttft_upper_s);
      EXPECT_NE(by_batch[0].ttft_lower_s, by_shape[0].ttft_lower_s);
    } else {
      EXPECT_EQ(by_batch[0].ttft_upper_s, by_shape[0].ttft_upper_s);
      EXPECT_EQ(by_batch[0].ttft_lower_s, by_shape[0].ttft_lower_s);
    }
  }
}

TEST(TtftBackboneTest, NeverFallsAsTheBatchOrTheInputGrows) {
  absl::StatusOr<Catalogue> catalogue =
      Catalogue::Load(std::string(PERFCAST_SOURCE_DIR) + "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  absl::StatusOr<ResolvedConfiguration> resolved =
      catalogue->Resolve({"NVIDIA H100", 2, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  for (const std::optional<ResolvedConfiguration>& configuration :
       {std::optional<ResolvedConfiguration>(*resolved), std::optional<ResolvedConfiguration>()}) {
    for (BatchSemantics axis : kAllBatchSemantics) {
      for (int input = 16; input <= 32768; input *= 2) {
        double previous = 0;
        for (int batch = 1; batch <= 2048; batch *= 2) {
          const double seconds = TtftBackboneSeconds(configuration, {input, 128}, batch, axis);
          EXPECT_GT(seconds, 0);
          EXPECT_GE(seconds, previous) << "batch " << batch << " input " << input;
          EXPECT_GE(seconds, TtftBackboneSeconds(configuration, {input / 2, 128}, batch, axis))
              << "batch " << batch << " input " << input;
          previous = seconds;
        }
      }
    }
  }
}

// A static batch prefills all its prompts before its first token; under a client's concurrency a
// request prefills its own, so only the decode step grows with the batch there.
TEST(TtftBackboneTest, UnderConcurrencyARequestPrefillsItsOwnPrompt) {
  absl::StatusOr<Catalogue> catalogue =
      Catalogue::Load(std::string(PERFCAST_SOURCE_DIR) + "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  const std::optional<ResolvedConfiguration> resolved = catalogue->LookupConfiguration(
      {"NVIDIA H100", 2, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"});
  ASSERT_TRUE(resolved.has_value());
  const Shape shape{4096, 128};
  const auto backbone = [&](int batch, BatchSemantics axis) {
    return TtftBackboneSeconds(resolved, shape, batch, axis);
  };

  EXPECT_DOUBLE_EQ(backbone(1, BatchSemantics::kConcurrency), backbone(1, BatchSemantics::kStatic));
  for (int batch : {2, 16, 256}) {
    const double concurrent = backbone(batch, BatchSemantics::kConcurrency);
    const double all_prompts = backbone(batch, BatchSemantics::kStatic);
    // They differ by the other prompts' prefill, at the same peak rate.
    const double prefill_rate =
        ComputePhysicalCeilings(*resolved, shape, batch).prefill_tokens_per_s;
    EXPECT_NEAR(all_prompts - concurrent, (batch - 1.0) * shape.input_tokens / prefill_rate,
                1e-12 * all_prompts)
        << batch;
    EXPECT_LT(concurrent, all_prompts) << batch;
    EXPECT_DOUBLE_EQ(backbone(batch, BatchSemantics::kMaxThroughput), all_prompts) << batch;
  }
  // Without catalogue figures, the stand-in rates: one prompt and a fixed step under concurrency.
  EXPECT_DOUBLE_EQ(TtftBackboneSeconds(std::nullopt, shape, 64, BatchSemantics::kConcurrency),
                   4096 / 10000.0 + 0.01);
  EXPECT_DOUBLE_EQ(TtftBackboneSeconds(std::nullopt, shape, 64, BatchSemantics::kStatic),
                   64 * 4096 / 10000.0 + 0.01);
}

TEST(LatencyBundleTest, RoundTripKeepsTheLatencyAnswers) {
  auto model = TrainOn(RecordsWithLatency());
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> loaded =
      DecodeModelBundle(EncodeModelBundle(*model));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  for (const PredictionQuery& query :
       {PredictionQuery{kKnown, {300, 700}}, PredictionQuery{unseen, {256, 256}}}) {
    auto before = model->Predict(query, kBatches, 0.9);
    auto after = (*loaded)->Predict(query, kBatches, 0.9);
    ASSERT_TRUE(before.ok() && after.ok());
    for (size_t i = 0; i < before->size(); ++i) {
      EXPECT_EQ((*after)[i].latency_statistic, LatencyStatistic::kMean);
      EXPECT_DOUBLE_EQ((*after)[i].ttft_s, (*before)[i].ttft_s);
      EXPECT_DOUBLE_EQ((*after)[i].ttft_upper_s, (*before)[i].ttft_upper_s);
      EXPECT_DOUBLE_EQ((*after)[i].itl_s, (*before)[i].itl_s);
      EXPECT_DOUBLE_EQ((*after)[i].itl_lower_s, (*before)[i].itl_lower_s);
    }
  }
}

// Format 24's latency correction was trained over the static batch's backbone on every axis: a
// bundle of that format reads it so, where today's reads a concurrency query's own.
TEST(LatencyBundleTest, AFormat24BundleReadsTheStaticBackboneUnderConcurrency) {
  std::vector<BenchmarkRecord> records = RecordsWithLatency();
  for (BenchmarkRecord& r : records) r.configuration.batch_semantics = BatchSemantics::kConcurrency;
  auto model = TrainOn(records);
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> today =
      DecodeModelBundle(EncodeModelBundle(*model));
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> format24 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format25PayloadOf(*model), 24));
  ASSERT_TRUE(today.ok()) << today.status();
  ASSERT_TRUE(format24.ok()) << format24.status();
  Configuration concurrent = kKnown;
  concurrent.batch_semantics = BatchSemantics::kConcurrency;
  const int batches[] = {1, 64};
  auto trained = model->Predict({concurrent, {300, 700}}, batches, 0.9);
  auto read = (*today)->Predict({concurrent, {300, 700}}, batches, 0.9);
  auto read_as_24 = (*format24)->Predict({concurrent, {300, 700}}, batches, 0.9);
  ASSERT_TRUE(trained.ok() && read.ok() && read_as_24.ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_DOUBLE_EQ((*read)[i].ttft_s, (*trained)[i].ttft_s) << batches[i];
    EXPECT_DOUBLE_EQ((*read_as_24)[i].throughput_tokens_per_s,
                     (*trained)[i].throughput_tokens_per_s);
  }
  // One request: both backbones are its own prompt. Sixty-four: format 24 reads theirs all.
  EXPECT_DOUBLE_EQ((*read_as_24)[0].ttft_s, (*trained)[0].ttft_s);
  EXPECT_NE((*read_as_24)[1].ttft_s, (*trained)[1].ttft_s);
  // A static batch's backbone is the same in both formats, so its answers are too.
  auto static_today = (*today)->Predict({kKnown, {300, 700}}, batches, 0.9);
  auto static_as_24 = (*format24)->Predict({kKnown, {300, 700}}, batches, 0.9);
  ASSERT_TRUE(static_today.ok() && static_as_24.ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_DOUBLE_EQ((*static_as_24)[i].ttft_s, (*static_today)[i].ttft_s) << batches[i];
    EXPECT_DOUBLE_EQ((*static_as_24)[i].itl_s, (*static_today)[i].itl_s) << batches[i];
  }
}

TEST(LatencyBundleTest, AFormatSevenBundleLoadsWithoutLatencyAnswers) {
  // A version-7 payload is today's without the latency section, which for a model trained on no
  // latencies is one u32 0, and without the whole-curve calibration after it (format 9).
  auto model = TrainOn(testing::SyntheticRecords());
  const std::string payload = testing::Format14PayloadOf(*model);
  ByteWriter whole_curves;
  PerfcastModelInternal::StateOf(*model).whole_curve_calibration.EncodeTo(whole_curves);
  const size_t tail = 4 + whole_curves.Take().size();
  std::string old = testing::SealedAsFormat(payload.substr(0, payload.size() - tail), 7);
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> loaded = DecodeModelBundle(old);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  // Format 7 averages the anchors' readings, as format 22 still does.
  auto before = testing::AsFormat22(*model)->Predict({kKnown, {300, 700}}, kBatches, 0.9);
  auto after = (*loaded)->Predict({kKnown, {300, 700}}, kBatches, 0.9);
  ASSERT_TRUE(before.ok() && after.ok());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_DOUBLE_EQ((*after)[i].throughput_tokens_per_s, (*before)[i].throughput_tokens_per_s);
    EXPECT_EQ((*after)[i].latency_statistic, LatencyStatistic::kUnavailable);
  }
  old[8] = 6;
  EXPECT_EQ(DecodeModelBundle(old).status().code(), absl::StatusCode::kInvalidArgument);
}

// A format-10 bundle has no calibration of its own for larger batches: past a curve it answers
// with its same-configuration one, as it did when it was written. It is compared with the same
// model as format 15 wrote it, which weighs no sibling either.
TEST(LatencyBundleTest, AFormatTenBundleAnswersPastACurveAsItDid) {
  auto trained = TrainOn(RecordsWithLatency());
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> as_format15 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format15PayloadOf(*trained), 15));
  ASSERT_TRUE(as_format15.ok()) << as_format15.status();
  const std::shared_ptr<const PerfcastModel>& model = *as_format15;
  const std::string format14 = testing::Format14PayloadOf(*model);
  const absl::string_view payload = format14;
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(*model);
  ByteWriter latency_writer, whole_curves_writer;
  state.latency.EncodeTo(latency_writer);
  state.whole_curve_calibration.EncodeTo(whole_curves_writer);
  const std::string latency = latency_writer.Take();
  const std::string whole_curves = whole_curves_writer.Take();
  ASSERT_GE(payload.size(), latency.size() + whole_curves.size());
  const absl::string_view before_latency =
      payload.substr(0, payload.size() - latency.size() - whole_curves.size());
  ASSERT_EQ(payload.substr(before_latency.size(), latency.size()), latency);

  // The latency section's layout: presence, five vocabularies, configurations, campaigns, then
  // each situation's score count and, when it has scores, 201 quantiles.
  ByteReader reader(latency);
  size_t offset = 4;
  ASSERT_EQ(*reader.GetU32(), 1u);
  for (int list = 0; list < 7; ++list) {
    const uint32_t count = *reader.GetU32();
    offset += 4;
    for (uint32_t i = 0; i < count; ++i) offset += 4 + reader.GetString()->size();
  }
  size_t extrapolated_begin = 0, extrapolated_end = 0;
  for (int situation = 0; situation < kLatencySituationCount; ++situation) {
    if (situation == static_cast<int>(LatencySituation::kExtrapolatedBatch)) {
      extrapolated_begin = offset;
    }
    const uint32_t count = *reader.GetU32();
    offset += 4;
    if (count > 0) {
      for (int q = 0; q < 201; ++q) ASSERT_TRUE(reader.GetDouble().ok());
      offset += 201 * 8;
    }
    if (situation == static_cast<int>(LatencySituation::kExtrapolatedBatch)) {
      extrapolated_end = offset;
      ASSERT_GT(count, 0u) << "the synthetic curves hold larger batches out";
    }
  }
  std::string old_latency = latency;
  old_latency.erase(extrapolated_begin, extrapolated_end - extrapolated_begin);
  const std::string old =
      testing::SealedAsFormat(absl::StrCat(before_latency, old_latency, whole_curves), 10);
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> loaded = DecodeModelBundle(old);
  ASSERT_TRUE(loaded.ok()) << loaded.status();

  const PredictionQuery query{kKnown, {256, 256}};
  const int batches[] = {8, 512};
  auto now = model->Predict(query, batches, 0.9);
  auto then = (*loaded)->Predict(query, batches, 0.9);
  ASSERT_TRUE(now.ok() && then.ok());
  for (size_t i = 0; i < now->size(); ++i) {
    EXPECT_EQ((*then)[i].throughput_tokens_per_s, (*now)[i].throughput_tokens_per_s);
    EXPECT_EQ((*then)[i].ttft_s, (*now)[i].ttft_s);
  }
  EXPECT_EQ((*then)[0].ttft_upper_s, (*now)[0].ttft_upper_s) << "a measured batch: as before";
  // Past the curve: the same-configuration calibration, which a new shape reads.
  ASSERT_EQ((*then)[1].prediction_case, PredictionCase::kExtrapolatedBatch);
  PointPrediction as_new_shape[] = {Uncompleted((*now)[1], PredictionCase::kExtrapolatedShape)};
  model->CompleteLatencies(query, 0.9, as_new_shape);
  EXPECT_EQ((*then)[1].ttft_upper_s, as_new_shape[0].ttft_upper_s);
  EXPECT_NE((*then)[1].ttft_upper_s, (*now)[1].ttft_upper_s);
}

// The records of RecordsWithLatency twice over: campaign "steady" as they are, and campaign
// "erratic" with each curve's TTFT off the law by a factor of up to e^0.9 that no feature tells.
std::vector<BenchmarkRecord> RecordsOfASteadyAndAnErraticCampaign() {
  std::vector<BenchmarkRecord> records;
  for (const char* campaign : {"steady", "erratic"}) {
    for (BenchmarkRecord r : RecordsWithLatency()) {
      r.configuration.campaign = campaign;
      r.source = campaign;
      if (r.configuration.campaign == "erratic") {
        const double batch_latency =
            static_cast<double>(r.shape.output_tokens) * r.batch_size / r.throughput_tokens_per_s;
        const double off =
            0.9 * std::sin(1.7 * r.configuration.num_gpus + r.shape.input_tokens / 97.0 +
                           (r.configuration.hardware == "gpu-b" ? 2.3 : 0));
        r.ttft_s = std::min(0.9 * batch_latency, *r.ttft_s * std::exp(off));
        r.itl_s = (batch_latency - *r.ttft_s) / (r.shape.output_tokens - 1);
      }
      records.push_back(r);
    }
  }
  return records;
}

// The log half-width of the TTFT's interval (its lower side: the upper one may be capped).
double TtftHalfWidth(const PointPrediction& p) { return std::log(p.ttft_s / p.ttft_lower_s); }

TEST(LatencyCampaignScoresTest, ACampaignWhoseTtftErrsMoreReadsItsOwnWiderCalibration) {
  auto model = TrainOn(RecordsOfASteadyAndAnErraticCampaign());
  // The same model as format 19 saved it, which calibrates every campaign with the pooled scores.
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> pooled =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format19PayloadOf(*model), 19));
  ASSERT_TRUE(pooled.ok()) << pooled.status();

  const int batches[] = {8, 32};
  for (int k = 0; k < 2; ++k) {
    Configuration unseen = kKnown;
    unseen.num_gpus = 8;
    unseen.campaign = k == 0 ? "steady" : "erratic";
    const PredictionQuery query{unseen, {256, 256}};
    // Averaged over the anchors as format 19 does: only the calibration differs.
    auto own = testing::AsFormat22(*model)->Predict(query, batches, 0.9);
    auto then = (*pooled)->Predict(query, batches, 0.9);
    ASSERT_TRUE(own.ok() && then.ok());
    for (size_t i = 0; i < own->size(); ++i) {
      ASSERT_EQ((*own)[i].latency_statistic, LatencyStatistic::kMean);
      EXPECT_EQ((*own)[i].ttft_s, (*then)[i].ttft_s) << "the calibration moves no answer";
      if (k == 0) {
        EXPECT_LT(TtftHalfWidth((*own)[i]), TtftHalfWidth((*then)[i]))
            << "steady: narrower than the pooled campaigns', batch " << batches[i];
      } else {
        EXPECT_GT(TtftHalfWidth((*own)[i]), TtftHalfWidth((*then)[i]))
            << "erratic: wider than the pooled campaigns', batch " << batches[i];
      }
    }
  }
}

TEST(LatencyCampaignScoresTest, OneCampaignAnswersAsThePooledCalibrationDid) {
  // One campaign's own scores are the pooled ones: every bound as format 19 gave it, for points
  // with a sibling and without one (a shape no other configuration measured).
  auto model = TrainOn(RecordsWithLatency());
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> pooled =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format19PayloadOf(*model), 19));
  ASSERT_TRUE(pooled.ok()) << pooled.status();
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  for (const PredictionQuery& query :
       {PredictionQuery{kKnown, {256, 256}}, PredictionQuery{kKnown, {300, 700}},
        PredictionQuery{unseen, {256, 256}}, PredictionQuery{unseen, {300, 700}}}) {
    auto now = testing::AsFormat22(*model)->Predict(query, kBatches, 0.9);
    auto then = (*pooled)->Predict(query, kBatches, 0.9);
    ASSERT_TRUE(now.ok() && then.ok());
    for (size_t i = 0; i < now->size(); ++i) {
      ASSERT_EQ((*now)[i].latency_statistic, LatencyStatistic::kMean);
      EXPECT_EQ((*now)[i].ttft_lower_s, (*then)[i].ttft_lower_s) << query.shape.output_tokens;
      EXPECT_EQ((*now)[i].ttft_upper_s, (*then)[i].ttft_upper_s) << query.shape.output_tokens;
      EXPECT_EQ((*now)[i].itl_lower_s, (*then)[i].itl_lower_s) << query.shape.output_tokens;
      EXPECT_EQ((*now)[i].itl_upper_s, (*then)[i].itl_upper_s) << query.shape.output_tokens;
    }
  }
}

TEST(LatencyCampaignScoresTest, ACampaignCountOtherThanTheTrainedCampaignsIsDataLoss) {
  auto model = TrainOn(RecordsOfASteadyAndAnErraticCampaign());
  ByteWriter campaign_scores;
  PerfcastModelInternal::StateOf(*model).latency.EncodeCampaignScoresTo(campaign_scores);
  const std::string scores = campaign_scores.Take();
  // The first situation's count of campaigns (two trained) claimed as three.
  std::string bad = testing::Format19PayloadOf(*model);
  std::string bad_scores = scores;
  uint32_t count = 0;
  std::memcpy(&count, bad_scores.data(), sizeof count);
  ASSERT_EQ(count, 2u);
  bad_scores[0] = 3;
  bad += bad_scores;
  const absl::Status status = DecodeModelBundle(SealBundle(bad)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("campaigns' scores"), std::string::npos) << status;

  // The first campaign's count of answers one higher: the campaigns no longer split the pool.
  std::string miscounted = scores;
  int32_t first_count = 0;
  std::memcpy(&first_count, miscounted.data() + 4, sizeof first_count);
  ASSERT_GT(first_count, 0);
  ++first_count;
  std::memcpy(miscounted.data() + 4, &first_count, sizeof first_count);
  const absl::Status split =
      DecodeModelBundle(SealBundle(testing::Format19PayloadOf(*model) + miscounted)).status();
  EXPECT_EQ(split.code(), absl::StatusCode::kDataLoss) << split;
  EXPECT_NE(split.message().find("the pooled"), std::string::npos) << split;

  // Scores for the campaign held out whole, the last situation, which training leaves without
  // any: two campaigns of no answers each, so only that rule refuses them.
  ASSERT_GE(scores.size(), 4u);
  ASSERT_EQ(scores.substr(scores.size() - 4), std::string(4, '\0'));
  ByteWriter held_out;
  for (uint32_t value : {2u, 0u, 0u}) held_out.PutU32(value);
  const std::string claimed = scores.substr(0, scores.size() - 4) + held_out.Take();
  const absl::Status held_out_status =
      DecodeModelBundle(SealBundle(testing::Format19PayloadOf(*model) + claimed)).status();
  EXPECT_EQ(held_out_status.code(), absl::StatusCode::kDataLoss) << held_out_status;
  EXPECT_NE(held_out_status.message().find("campaign held out"), std::string::npos)
      << held_out_status;
}

// Records whose TTFT is `share(shape, batch, configuration)` of their batch latency.
template <typename Share>
std::vector<BenchmarkRecord> RecordsWithShare(Share share) {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  for (BenchmarkRecord& r : records) {
    const double batch_latency =
        static_cast<double>(r.shape.output_tokens) * r.batch_size / r.throughput_tokens_per_s;
    r.ttft_s = share(r) * batch_latency;
    r.itl_s = (batch_latency - *r.ttft_s) / (r.shape.output_tokens - 1);
  }
  return records;
}

// A share that depends on the batch and the shape in a way no configuration changes.
double SharedShare(const BenchmarkRecord& r) {
  return 0.02 + 0.3 * std::abs(std::sin(0.37 * r.batch_size + r.shape.input_tokens / 100.0));
}

TEST(LatencySiblingTest, AShareEveryConfigurationSharesIsReadOffTheSiblingAlone) {
  auto trained = TrainOn(RecordsWithShare(SharedShare));
  const LatencyModel& latency = PerfcastModelInternal::StateOf(*trained).latency;
  EXPECT_EQ(latency.sibling_weight(LatencySituation::kNewConfiguration), 1);
  EXPECT_EQ(latency.sibling_weight(LatencySituation::kSameConfiguration), 1);
  EXPECT_EQ(latency.sibling_weight(LatencySituation::kNewCampaign), 0) << "one campaign: none";

  // A new GPU count reads its TTFT as the measured share of its own predicted batch latency.
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  const int batches[] = {8, 64};
  auto predicted = trained->Predict({unseen, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  for (const PointPrediction& p : *predicted) {
    BenchmarkRecord at;
    at.shape = {256, 256};
    at.batch_size = p.batch_size;
    EXPECT_NEAR(p.ttft_s, SharedShare(at) * p.batch_latency_s, 1e-9 * p.ttft_s) << p.batch_size;
  }
}

// Within the batches of its own latency curve, the correction was trained on a configuration's
// TTFT: it answers there alone, even where new shapes read the sibling alone.
TEST(LatencySiblingTest, AConfigurationsOwnMeasuredBatchesReadNoSibling) {
  auto trained = TrainOn(RecordsWithShare(SharedShare));
  ASSERT_EQ(PerfcastModelInternal::StateOf(*trained).latency.sibling_weight(
                LatencySituation::kSameConfiguration),
            1);
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> as_format15 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format15PayloadOf(*trained), 15));
  ASSERT_TRUE(as_format15.ok()) << as_format15.status();
  const int batches[] = {1, 8, 12, 128};
  auto now = trained->Predict({kKnown, {256, 256}}, batches, 0.9);
  auto then = (*as_format15)->Predict({kKnown, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(now.ok() && then.ok());
  for (size_t i = 0; i < now->size(); ++i) {
    EXPECT_EQ((*now)[i].ttft_s, (*then)[i].ttft_s) << (*now)[i].batch_size;
  }
}

// Where the sibling answers exactly, the held-out answers that had none err far more: a point
// without a sibling reads their scores, not the pooled ones a point within its own curve reads.
TEST(LatencySiblingTest, APointWithoutASiblingReadsTheAnswersThatHadNone) {
  std::vector<BenchmarkRecord> records = RecordsWithShare(SharedShare);
  // Two shapes only the known configuration measured, at half the shared share.
  std::vector<BenchmarkRecord> own_shapes;
  for (const BenchmarkRecord& r : records) {
    if (r.configuration != kKnown || r.shape.input_tokens != r.shape.output_tokens ||
        (r.shape.input_tokens != 512 && r.shape.input_tokens != 1024)) {
      continue;
    }
    BenchmarkRecord copy = r;
    copy.shape.output_tokens -= 12;
    const double batch_latency = static_cast<double>(copy.shape.output_tokens) * copy.batch_size /
                                 copy.throughput_tokens_per_s;
    copy.ttft_s = 0.5 * SharedShare(copy) * batch_latency;
    copy.itl_s = (batch_latency - *copy.ttft_s) / (copy.shape.output_tokens - 1);
    own_shapes.push_back(copy);
  }
  ASSERT_EQ(own_shapes.size(), 12u);
  records.insert(records.end(), own_shapes.begin(), own_shapes.end());
  auto trained = TrainOn(records);
  ASSERT_EQ(PerfcastModelInternal::StateOf(*trained).latency.sibling_weight(
                LatencySituation::kSameConfiguration),
            1);

  // The score part of a TTFT's log half-width, without the batch latency's (w = 0 for both).
  auto score_half_width = [](const PointPrediction& p) {
    const double h = std::log(p.ttft_s / p.ttft_lower_s);
    const double h_latency = std::log(p.upper_tokens_per_s / p.throughput_tokens_per_s);
    return std::sqrt(std::max(0.0, h * h - 0.25 * h_latency * h_latency));
  };
  const int batch[] = {8};
  auto within_own = trained->Predict({kKnown, {256, 256}}, batch, 0.9);
  auto unmeasured = trained->Predict({kKnown, {2048, 100}}, batch, 0.9);
  ASSERT_TRUE(within_own.ok() && unmeasured.ok());
  ASSERT_EQ(unmeasured->front().prediction_case, PredictionCase::kExtrapolatedShape);
  EXPECT_GT(score_half_width(unmeasured->front()), 2 * score_half_width(within_own->front()));

  absl::StatusOr<std::shared_ptr<const PerfcastModel>> reloaded =
      DecodeModelBundle(EncodeModelBundle(*trained));
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  auto again = (*reloaded)->Predict({kKnown, {2048, 100}}, batch, 0.9);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->front().ttft_lower_s, unmeasured->front().ttft_lower_s);
}

// Where a configuration's GPU count sets its share, which the correction reads and the sibling
// (of another GPU count) does not carry over, the sibling weighs little.
TEST(LatencySiblingTest, ASiblingThatDiffersWhereTheCorrectionKnowsWeighsLittle) {
  auto trained = TrainOn(
      RecordsWithShare([](const BenchmarkRecord& r) { return 0.4 / r.configuration.num_gpus; }));
  const LatencyModel& latency = PerfcastModelInternal::StateOf(*trained).latency;
  EXPECT_LE(latency.sibling_weight(LatencySituation::kNewConfiguration), 0.25);
}

// The blend is (1 - w) x the correction's log + w x the sibling's, where w is the situation's
// weight; a bundle of format 15 weighs no sibling and answers with the correction alone.
TEST(LatencySiblingTest, ANewConfigurationBlendsTheCorrectionWithItsSibling) {
  const std::vector<BenchmarkRecord> records = RecordsWithLatency();
  auto trained = TrainOn(records);
  const double weight = PerfcastModelInternal::StateOf(*trained).latency.sibling_weight(
      LatencySituation::kNewConfiguration);
  ASSERT_GT(weight, 0);
  ASSERT_LT(weight, 1);
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> as_format15 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format15PayloadOf(*trained), 15));
  ASSERT_TRUE(as_format15.ok()) << as_format15.status();
  for (int s = 0; s < kLatencySituationCount; ++s) {
    EXPECT_EQ(PerfcastModelInternal::StateOf(**as_format15)
                  .latency.sibling_weight(static_cast<LatencySituation>(s)),
              0);
  }

  // The sibling of 8 GPUs of gpu-a is gpu-a with 4, all else equal and the nearest GPU count,
  // read alone as format 22 reads it (format 26 averaged it with 2 GPUs, below; format 27 reads
  // it alone again).
  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  Configuration sibling = kKnown;
  sibling.num_gpus = 4;
  const int batches[] = {8, 64, 512};
  // Averaged over the anchors as format 15 does: only the sibling differs.
  auto now = testing::AsFormat22(*trained)->Predict({unseen, {256, 256}}, batches, 0.9);
  auto then = (*as_format15)->Predict({unseen, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(now.ok() && then.ok());
  for (size_t i = 0; i < now->size(); ++i) {
    const PointPrediction& p = (*now)[i];
    // The sibling's share at the batch; past its last batch (128), its last.
    const int read_at = std::min(p.batch_size, 128);
    std::optional<double> share;
    for (const BenchmarkRecord& r : records) {
      if (r.configuration.hardware == sibling.hardware &&
          r.configuration.num_gpus == sibling.num_gpus && r.shape == Shape{256, 256} &&
          r.batch_size == read_at) {
        share = *r.ttft_s * r.throughput_tokens_per_s / (256.0 * r.batch_size);
      }
    }
    ASSERT_TRUE(share.has_value()) << read_at;
    ASSERT_LT((*then)[i].ttft_s, 0.9 * p.batch_latency_s) << "not capped";
    const double expected = std::exp((1 - weight) * std::log((*then)[i].ttft_s) +
                                     weight * std::log(*share * p.batch_latency_s));
    EXPECT_NEAR(p.ttft_s, expected, 1e-9 * expected) << p.batch_size;
    EXPECT_EQ(p.throughput_tokens_per_s, (*then)[i].throughput_tokens_per_s);
  }
}

// Eight GPUs of gpu-a have two siblings that share every name (four and two GPUs of gpu-a): a
// bundle of format 26 reads the mean of their shares, one of format 25 the nearest one's alone,
// under the same weight; nothing else differs. From format 27 a second sibling must be as many
// times the query's GPU count as the first, and four is nearer than two: read alone again.
TEST(LatencySiblingTest, Format26AveragesSiblingsSharingAsManyFields) {
  const std::vector<BenchmarkRecord> records = RecordsWithLatency();
  auto trained = TrainOn(records);
  const double weight = PerfcastModelInternal::StateOf(*trained).latency.sibling_weight(
      LatencySituation::kNewConfiguration);
  ASSERT_GT(weight, 0);
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> format25 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format25PayloadOf(*trained), 25));
  ASSERT_TRUE(format25.ok()) << format25.status();
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> format26 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format26PayloadOf(*trained), 26));
  ASSERT_TRUE(format26.ok()) << format26.status();

  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  // Each sibling's log share at a batch (128, its last, past it).
  auto log_share = [&](int gpus, int batch) -> std::optional<double> {
    for (const BenchmarkRecord& r : records) {
      if (r.configuration.hardware == "gpu-a" && r.configuration.num_gpus == gpus &&
          r.shape == Shape{256, 256} && r.batch_size == std::min(batch, 128)) {
        return std::log(*r.ttft_s * r.throughput_tokens_per_s / (256.0 * r.batch_size));
      }
    }
    return std::nullopt;
  };
  // Today's sibling rule is format 27's; sealed as 27, its trees are read at every batch as
  // format 25's are (format 28 holds them at the batches they were trained on, past 128 here).
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> format27 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format26PayloadOf(*trained), 27));
  ASSERT_TRUE(format27.ok()) << format27.status();
  const int batches[] = {8, 64, 512};
  auto today = (*format27)->Predict({unseen, {256, 256}}, batches, 0.9);
  auto averaged = (*format26)->Predict({unseen, {256, 256}}, batches, 0.9);
  auto nearest_alone = (*format25)->Predict({unseen, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(today.ok() && averaged.ok() && nearest_alone.ok());
  for (size_t i = 0; i < today->size(); ++i) {
    EXPECT_EQ((*today)[i].ttft_s, (*nearest_alone)[i].ttft_s) << "format 27: four GPUs alone";
    const PointPrediction& p = (*averaged)[i];
    ASSERT_EQ(p.throughput_tokens_per_s, (*nearest_alone)[i].throughput_tokens_per_s);
    ASSERT_LT(p.ttft_s, 0.9 * p.batch_latency_s) << "not capped";
    ASSERT_LT((*nearest_alone)[i].ttft_s, 0.9 * p.batch_latency_s) << "not capped";
    const std::optional<double> four = log_share(4, p.batch_size);
    const std::optional<double> two = log_share(2, p.batch_size);
    ASSERT_TRUE(four.has_value() && two.has_value());
    ASSERT_GT(std::abs(*four - *two), 0.01) << "the siblings must differ to tell them apart";
    EXPECT_NEAR(std::log(p.ttft_s) - std::log((*nearest_alone)[i].ttft_s),
                weight * ((*four + *two) / 2 - *four), 1e-9)
        << p.batch_size;
  }
}

// A second model measured on gpu-b only, whose share is twice the shared one: held out, its
// nearest siblings (the first model on gpu-b) are more than one field apart from it and
// read half its share, where the first model's own configurations read theirs exactly. The
// two kinds of sibling get weights of their own; a bundle of format 25 had one for both.
TEST(LatencySiblingTest, ASiblingOfAnotherModelWeighsByItsOwnWeight) {
  std::vector<BenchmarkRecord> records = RecordsWithShare(SharedShare);
  std::vector<BenchmarkRecord> other_model;
  for (const BenchmarkRecord& r : records) {
    if (r.configuration.hardware != "gpu-b") continue;
    BenchmarkRecord copy = r;
    copy.configuration.model = "org/other-7b";
    const double batch_latency = static_cast<double>(copy.shape.output_tokens) * copy.batch_size /
                                 copy.throughput_tokens_per_s;
    copy.ttft_s = 2 * SharedShare(copy) * batch_latency;
    copy.itl_s = (batch_latency - *copy.ttft_s) / (copy.shape.output_tokens - 1);
    other_model.push_back(copy);
  }
  records.insert(records.end(), other_model.begin(), other_model.end());
  auto trained = TrainOn(records);
  const LatencyModel& latency = PerfcastModelInternal::StateOf(*trained).latency;
  const double near = latency.sibling_weight(LatencySituation::kNewConfiguration);
  const double distant = latency.distant_sibling_weight(LatencySituation::kNewConfiguration);
  EXPECT_EQ(near, 1) << "siblings one field apart read the shared share exactly";
  EXPECT_LT(distant, near) << "a sibling of another model reads half the share";

  // Saved and read back, the two weights stand; read as format 25, one weight serves both.
  const std::string bundle = EncodeModelBundle(*trained);
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> reloaded = DecodeModelBundle(bundle);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  const LatencyModel& read_back = PerfcastModelInternal::StateOf(**reloaded).latency;
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> format25 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format25PayloadOf(*trained), 25));
  ASSERT_TRUE(format25.ok()) << format25.status();
  const LatencyModel& as_25 = PerfcastModelInternal::StateOf(**format25).latency;
  for (int s = 0; s < kLatencySituationCount; ++s) {
    const auto situation = static_cast<LatencySituation>(s);
    EXPECT_EQ(read_back.sibling_weight(situation), latency.sibling_weight(situation));
    EXPECT_EQ(read_back.distant_sibling_weight(situation),
              latency.distant_sibling_weight(situation));
    EXPECT_EQ(as_25.distant_sibling_weight(situation), as_25.sibling_weight(situation));
  }

  // The weights are the payload's last bytes: one outside [0, 1] or not a number is DataLoss.
  const std::string payload = testing::Format25PayloadOf(*trained);
  for (double bad : {-0.1, 1.5, std::nan("")}) {
    ByteWriter weights;
    for (int s = 0; s < kLatencySituationCount; ++s) weights.PutDouble(s == 2 ? bad : 0.5);
    const absl::Status status = DecodeModelBundle(SealBundle(payload + weights.Take())).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << bad;
  }

  // A third model on gpu-a: its nearest sibling, the first model on two GPUs of gpu-a, is of
  // another model. Format 25 reads its share alone (weight 1), today's by the distant weight.
  Configuration third = kKnown;
  third.model = "org/third-7b";
  const int batch[] = {8};
  auto today = (*reloaded)->Predict({third, {256, 256}}, batch, 0.9);
  auto then = (*format25)->Predict({third, {256, 256}}, batch, 0.9);
  ASSERT_TRUE(today.ok() && then.ok());
  BenchmarkRecord at;
  at.shape = {256, 256};
  at.batch_size = 8;
  const PointPrediction& p = today->front();
  ASSERT_EQ(p.throughput_tokens_per_s, then->front().throughput_tokens_per_s);
  EXPECT_NEAR(then->front().ttft_s, SharedShare(at) * p.batch_latency_s, 1e-9 * p.ttft_s);
  EXPECT_GT(std::abs(std::log(p.ttft_s / (SharedShare(at) * p.batch_latency_s))), 1e-3);
}

}  // namespace
}  // namespace perfcast
