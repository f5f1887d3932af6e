// A training that reuses an earlier model's cross-fit (TrainOptions::reuse_cross_fit_of,
// docs/METHOD.md §5): when it may, what it keeps, and what it still learns.
#include <cmath>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/bundle/model_codec.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

// lab-a measures every synthetic curve. lab-b measures those of gpu-a on at most `lab_b_gpus`
// GPUs at twice lab-a's level: 4 curves for 1 GPU (a sixth of lab-a's 24), 8 for 2.
std::vector<BenchmarkRecord> LabAAndLabB(int lab_b_gpus) {
  std::vector<BenchmarkRecord> records;
  for (BenchmarkRecord r : testing::SyntheticRecords()) {
    r.configuration.campaign = "lab-a";
    records.push_back(r);
    if (r.configuration.hardware == "gpu-a" && r.configuration.num_gpus <= lab_b_gpus) {
      r.configuration.campaign = "lab-b";
      r.throughput_tokens_per_s *= 2;
      records.push_back(r);
    }
  }
  return records;
}

TrainOptions Keeping() {
  TrainOptions options;
  options.keep_cross_fit = true;
  return options;
}

std::shared_ptr<const PerfcastModel> TrainOrDie(const std::vector<BenchmarkRecord>& records,
                                                const TrainOptions& options) {
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model =
      PerfcastModel::Train(records, options);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *std::move(model) : nullptr;
}

double PredictLabB(const PerfcastModel& model, int gpus) {
  Configuration c{"gpu-b", gpus, "vllm", "org/model-7b", "fp16"};
  c.campaign = "lab-b";
  const int batch[] = {32};
  absl::StatusOr<std::vector<PointPrediction>> p = model.Predict({c, {256, 256}}, batch, 0.9);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? p->front().throughput_tokens_per_s : 0;
}

class CrossFitReuseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lab_a_ = new std::shared_ptr<const PerfcastModel>(
        TrainOrDie(LabAAndLabB(/*lab_b_gpus=*/0), Keeping()));
  }
  static void TearDownTestSuite() {
    delete lab_a_;
    lab_a_ = nullptr;
  }
  static TrainOptions Reusing(std::shared_ptr<const PerfcastModel> previous) {
    TrainOptions options = Keeping();
    options.reuse_cross_fit_of = std::move(previous);
    return options;
  }
  static inline std::shared_ptr<const PerfcastModel>* lab_a_ = nullptr;
};

TEST_F(CrossFitReuseTest, AFewNewCurvesReuseTheCrossFitAndAreStillLearnt) {
  ASSERT_NE(*lab_a_, nullptr);
  EXPECT_EQ((*lab_a_)->cross_fit_source(), CrossFitSource::kGrown);
  const std::shared_ptr<const PerfcastModel> refit =
      TrainOrDie(LabAAndLabB(/*lab_b_gpus=*/1), Reusing(*lab_a_));
  ASSERT_NE(refit, nullptr);
  EXPECT_EQ(refit->cross_fit_source(), CrossFitSource::kReused);
  const PerfcastModel::State& before = PerfcastModelInternal::StateOf(**lab_a_);
  const PerfcastModel::State& after = PerfcastModelInternal::StateOf(*refit);
  ASSERT_TRUE(before.cross_fit.has_value());
  ASSERT_TRUE(after.cross_fit.has_value());
  EXPECT_EQ(after.cross_fit->models, before.cross_fit->models);
  // Every curve the fold models knew is predicted by the one that held it out before.
  int known = 0;
  for (size_t curve = 0; curve < after.index.anchors().size(); ++curve) {
    const Curve& c = after.index.anchors()[curve].curve();
    const int earlier = before.index.Find(c.configuration, c.shape);
    if (earlier < 0) continue;
    ++known;
    EXPECT_EQ(after.cross_fit->folds.of_curve[curve], before.cross_fit->folds.of_curve[earlier]);
    EXPECT_EQ(
        after.cross_fit->folds.of_configuration[after.index.ConfigurationRank(c.configuration)],
        before.cross_fit->folds.of_configuration[before.index.ConfigurationRank(c.configuration)]);
  }
  EXPECT_EQ(known, static_cast<int>(before.index.anchors().size()));
  // lab-b's results are learnt all the same: its level, which the lab-a model knew nothing of,
  // lifts a configuration it never measured towards the twice as high lab-b measures.
  EXPECT_GT(after.campaign_levels.LevelOf("lab-b"), after.campaign_levels.LevelOf("lab-a"));
  const double unseen = PredictLabB(**lab_a_, 4);
  EXPECT_GT(PredictLabB(*refit, 4), 1.3 * unseen);
  EXPECT_LT(PredictLabB(*refit, 4), 2.5 * unseen);
}

// A reused fold model is read as far along the batch as the curves it was trained on reached,
// not as far as a sweep added since reaches: it never saw that sweep's rows.
TEST_F(CrossFitReuseTest, ReusedFoldModelsAreReadAsFarAsTheyWereTrained) {
  ASSERT_NE(*lab_a_, nullptr);
  std::vector<BenchmarkRecord> records = LabAAndLabB(/*lab_b_gpus=*/0);
  for (int batch : {16, 256, 1024, 4096}) {
    BenchmarkRecord r;
    r.configuration = {"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
    r.configuration.campaign = "lab-a";
    r.configuration.batch_semantics = BatchSemantics::kConcurrency;
    r.shape = {256, 256};
    r.batch_size = batch;
    r.throughput_tokens_per_s = 40.0 * batch;
    records.push_back(r);
  }
  const std::shared_ptr<const PerfcastModel> refit = TrainOrDie(records, Reusing(*lab_a_));
  ASSERT_NE(refit, nullptr);
  ASSERT_EQ(refit->cross_fit_source(), CrossFitSource::kReused);
  const PerfcastModel::State& after = PerfcastModelInternal::StateOf(*refit);
  EXPECT_EQ(after.index.LargestTrainedBatchFor(BatchSemantics::kConcurrency), 4096);
  const FoldModels& reused = *after.cross_fit->models;
  for (int fold = 0; fold < kCrossFitFolds; ++fold) {
    // lab-a's static curves reach 128; no sweep was among them.
    EXPECT_EQ(reused.by_curve_ranges.LargestTrainedBatchFor(fold, BatchSemantics::kConcurrency),
              128)
        << fold;
    EXPECT_EQ(reused.by_configuration_ranges.LargestTrainedBatchFor(fold, BatchSemantics::kStatic),
              128)
        << fold;
  }
}

TEST_F(CrossFitReuseTest, AReuseIsReproducible) {
  const std::shared_ptr<const PerfcastModel> first = TrainOrDie(LabAAndLabB(1), Reusing(*lab_a_));
  const std::shared_ptr<const PerfcastModel> second = TrainOrDie(LabAAndLabB(1), Reusing(*lab_a_));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(PredictLabB(*first, 4), PredictLabB(*second, 4));
  EXPECT_EQ(PredictLabB(*first, 2), PredictLabB(*second, 2));
}

TEST_F(CrossFitReuseTest, MoreNewCurvesThanTheBoundGrowItAgain) {
  // 8 new curves on 24: a third more, past kMaxCrossFitGrowth.
  ASSERT_LT(kMaxCrossFitGrowth, 8.0 / 24);
  const std::shared_ptr<const PerfcastModel> refit = TrainOrDie(LabAAndLabB(2), Reusing(*lab_a_));
  ASSERT_NE(refit, nullptr);
  EXPECT_EQ(refit->cross_fit_source(), CrossFitSource::kPastGrowthBound);
}

TEST_F(CrossFitReuseTest, TheBoundCountsFromWhereTheFoldModelsWereGrown) {
  // 4 new curves reuse; 4 more on top of those (8 since the fold models were grown) do not.
  const std::shared_ptr<const PerfcastModel> once = TrainOrDie(LabAAndLabB(1), Reusing(*lab_a_));
  ASSERT_NE(once, nullptr);
  ASSERT_TRUE(once->ReusedCrossFit());
  const std::shared_ptr<const PerfcastModel> again = TrainOrDie(LabAAndLabB(1), Reusing(once));
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(again->ReusedCrossFit());
  const std::shared_ptr<const PerfcastModel> more = TrainOrDie(LabAAndLabB(2), Reusing(once));
  ASSERT_NE(more, nullptr);
  EXPECT_EQ(more->cross_fit_source(), CrossFitSource::kPastGrowthBound);
}

TEST_F(CrossFitReuseTest, AnotherSeedOrCatalogueGrowsItAgain) {
  TrainOptions other_seed = Reusing(*lab_a_);
  other_seed.seed = 7;
  const std::shared_ptr<const PerfcastModel> seeded = TrainOrDie(LabAAndLabB(1), other_seed);
  ASSERT_NE(seeded, nullptr);
  EXPECT_EQ(seeded->cross_fit_source(), CrossFitSource::kOtherSettings);
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  TrainOptions with_catalogue = Reusing(*lab_a_);
  with_catalogue.catalogue = std::make_shared<const Catalogue>(*std::move(catalogue));
  const std::shared_ptr<const PerfcastModel> catalogued =
      TrainOrDie(LabAAndLabB(1), with_catalogue);
  ASSERT_NE(catalogued, nullptr);
  EXPECT_EQ(catalogued->cross_fit_source(), CrossFitSource::kOtherSettings);
}

TEST_F(CrossFitReuseTest, ADecodedModelHasNoCrossFitToGive) {
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> decoded =
      DecodeModelBundle(EncodeModelBundle(**lab_a_));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const std::shared_ptr<const PerfcastModel> refit =
      TrainOrDie(LabAAndLabB(1), Reusing(*std::move(decoded)));
  ASSERT_NE(refit, nullptr);
  EXPECT_EQ(refit->cross_fit_source(), CrossFitSource::kEarlierHasNone);
  // Nor does a model trained without keep_cross_fit.
  const std::shared_ptr<const PerfcastModel> unkept = TrainOrDie(LabAAndLabB(0), TrainOptions{});
  ASSERT_NE(unkept, nullptr);
  const std::shared_ptr<const PerfcastModel> after_unkept =
      TrainOrDie(LabAAndLabB(1), Reusing(unkept));
  ASSERT_NE(after_unkept, nullptr);
  EXPECT_EQ(after_unkept->cross_fit_source(), CrossFitSource::kEarlierHasNone);
}

TEST_F(CrossFitReuseTest, ANameTheFoldModelsNeverSawReusesThemAndIsStillLearnt) {
  // One new curve with a GPU, an engine, a precision or a model the fold models never saw, as a
  // new campaign's first results bring: no fold model trained on it, so each predicts it held
  // out, and the served model still learns it.
  const std::vector<std::function<void(Configuration&)>> renames = {
      [](Configuration& c) { c.hardware = "gpu-c"; },
      [](Configuration& c) { c.framework = "other-engine"; },
      [](Configuration& c) { c.precision = "fp8"; },
      [](Configuration& c) { c.model = "org/model-13b"; },
  };
  for (size_t k = 0; k < renames.size(); ++k) {
    std::vector<BenchmarkRecord> records = LabAAndLabB(0);
    Configuration renamed;
    for (BenchmarkRecord r : LabAAndLabB(0)) {
      if (r.configuration.hardware != "gpu-b" || r.configuration.num_gpus != 1 ||
          r.shape.input_tokens != 256) {
        continue;
      }
      renames[k](r.configuration);
      r.throughput_tokens_per_s *= 3;
      renamed = r.configuration;
      records.push_back(r);
    }
    const std::shared_ptr<const PerfcastModel> refit = TrainOrDie(records, Reusing(*lab_a_));
    ASSERT_NE(refit, nullptr);
    EXPECT_EQ(refit->cross_fit_source(), CrossFitSource::kReused) << "rename " << k;
    EXPECT_EQ(PerfcastModelInternal::StateOf(*refit).cross_fit->models,
              PerfcastModelInternal::StateOf(**lab_a_).cross_fit->models);
    // Another shape of the new name's configuration, whose one curve runs at three times
    // gpu-b's level: higher than the model that never saw it predicts, inside a finite interval.
    const int batch[] = {32};
    const PredictionQuery query{renamed, {512, 512}};
    absl::StatusOr<std::vector<PointPrediction>> p = refit->Predict(query, batch, 0.9);
    absl::StatusOr<std::vector<PointPrediction>> unseen = (*lab_a_)->Predict(query, batch, 0.9);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE(unseen.ok()) << unseen.status();
    const PointPrediction& point = p->front();
    EXPECT_GT(point.throughput_tokens_per_s, 1.3 * unseen->front().throughput_tokens_per_s)
        << "rename " << k;
    EXPECT_LT(point.lower_tokens_per_s, point.throughput_tokens_per_s);
    EXPECT_GT(point.upper_tokens_per_s, point.throughput_tokens_per_s);
    EXPECT_TRUE(std::isfinite(point.upper_tokens_per_s));
  }
}

TEST(CrossFitReuseFourthHardwareTest, AFourthGpuReusesFoldModelsThatHaveNoHardwareSet) {
  // Three GPUs give no hardware folds; a fourth would, but the fold models have none, so the
  // refit reuses them without (CarryFolds) rather than growing them.
  std::vector<BenchmarkRecord> three;
  for (BenchmarkRecord r : testing::SyntheticRecords()) {
    three.push_back(r);
    if (r.configuration.hardware == "gpu-b") {
      r.configuration.hardware = "gpu-c";
      r.throughput_tokens_per_s *= 1.4;
      three.push_back(r);
    }
  }
  const std::shared_ptr<const PerfcastModel> earlier = TrainOrDie(three, Keeping());
  ASSERT_NE(earlier, nullptr);
  std::vector<BenchmarkRecord> four = three;
  for (BenchmarkRecord r : testing::SyntheticRecords()) {
    if (r.configuration.hardware != "gpu-b" || r.configuration.num_gpus != 1 ||
        r.shape.input_tokens != 256) {
      continue;
    }
    r.configuration.hardware = "gpu-d";
    four.push_back(r);
  }
  TrainOptions reusing = Keeping();
  reusing.reuse_cross_fit_of = earlier;
  const std::shared_ptr<const PerfcastModel> refit = TrainOrDie(four, reusing);
  ASSERT_NE(refit, nullptr);
  EXPECT_EQ(refit->cross_fit_source(), CrossFitSource::kReused);
  EXPECT_FALSE(
      PerfcastModelInternal::StateOf(*refit).cross_fit->folds.of_configuration_by_hardware);
  const int batch[] = {32};
  const Configuration gpu_d{"gpu-d", 1, "vllm", "org/model-7b", "fp16"};
  EXPECT_TRUE(refit->Predict({gpu_d, {512, 512}}, batch, 0.9).ok());
}

TEST_F(CrossFitReuseTest, ACurveTakenAwayGrowsItAgain) {
  // Were it reused, a later training carrying these folds could not tell that the fold models
  // trained around the missing curve.
  std::vector<BenchmarkRecord> records;
  for (const BenchmarkRecord& r : LabAAndLabB(1)) {
    if (r.configuration.hardware == "gpu-b" && r.configuration.num_gpus == 4 &&
        r.shape.input_tokens == 1024) {
      continue;
    }
    records.push_back(r);
  }
  const std::shared_ptr<const PerfcastModel> refit = TrainOrDie(records, Reusing(*lab_a_));
  ASSERT_NE(refit, nullptr);
  EXPECT_EQ(refit->cross_fit_source(), CrossFitSource::kCurvesRemoved);
}

TEST(CrossFitSourceNameTest, EverySourceHasItsOwnName) {
  std::set<std::string> names;
  for (CrossFitSource source : {CrossFitSource::kGrown, CrossFitSource::kReused,
                                CrossFitSource::kEarlierHasNone, CrossFitSource::kOtherSettings,
                                CrossFitSource::kCurvesRemoved, CrossFitSource::kPastGrowthBound}) {
    names.insert(std::string(CrossFitSourceName(source)));
  }
  EXPECT_EQ(names.size(), 6u);
  EXPECT_EQ(names.count("unknown"), 0u);
}

}  // namespace
}  // namespace perfcast
