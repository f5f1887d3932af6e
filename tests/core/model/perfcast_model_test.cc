#include "core/model/perfcast_model.h"

#include <algorithm>
#include <cmath>

#include "core/bundle/model_codec.h"
#include "core/model/interval_calibration.h"
#include "core/model/perfcast_model_internal.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

std::shared_ptr<const PerfcastModel> TrainOn(const std::vector<BenchmarkRecord>& records) {
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model =
      PerfcastModel::Train(records, TrainOptions{});
  EXPECT_TRUE(model.ok()) << model.status();
  return *model;
}

const Configuration kKnown{"gpu-a", 2, "vllm", "org/model-7b", "fp16"};

TEST(PerfcastModelTest, MeasuredPointIsReturnedAsMeasured) {
  const std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  auto model = TrainOn(records);
  const BenchmarkRecord& record = records[7];
  const int batch[] = {record.batch_size};
  auto prediction = model->Predict({record.configuration, record.shape}, batch, 0.9);
  ASSERT_TRUE(prediction.ok()) << prediction.status();
  EXPECT_EQ(prediction->front().prediction_case, PredictionCase::kMeasured);
  EXPECT_DOUBLE_EQ(prediction->front().throughput_tokens_per_s, record.throughput_tokens_per_s);
}

TEST(PerfcastModelTest, CasesFollowWhatWasMeasured) {
  auto model = TrainOn(testing::SyntheticRecords());
  const int batches[] = {12, 512};
  auto known_curve = model->Predict({kKnown, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(known_curve.ok());
  EXPECT_EQ((*known_curve)[0].prediction_case, PredictionCase::kInterpolated);
  EXPECT_EQ((*known_curve)[1].prediction_case, PredictionCase::kExtrapolatedBatch);

  auto new_shape = model->Predict({kKnown, {300, 700}}, batches, 0.9);
  ASSERT_TRUE(new_shape.ok());
  EXPECT_EQ((*new_shape)[0].prediction_case, PredictionCase::kExtrapolatedShape);

  Configuration unseen = kKnown;
  unseen.num_gpus = 8;
  auto new_configuration = model->Predict({unseen, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(new_configuration.ok());
  EXPECT_EQ((*new_configuration)[0].prediction_case, PredictionCase::kNewConfiguration);
}

TEST(PerfcastModelTest, HeldOutShapeIsPredictedCloselyOnALawfulFamily) {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  std::vector<BenchmarkRecord> held_out;
  std::erase_if(records, [&](const BenchmarkRecord& r) {
    const bool hold = r.configuration == kKnown && r.shape.input_tokens == 512;
    if (hold) held_out.push_back(r);
    return hold;
  });
  auto model = TrainOn(records);
  ASSERT_FALSE(held_out.empty());
  for (const BenchmarkRecord& truth : held_out) {
    const int batch[] = {truth.batch_size};
    auto prediction = model->Predict({truth.configuration, truth.shape}, batch, 0.9);
    ASSERT_TRUE(prediction.ok());
    EXPECT_EQ(prediction->front().prediction_case, PredictionCase::kExtrapolatedShape);
    EXPECT_NEAR(prediction->front().throughput_tokens_per_s / truth.throughput_tokens_per_s, 1.0,
                0.15)
        << "batch " << truth.batch_size;
  }
}

TEST(PerfcastModelTest, IntervalContainsPredictionAndStaysPositive) {
  auto model = TrainOn(testing::SyntheticRecords());
  const int batches[] = {1, 16, 300};
  for (double level : {0.5, 0.9, 0.99}) {
    auto prediction = model->Predict({kKnown, {300, 700}}, batches, level);
    ASSERT_TRUE(prediction.ok());
    for (const PointPrediction& p : *prediction) {
      EXPECT_GT(p.lower_tokens_per_s, 0);
      EXPECT_LE(p.lower_tokens_per_s, p.throughput_tokens_per_s);
      EXPECT_GE(p.upper_tokens_per_s, p.throughput_tokens_per_s);
      EXPECT_NEAR(p.batch_latency_s, 700.0 * p.batch_size / p.throughput_tokens_per_s, 1e-9);
    }
  }
}

TEST(PerfcastModelTest, WiderLevelGivesWiderInterval) {
  auto model = TrainOn(testing::SyntheticRecords());
  const int batch[] = {32};
  auto narrow = model->Predict({kKnown, {300, 700}}, batch, 0.5);
  auto wide = model->Predict({kKnown, {300, 700}}, batch, 0.95);
  ASSERT_TRUE(narrow.ok() && wide.ok());
  EXPECT_GE(wide->front().upper_tokens_per_s - wide->front().lower_tokens_per_s,
            narrow->front().upper_tokens_per_s - narrow->front().lower_tokens_per_s);
}

TEST(PerfcastModelTest, RejectsBadQueriesNamingTheField) {
  auto model = TrainOn(testing::SyntheticRecords());
  const int good[] = {8};
  const int bad_batch[] = {8, 0};
  auto negative_tokens = model->Predict({kKnown, {-5, 128}}, good, 0.9);
  EXPECT_EQ(negative_tokens.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(negative_tokens.status().message().find("input_tokens=-5"), std::string::npos);
  auto zero_batch = model->Predict({kKnown, {128, 128}}, bad_batch, 0.9);
  EXPECT_EQ(zero_batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(zero_batch.status().message().find("batch_sizes[1]=0"), std::string::npos);
  auto bad_level = model->Predict({kKnown, {128, 128}}, good, 1.0);
  EXPECT_EQ(bad_level.status().code(), absl::StatusCode::kInvalidArgument);
  auto nan_level = model->Predict({kKnown, {128, 128}}, good, std::nan(""));
  EXPECT_EQ(nan_level.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PerfcastModelTest, TrainingOnNothingFailsWithPrecondition) {
  auto model = PerfcastModel::Train({}, TrainOptions{});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PerfcastModelTest, ExplainRanksTheQueryCurveFirst) {
  auto model = TrainOn(testing::SyntheticRecords());
  auto report = model->Explain({kKnown, {256, 256}}, 16, 3);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->nearest_curves.size(), 3u);
  EXPECT_EQ(report->nearest_curves[0].configuration, kKnown);
  EXPECT_DOUBLE_EQ(report->nearest_curves[0].distance, 0);
  EXPECT_DOUBLE_EQ(report->similarity_score, 1.0);
  auto far = model->Explain({{"gpu-z", 8, "other", "org/other-70b", "fp8"}, {4096, 16}}, 16, 3);
  ASSERT_TRUE(far.ok());
  EXPECT_LT(far->similarity_score, report->similarity_score);
}

TEST(PerfcastModelTest, ExplainGivesReadableDistancesAndAnExpectedError) {
  auto model = TrainOn(testing::SyntheticRecords());
  auto measured = model->Explain({kKnown, {256, 256}}, 16, 3);
  auto new_shape = model->Explain({kKnown, {300, 700}}, 16, 3);
  auto new_configuration =
      model->Explain({{"gpu-z", 8, "other", "org/other-70b", "fp8"}, {4096, 16}}, 16, 3);
  ASSERT_TRUE(measured.ok() && new_shape.ok() && new_configuration.ok());
  EXPECT_EQ(measured->nearest_point_distance, 0);
  EXPECT_EQ(measured->configuration_curve_count, 4);
  EXPECT_GT(new_shape->nearest_same_configuration_distance, 0);
  EXPECT_TRUE(std::isnan(new_configuration->nearest_same_configuration_distance));
  EXPECT_EQ(new_configuration->configuration_curve_count, 0);
  EXPECT_GT(new_configuration->nearest_point_distance, new_shape->nearest_point_distance);
  EXPECT_GT(new_shape->expected_relative_error, 0);
  EXPECT_LT(measured->expected_relative_error, new_configuration->expected_relative_error);
}

// The learned part of a bundle: what follows the manifest and the two timing fields
// (trained_at_unix_s, training_seconds), which differ between any two runs.
std::string LearnedPart(const std::string& bundle) {
  constexpr size_t kContainerHeader = 8 + 4 + 8 + 8;  // magic, version, size, checksum
  uint64_t manifest_size = 0;  // strings are prefixed by their u64 little-endian size
  for (int i = 7; i >= 0; --i) {
    manifest_size = manifest_size << 8 | static_cast<uint8_t>(bundle[kContainerHeader + i]);
  }
  return bundle.substr(kContainerHeader + 8 + manifest_size + 8 + 8);
}

TEST(PerfcastModelTest, SameSeedGivesTheSameBundle) {
  const std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  const std::string first = LearnedPart(EncodeModelBundle(*TrainOn(records)));
  const std::string second = LearnedPart(EncodeModelBundle(*TrainOn(records)));
  EXPECT_TRUE(first == second) << "bundles differ from byte "
                               << std::mismatch(first.begin(), first.end(), second.begin()).first -
                                      first.begin()
                               << " of " << first.size();
  TrainOptions other;
  other.seed = 7;
  auto other_seed = PerfcastModel::Train(records, other);
  ASSERT_TRUE(other_seed.ok());
  EXPECT_FALSE(LearnedPart(EncodeModelBundle(**other_seed)) == first);
}

TEST(PerfcastModelTest, ThreadsDoNotChangeTheBundle) {
  const std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  const std::string one_thread = LearnedPart(EncodeModelBundle(*TrainOn(records)));
  // 3 does not divide the cross-fit's 8 models, so the threads take uneven shares; 9 is more
  // threads than models.
  for (int threads : {3, 9}) {
    TrainOptions options;
    options.threads = threads;
    auto model = PerfcastModel::Train(records, options);
    ASSERT_TRUE(model.ok()) << model.status();
    const std::string parallel = LearnedPart(EncodeModelBundle(**model));
    EXPECT_TRUE(parallel == one_thread)
        << threads << " threads: bundles differ from byte "
        << std::mismatch(parallel.begin(), parallel.end(), one_thread.begin()).first -
               parallel.begin()
        << " of " << parallel.size();
  }
}

TEST(PerfcastModelTest, AnotherSpellingOfATrainedNameIsAnsweredAsTheTrainedName) {
  auto model = TrainOn(testing::SyntheticRecords());
  const Configuration respelled{"GPU-A", 2, "vLLM", "org/model-7b", "FP16"};
  const int batches[] = {16, 64};

  auto asked = model->Predict({respelled, {256, 256}}, batches, 0.9);
  auto trained = model->Predict({kKnown, {256, 256}}, batches, 0.9);

  ASSERT_TRUE(asked.ok()) << asked.status();
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_EQ(asked->front().prediction_case, PredictionCase::kMeasured);
  EXPECT_DOUBLE_EQ(asked->back().throughput_tokens_per_s, trained->back().throughput_tokens_per_s);
  EXPECT_TRUE(model->UnseenNames(respelled).empty());
}

TEST(PerfcastModelTest, AnUnseenEngineIsNamedAndGetsTheIntervalsOfAnUnseenName) {
  auto model = TrainOn(testing::SyntheticRecords());
  const Configuration unseen{"gpu-a", 8, "my-new-engine", "org/model-7b", "fp16"};
  const Configuration new_gpu_count{"gpu-a", 8, "vllm", "org/model-7b", "fp16"};
  const int batches[] = {32};

  auto with_unseen = model->Predict({unseen, {256, 256}}, batches, 0.9);
  auto explained = model->Explain({unseen, {256, 256}}, 32, 3);

  ASSERT_TRUE(with_unseen.ok()) << with_unseen.status();
  ASSERT_TRUE(explained.ok()) << explained.status();
  EXPECT_EQ(model->UnseenNames(unseen), std::vector<std::string>{"framework 'my-new-engine'"});
  EXPECT_EQ(explained->unseen_names, std::vector<std::string>{"framework 'my-new-engine'"});
  EXPECT_TRUE(model->UnseenNames(new_gpu_count).empty());
  EXPECT_EQ(with_unseen->front().prediction_case, PredictionCase::kNewConfiguration);
  // The half width in log space is the unseen-name quantile times the expected error.
  const PointPrediction& point = with_unseen->front();
  const IntervalCalibration& calibration = PerfcastModelInternal::StateOf(*model).calibration;
  ASSERT_GT(calibration.ScoreCount(RowKind::kUnseenName), 0u);
  EXPECT_NE(calibration.ScoreQuantile(RowKind::kUnseenName, 0.9),
            calibration.ScoreQuantile(RowKind::kOtherConfiguration, 0.9));
  EXPECT_NEAR(std::log(point.upper_tokens_per_s / point.throughput_tokens_per_s),
              calibration.ScoreQuantile(RowKind::kUnseenName, 0.9) *
                  std::log1p(point.expected_relative_error),
              1e-9);
}

TEST(PerfcastModelTest, ListsItsConfigurationsSorted) {
  auto model = TrainOn(testing::SyntheticRecords());
  const std::vector<Configuration> configurations = model->Configurations();
  EXPECT_EQ(configurations.size(), 6u);
  EXPECT_TRUE(std::is_sorted(configurations.begin(), configurations.end()));
  EXPECT_EQ(model->info().configuration_count, 6);
  EXPECT_EQ(model->info().curve_count, 24);
}

}  // namespace
}  // namespace perfcast
