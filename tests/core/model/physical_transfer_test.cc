// A model trained with a catalogue carries what it learned to hardware it has no benchmark of,
// refuses hardware nobody knows, and keeps that behaviour through its bundle.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/bundle/model_codec.h"
#include "core/catalogue/catalogue.h"
#include "core/catalogue/physical_features.h"
#include "core/model/anchored_prediction.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "core/model/physical_exponents.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;

// Three accelerators that differ only in memory bandwidth, each 2x the last, with compute to
// spare, so that decoding is memory-bound and the roofline is proportional to the bandwidth.
constexpr char kAccelerators[] =
    "name,memory_gib,memory_bandwidth_gb_per_s,bf16_dense_tflops,fp8_dense_tflops,"
    "interconnect_gb_per_s,source\n"
    "gpu-slow,80,1000,5000,,,https://example.com/slow\n"
    "gpu-mid,80,2000,5000,,,https://example.com/mid\n"
    "gpu-fast,80,4000,5000,,,https://example.com/fast\n";
constexpr char kModels[] =
    "name,parameters,active_parameters,layers,hidden_size,attention_heads,kv_heads,head_dim,"
    "kv_cache_elements_per_token_per_layer,experts,experts_per_token,vocabulary,source\n"
    "org/model-8b,8030261248,,32,4096,32,8,,,,,128256,https://example.com/m\n";
constexpr char kPrecisions[] =
    "name,weight_bytes_per_parameter,kv_cache_bytes_per_element,math,source\n"
    "fp16,2,2,bf16,https://example.com/p\n";
constexpr char kAliases[] = "kind,alias,entry\n";

std::shared_ptr<const Catalogue> SmallCatalogue() {
  absl::StatusOr<Catalogue> catalogue =
      Catalogue::Parse({kAccelerators, kModels, kPrecisions, kAliases, ""}, "test");
  EXPECT_TRUE(catalogue.ok()) << catalogue.status();
  return std::make_shared<const Catalogue>(*std::move(catalogue));
}

Configuration On(const std::string& hardware, const std::string& framework) {
  return {hardware, 1, framework, "org/model-8b", "fp16"};
}

// A system that reaches a framework-specific share of the roofline (in total tokens/s, the data's
// unit): what the physical scaling assumes, exactly.
double TrueThroughput(const Catalogue& catalogue, const Configuration& configuration,
                      const Shape& shape, int batch_size) {
  const ResolvedConfiguration resolved = *catalogue.Resolve(configuration);
  const double share = configuration.framework == "stack-a" ? 0.5 : 0.3;
  return share * ComputePhysicalCeilings(resolved, shape, batch_size).roofline_output_tokens_per_s *
         (shape.input_tokens + shape.output_tokens) / shape.output_tokens;
}

std::vector<BenchmarkRecord> RecordsOn(const Catalogue& catalogue,
                                       const std::vector<std::string>& hardware) {
  std::vector<BenchmarkRecord> records;
  for (const std::string& name : hardware) {
    for (const char* framework : {"stack-a", "stack-b"}) {
      for (int tokens : {128, 256, 512, 1024, 2048}) {
        for (int batch : {1, 4, 16, 64, 128}) {
          BenchmarkRecord record;
          record.configuration = On(name, framework);
          record.shape = {tokens, tokens};
          record.batch_size = batch;
          record.throughput_tokens_per_s =
              TrueThroughput(catalogue, record.configuration, record.shape, batch);
          record.source = "synthetic";
          records.push_back(record);
        }
      }
    }
  }
  return records;
}

// Median absolute percentage error over the fastest GPU's curves, which no training row has.
double MedianErrorOnTheFastGpu(const PerfcastModel& model, const Catalogue& catalogue) {
  std::vector<double> errors;
  for (const char* framework : {"stack-a", "stack-b"}) {
    for (int tokens : {256, 1024}) {
      const PredictionQuery query{On("gpu-fast", framework), {tokens, tokens}};
      const int batches[] = {1, 16, 128};
      absl::StatusOr<std::vector<PointPrediction>> predictions = model.Predict(query, batches, 0.9);
      EXPECT_TRUE(predictions.ok()) << predictions.status();
      if (!predictions.ok()) continue;
      for (const PointPrediction& p : *predictions) {
        EXPECT_EQ(p.prediction_case, PredictionCase::kNewConfiguration);
        const double truth =
            TrueThroughput(catalogue, query.configuration, query.shape, p.batch_size);
        errors.push_back(std::abs(p.throughput_tokens_per_s / truth - 1));
      }
    }
  }
  std::sort(errors.begin(), errors.end());
  return errors[errors.size() / 2];
}

class PhysicalTransferTest : public ::testing::Test {
 protected:
  // Trained once for the suite: training is the slow part.
  static void SetUpTestSuite() {
    catalogue_ = SmallCatalogue();
    const std::vector<BenchmarkRecord> records = RecordsOn(*catalogue_, {"gpu-slow", "gpu-mid"});
    TrainOptions options;
    options.catalogue = catalogue_;
    with_catalogue_ = *PerfcastModel::Train(records, options);
    without_catalogue_ = *PerfcastModel::Train(records, TrainOptions{});
  }

  inline static std::shared_ptr<const Catalogue> catalogue_;
  inline static std::shared_ptr<const PerfcastModel> with_catalogue_;
  inline static std::shared_ptr<const PerfcastModel> without_catalogue_;
};

TEST_F(PhysicalTransferTest, TheCatalogueCarriesTheModelToFasterHardwareThanAnySeen) {
  const double with = MedianErrorOnTheFastGpu(*with_catalogue_, *catalogue_);
  const double without = MedianErrorOnTheFastGpu(*without_catalogue_, *catalogue_);
  // gpu-fast is twice gpu-mid: trees alone cannot go past the fastest level they saw.
  EXPECT_LT(with, 0.10);
  EXPECT_GT(without, 0.30);
}

TEST_F(PhysicalTransferTest, APredictionClaimsNoMoreOfItsRooflineThanTheCeiling) {
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(*with_catalogue_);
  // The data reach at most their stack-a share of the roofline (in output tokens/s, 1.0 at the
  // same input and output; a little more at batch 128 of 2048/2048, past the KV cache's capacity).
  ASSERT_TRUE(state.physical_exponents.efficiency_ceiling.has_value());
  EXPECT_NEAR(*state.physical_exponents.efficiency_ceiling, 1.0, 0.1);

  const Configuration query = On("gpu-fast", "stack-a");
  const Shape shape{256, 256};
  const std::vector<Anchor> anchors =
      AnchorsOf(state.index, state.index.OtherConfigurations(query, shape, kOtherConfigurations));
  ASSERT_FALSE(anchors.empty());
  const double roofline = KvCappedRoofline(*catalogue_->Resolve(query), shape, 16);
  PhysicalExponents exponents = state.physical_exponents;
  exponents.efficiency_ceiling = 0.05;
  const double ceiled = PredictFromAnchors(state.features, {state.correction.ensemble(), exponents},
                                           query, shape, anchors, 16)
                            .log_throughput;
  EXPECT_NEAR(ceiled, std::log(0.05 * roofline), 1e-9);
  exponents.efficiency_ceiling.reset();
  const double free = PredictFromAnchors(state.features, {state.correction.ensemble(), exponents},
                                         query, shape, anchors, 16)
                          .log_throughput;
  EXPECT_GT(free, ceiled + 1);

  // A curve of the query's own configuration among the anchors: the ceiling does not bind.
  const Configuration measured = On("gpu-mid", "stack-a");
  std::vector<Anchor> with_own =
      AnchorsOf(state.index, state.index.SameConfiguration(measured, shape, 2));
  ASSERT_FALSE(with_own.empty());
  exponents.efficiency_ceiling = 0.05;
  const double own = PredictFromAnchors(state.features, {state.correction.ensemble(), exponents},
                                        measured, shape, with_own, 16)
                         .log_throughput;
  EXPECT_GT(own, std::log(0.05 * KvCappedRoofline(*catalogue_->Resolve(measured), shape, 16)) + 1);
}

TEST_F(PhysicalTransferTest, RefusesHardwareThatNeitherDataNorCatalogueKnows) {
  const PredictionQuery query{On("gpu-unheard-of", "stack-a"), {256, 256}};
  const int batch[] = {8};
  absl::StatusOr<std::vector<PointPrediction>> refused =
      with_catalogue_->Predict(query, batch, 0.9);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(refused.status().message(), HasSubstr("gpu-unheard-of"));
  // Without a catalogue there is nothing to check against: it answers as a new configuration.
  EXPECT_TRUE(without_catalogue_->Predict(query, batch, 0.9).ok());
}

TEST_F(PhysicalTransferTest, RefusesAModelThatNeitherDataNorCatalogueKnows) {
  PredictionQuery query{On("gpu-mid", "stack-a"), {256, 256}};
  query.configuration.model = "org/mystery-model";
  const int batch[] = {8};
  absl::StatusOr<std::vector<PointPrediction>> refused =
      with_catalogue_->Predict(query, batch, 0.9);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(refused.status().message(), HasSubstr("org/mystery-model"));
}

TEST_F(PhysicalTransferTest, TheBundleCarriesTheCatalogue) {
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> reloaded =
      DecodeModelBundle(EncodeModelBundle(*with_catalogue_));
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  const PredictionQuery query{On("gpu-fast", "stack-b"), {512, 512}};
  const int batches[] = {1, 32};
  const auto before = with_catalogue_->Predict(query, batches, 0.9);
  const auto after = (*reloaded)->Predict(query, batches, 0.9);
  ASSERT_TRUE(before.ok() && after.ok());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_DOUBLE_EQ((*before)[i].throughput_tokens_per_s, (*after)[i].throughput_tokens_per_s);
    EXPECT_DOUBLE_EQ((*before)[i].upper_tokens_per_s, (*after)[i].upper_tokens_per_s);
  }
  const PredictionQuery unknown{On("gpu-unheard-of", "stack-a"), {256, 256}};
  EXPECT_EQ((*reloaded)->Predict(unknown, batches, 0.9).status().code(),
            absl::StatusCode::kNotFound);
}

// org/model-8b in fp16: 14.96 GiB of weights and 128 KiB of KV cache per token against
// 0.9 x 80 = 72 GiB usable, so about 467,000 tokens of KV cache fit beside the weights.
TEST_F(PhysicalTransferTest, EveryPointCarriesItsMemoryFit) {
  const PredictionQuery query{On("gpu-mid", "stack-a"), {1024, 1024}};
  const int batches[] = {1, 64, 1024};

  absl::StatusOr<std::vector<PointPrediction>> points =
      with_catalogue_->Predict(query, batches, 0.9);

  ASSERT_TRUE(points.ok()) << points.status();
  // (72 - 14.96) GiB / (2048 x 128 KiB) = 228.2 sequences at once; batch 1024 runs in waves.
  for (const PointPrediction& p : *points) {
    EXPECT_EQ(p.memory.verdict, MemoryVerdict::kFits) << p.batch_size;
    EXPECT_EQ(p.memory.largest_fitting_batch_size, 228);
    EXPECT_DOUBLE_EQ(p.memory.available_gib_per_gpu, 72.0);
    EXPECT_GT(p.throughput_tokens_per_s, 0);
  }
  EXPECT_THAT((*points)[0].memory.reason, HasSubstr("for batch 1 at 2048 tokens"));
  EXPECT_THAT((*points)[2].memory.reason, HasSubstr("the 228 of 1024 sequences resident at once"));
}

// What a plan asks: a point to be predicted from anchors whose sequences are not all resident is
// left out (memory verdict only, no throughput); every other point is as a full prediction gives
// it, including a measured point beyond the resident batch (2048/2048 tokens: 114 sequences at
// once, measured up to batch 128).
TEST_F(PhysicalTransferTest, ResidentPointsOnlyLeavesTheBatchInWavesUnpredicted) {
  PredictOptions options;
  options.resident_points_only = true;
  int left_out = 0, measured_beyond_resident = 0;
  for (const Shape shape : {Shape{1024, 1024}, Shape{2048, 2048}}) {
    const PredictionQuery query{On("gpu-mid", "stack-a"), shape};
    const int batches[] = {1, 64, 128, 200, 228, 229, 1024};
    auto all = with_catalogue_->Predict(query, batches, 0.9);
    auto resident = with_catalogue_->Predict(query, batches, 0.9, options);
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_TRUE(resident.ok()) << resident.status();
    ASSERT_EQ(resident->size(), all->size());
    for (size_t i = 0; i < all->size(); ++i) {
      const PointPrediction& r = (*resident)[i];
      const PointPrediction& full = (*all)[i];
      SCOPED_TRACE(testing::Message() << shape.input_tokens << " tokens, batch " << r.batch_size);
      EXPECT_EQ(r.memory.reason, full.memory.reason);
      EXPECT_EQ(r.prediction_case, full.prediction_case);
      const bool on_measured_curve = r.batch_size <= 128;
      if (on_measured_curve || r.memory.AllResident(r.batch_size)) {
        measured_beyond_resident += !r.memory.AllResident(r.batch_size);
        EXPECT_EQ(r.throughput_tokens_per_s, full.throughput_tokens_per_s);
        EXPECT_EQ(r.lower_tokens_per_s, full.lower_tokens_per_s);
        EXPECT_EQ(r.ttft_upper_s, full.ttft_upper_s);
      } else {
        ++left_out;
        EXPECT_GT(full.throughput_tokens_per_s, 0);
        EXPECT_EQ(r.throughput_tokens_per_s, 0);
        EXPECT_EQ(r.lower_tokens_per_s, 0);
        EXPECT_EQ(r.latency_statistic, LatencyStatistic::kUnavailable);
      }
    }
  }
  EXPECT_EQ(left_out, 6);  // 229 and 1024 at 1024 tokens; 200, 228, 229 and 1024 at 2048
  EXPECT_EQ(measured_beyond_resident, 1);  // batch 128 at 2048 tokens
}

// A shape whose one sequence needs more KV cache than the memory holds is answered, not refused:
// every point does not fit and has no throughput.
TEST_F(PhysicalTransferTest, AShapeBeyondMemoryAtBatchOneIsAnsweredAsNotFitting) {
  const PredictionQuery query{On("gpu-mid", "stack-a"), {300000, 300000}};
  const int batches[] = {1, 8};

  absl::StatusOr<std::vector<PointPrediction>> points =
      with_catalogue_->Predict(query, batches, 0.9);

  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 2u);
  for (const PointPrediction& p : *points) {
    EXPECT_EQ(p.memory.verdict, MemoryVerdict::kDoesNotFit);
    EXPECT_THAT(p.memory.reason, HasSubstr("> 72.0 GiB usable of one gpu-mid"));
    EXPECT_EQ(p.memory.largest_fitting_batch_size, 0);
    EXPECT_EQ(p.throughput_tokens_per_s, 0);
    EXPECT_EQ(p.lower_tokens_per_s, 0);
    EXPECT_EQ(p.upper_tokens_per_s, 0);
    EXPECT_EQ(p.batch_latency_s, 0);
  }
}

// A curve that ran where the rule says nothing fits (a higher memory share, offload, a layout the
// label hides) keeps its throughput; the verdict is unknown and says why. Its other shapes, never
// run, still do not fit.
TEST(MemoryRuleContradictedTest, AMeasuredCurveIsNeverZeroed) {
  const std::string accelerators =
      std::string(kAccelerators) + "gpu-tiny,8,2000,5000,,,https://example.com/tiny\n";
  absl::StatusOr<Catalogue> parsed =
      Catalogue::Parse({accelerators, kModels, kPrecisions, kAliases, ""}, "test");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto catalogue = std::make_shared<const Catalogue>(*std::move(parsed));
  TrainOptions options;
  options.catalogue = catalogue;
  auto model = PerfcastModel::Train(RecordsOn(*catalogue, {"gpu-mid", "gpu-tiny"}), options);
  ASSERT_TRUE(model.ok()) << model.status();
  const int batch[] = {16};

  auto measured = (*model)->Predict({On("gpu-tiny", "stack-a"), {256, 256}}, batch, 0.9);
  ASSERT_TRUE(measured.ok()) << measured.status();
  EXPECT_EQ(measured->front().prediction_case, PredictionCase::kMeasured);
  EXPECT_EQ(measured->front().memory.verdict, MemoryVerdict::kUnknown);
  EXPECT_THAT(measured->front().memory.reason, HasSubstr("contradict the memory rule"));
  EXPECT_GT(measured->front().throughput_tokens_per_s, 0);

  auto unmeasured = (*model)->Predict({On("gpu-tiny", "stack-a"), {300, 700}}, batch, 0.9);
  ASSERT_TRUE(unmeasured.ok()) << unmeasured.status();
  EXPECT_EQ(unmeasured->front().memory.verdict, MemoryVerdict::kDoesNotFit);
  EXPECT_EQ(unmeasured->front().throughput_tokens_per_s, 0);
}

TEST_F(PhysicalTransferTest, WithoutACatalogueTheMemoryFitIsUnknown) {
  const PredictionQuery query{On("gpu-mid", "stack-a"), {1024, 1024}};
  const int batch[] = {16};

  absl::StatusOr<std::vector<PointPrediction>> points =
      without_catalogue_->Predict(query, batch, 0.9);

  ASSERT_TRUE(points.ok()) << points.status();
  EXPECT_EQ(points->front().memory.verdict, MemoryVerdict::kUnknown);
  EXPECT_THAT(points->front().memory.reason, HasSubstr("no hardware/model catalogue"));
  EXPECT_GT(points->front().throughput_tokens_per_s, 0);
}

}  // namespace
}  // namespace perfcast
