// How a prediction combines its anchors' corrected readings (docs/METHOD.md §2), and which
// bundles combine them how.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/bundle/bundle_format.h"
#include "core/bundle/model_codec.h"
#include "core/model/anchored_prediction.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "gtest/gtest.h"
#include "tests/core/older_bundles.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

TEST(AnchorCombinationTest, TheMeanAveragesEveryReading) {
  std::vector<double> readings = {1.0, 2.0, 3.0, 10.0};
  EXPECT_DOUBLE_EQ(CombineAnchorReadings(absl::MakeSpan(readings), AnchorCombination::kMean), 4.0);
}

TEST(AnchorCombinationTest, TheMedianIgnoresOneReadingFarFromTheOthers) {
  std::vector<double> odd = {3.0, 10.0, 1.0};
  EXPECT_DOUBLE_EQ(CombineAnchorReadings(absl::MakeSpan(odd), AnchorCombination::kMedian), 3.0);
  // An even count: the mean of the middle two, whatever the largest.
  std::vector<double> even = {10.0, 1.0, 3.0, 2.0};
  EXPECT_DOUBLE_EQ(CombineAnchorReadings(absl::MakeSpan(even), AnchorCombination::kMedian), 2.5);
  std::vector<double> far = {1000.0, 1.0, 3.0, 2.0};
  EXPECT_DOUBLE_EQ(CombineAnchorReadings(absl::MakeSpan(far), AnchorCombination::kMedian), 2.5);
  std::vector<double> one = {-7.0};
  EXPECT_DOUBLE_EQ(CombineAnchorReadings(absl::MakeSpan(one), AnchorCombination::kMedian), -7.0);
}

// A configuration no curve measured, on synthetic data: four anchors of other configurations.
class AnchorCombinationModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto trained = PerfcastModel::Train(testing::SyntheticRecords(), TrainOptions{});
    ASSERT_TRUE(trained.ok()) << trained.status();
    model_ = new std::shared_ptr<const PerfcastModel>(*std::move(trained));
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static const PerfcastModel& model() { return **model_; }
  static std::shared_ptr<const PerfcastModel>* model_;
};

std::shared_ptr<const PerfcastModel>* AnchorCombinationModelTest::model_ = nullptr;

// The log throughput the model's corrector gives `anchors` at `batch_size` under `combination`.
double Combined(const PerfcastModel::State& state, AnchorCombination combination,
                const Configuration& configuration, const Shape& shape,
                absl::Span<const Anchor> anchors, double batch_size) {
  return PredictFromAnchors(state.features,
                            {state.correction.ensemble(), state.physical_exponents, combination,
                             state.index.LargestTrainedBatchFor(configuration.batch_semantics)},
                            configuration, shape, anchors, batch_size)
      .log_throughput;
}

TEST_F(AnchorCombinationModelTest, AFreshModelReadsTheMedianOfItsAnchors) {
  ASSERT_NE(model_, nullptr);
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(model());
  EXPECT_EQ(state.anchor_combination, AnchorCombination::kMedian);
  const Configuration configuration{"gpu-a", 8, "vllm", "org/model-7b", "fp16"};
  const Shape shape{512, 512};
  const std::vector<Anchor> anchors = AnchorsOf(
      state.index, state.index.OtherConfigurations(configuration, shape, kOtherConfigurations));
  ASSERT_GE(anchors.size(), 3u);
  const double median =
      Combined(state, AnchorCombination::kMedian, configuration, shape, anchors, 16);
  const double mean = Combined(state, AnchorCombination::kMean, configuration, shape, anchors, 16);
  // The synthetic configurations differ: their readings are not symmetric about their mean.
  ASSERT_GT(std::abs(median - mean), 1e-3);
  const int batches[] = {16};
  auto predicted = model().Predict({configuration, shape}, batches, 0.9);
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  ASSERT_EQ(predicted->front().prediction_case, PredictionCase::kNewConfiguration);
  EXPECT_NEAR(std::log(predicted->front().throughput_tokens_per_s), median, 1e-9);
}

TEST_F(AnchorCombinationModelTest, PastItsOwnCurveAConfigurationAveragesItsAnchors) {
  ASSERT_NE(model_, nullptr);
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(model());
  const Configuration configuration{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  const Shape shape{256, 256};
  const int own = state.index.Find(configuration, shape);
  ASSERT_GE(own, 0);
  const std::vector<Anchor> anchors =
      AnchorsOf(state.index, ExtrapolatedBatchAnchors(state.index, own));
  ASSERT_EQ(anchors.size(), 3u);
  ASSERT_TRUE(anchors.front().is_same_curve);
  const double batch_size = 1024;
  const double mean =
      Combined(state, AnchorCombination::kMean, configuration, shape, anchors, batch_size);
  const double asked_for_median =
      Combined(state, AnchorCombination::kMedian, configuration, shape, anchors, batch_size);
  EXPECT_DOUBLE_EQ(asked_for_median, mean);
  const int batches[] = {1024};
  auto predicted = model().Predict({configuration, shape}, batches, 0.9);
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  ASSERT_EQ(predicted->front().prediction_case, PredictionCase::kExtrapolatedBatch);
  EXPECT_NEAR(std::log(predicted->front().throughput_tokens_per_s), mean, 1e-9);
}

TEST_F(AnchorCombinationModelTest, ABundleOfFormat22ReadsTheMeanItsIntervalsWereCalibratedOn) {
  ASSERT_NE(model_, nullptr);
  const Configuration configuration{"gpu-a", 8, "vllm", "org/model-7b", "fp16"};
  const int batches[] = {16};
  const PredictionQuery query{configuration, {512, 512}};
  // Format 23 added no bytes: format 25's payload, sealed as format 22.
  const std::string current = EncodeModelBundle(model());
  auto as_format22 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format25PayloadOf(model()), 22));
  ASSERT_TRUE(as_format22.ok()) << as_format22.status();
  auto as_current = DecodeModelBundle(current);
  ASSERT_TRUE(as_current.ok()) << as_current.status();
  EXPECT_EQ(PerfcastModelInternal::StateOf(**as_format22).anchor_combination,
            AnchorCombination::kMean);
  EXPECT_EQ(PerfcastModelInternal::StateOf(**as_current).anchor_combination,
            AnchorCombination::kMedian);

  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(model());
  const std::vector<Anchor> anchors =
      AnchorsOf(state.index,
                state.index.OtherConfigurations(configuration, query.shape, kOtherConfigurations));
  const double mean =
      Combined(state, AnchorCombination::kMean, configuration, query.shape, anchors, 16);
  auto old = (*as_format22)->Predict(query, batches, 0.9);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_NEAR(std::log(old->front().throughput_tokens_per_s), mean, 1e-9);
  auto fresh = (*as_current)->Predict(query, batches, 0.9);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  auto trained = model().Predict(query, batches, 0.9);
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_DOUBLE_EQ(fresh->front().throughput_tokens_per_s,
                   trained->front().throughput_tokens_per_s);
  EXPECT_NE(old->front().throughput_tokens_per_s, fresh->front().throughput_tokens_per_s);
}

}  // namespace
}  // namespace perfcast
