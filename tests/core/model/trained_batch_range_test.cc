// How far along the batch a correction reads (Corrector::largest_trained_batch): the trees do not
// extrapolate, and past the batches of the query's own axis their steps are another axis's.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "core/bundle/model_codec.h"
#include "core/model/anchor_index.h"
#include "core/model/anchored_prediction.h"
#include "core/model/cross_fit_folds.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "gtest/gtest.h"
#include "tests/core/older_bundles.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

// The synthetic static curves (batches 1-128) and gpu-a x1's concurrency sweeps, which go on to
// 4,096 and keep climbing long after the static curves level off.
std::vector<BenchmarkRecord> StaticCurvesAndFarSweeps() {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  for (int tokens : {128, 256, 512}) {
    for (int batch : {16, 64, 256, 1024, 2048, 4096}) {
      BenchmarkRecord record;
      record.configuration = {"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
      record.configuration.batch_semantics = BatchSemantics::kConcurrency;
      record.shape = {tokens, tokens};
      record.batch_size = batch;
      record.throughput_tokens_per_s = 40.0 * batch * std::sqrt(256.0 / tokens);
      record.source = "synthetic";
      records.push_back(record);
    }
  }
  return records;
}

class TrainedBatchRangeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto trained = PerfcastModel::Train(StaticCurvesAndFarSweeps(), TrainOptions{});
    ASSERT_TRUE(trained.ok()) << trained.status();
    model_ = new std::shared_ptr<const PerfcastModel>(*std::move(trained));
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static const PerfcastModel::State& State() { return PerfcastModelInternal::StateOf(**model_); }

  static std::shared_ptr<const PerfcastModel>* model_;
};

std::shared_ptr<const PerfcastModel>* TrainedBatchRangeTest::model_ = nullptr;

TEST_F(TrainedBatchRangeTest, EachAxisIsTrainedAsFarAsItsCurvesGo) {
  const AnchorIndex& index = State().index;
  EXPECT_EQ(index.LargestTrainedBatchFor(BatchSemantics::kStatic), 128);
  EXPECT_EQ(index.LargestTrainedBatchFor(BatchSemantics::kConcurrency), 4096);
  // No curve on the axis: the trees saw its rows nowhere, and other axes' rows as far as these go.
  EXPECT_EQ(index.LargestTrainedBatchFor(BatchSemantics::kMaxThroughput), 4096);
  EXPECT_TRUE(std::isinf(AnchorIndex({}).LargestTrainedBatchFor(BatchSemantics::kStatic)));
}

// A curve of `configuration` at 128/128 measured up to `largest`.
AnchorCurve CurveUpTo(const Configuration& configuration, int largest) {
  Curve curve;
  curve.configuration = configuration;
  curve.shape = {128, 128};
  for (int batch = 1; batch <= largest; batch *= 4) {
    curve.points.push_back({batch, 100.0 * batch / (1.0 + batch / 32.0)});
  }
  return AnchorCurve(std::move(curve));
}

// Each fold model reaches as far as the curves outside its fold.
TEST(FoldBatchRangesTest, AFoldModelReachesAsFarAsTheCurvesOutsideItsFold) {
  Configuration concurrency{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  concurrency.batch_semantics = BatchSemantics::kConcurrency;
  std::vector<AnchorCurve> curves;
  curves.push_back(CurveUpTo({"gpu-a", 1, "vllm", "org/model-7b", "fp16"}, 64));
  curves.push_back(CurveUpTo({"gpu-b", 1, "vllm", "org/model-7b", "fp16"}, 256));
  curves.push_back(CurveUpTo(concurrency, 4096));
  const AnchorIndex index(std::move(curves));
  const int fold_of_curve[] = {0, 1, 2};
  const FoldBatchRanges ranges(index, fold_of_curve);
  EXPECT_EQ(ranges.LargestTrainedBatchFor(0, BatchSemantics::kStatic), 256);
  EXPECT_EQ(ranges.LargestTrainedBatchFor(1, BatchSemantics::kStatic), 64);
  EXPECT_EQ(ranges.LargestTrainedBatchFor(1, BatchSemantics::kConcurrency), 4096);
  // No concurrency sweep outside fold 2: its model saw that axis nowhere, static rows to 256.
  EXPECT_EQ(ranges.LargestTrainedBatchFor(2, BatchSemantics::kConcurrency), 256);
  // A fold no curve is in holds none out.
  EXPECT_EQ(ranges.LargestTrainedBatchFor(3, BatchSemantics::kStatic), 256);
  // No folds (no hardware folds): nothing bounds them.
  EXPECT_TRUE(
      std::isinf(FoldBatchRanges(index, {}).LargestTrainedBatchFor(0, BatchSemantics::kStatic)));
}

TEST_F(TrainedBatchRangeTest, PastItsAxissBatchesACorrectionHoldsWhereTheyEnded) {
  const PerfcastModel::State& state = State();
  const Configuration query{"gpu-b", 2, "vllm", "org/model-7b", "fp16"};
  const Shape shape{256, 256};
  const int own = state.index.Find(query, shape);
  ASSERT_GE(own, 0);
  const AnchorCurve& curve = state.index.anchors()[own];
  const Anchor anchors[] = {{&curve, true}};
  const double largest = state.index.LargestTrainedBatchFor(BatchSemantics::kStatic);
  const Corrector held{state.correction.ensemble(), state.physical_exponents,
                       AnchorCombination::kMedian, largest};
  const Corrector unheld{state.correction.ensemble(), state.physical_exponents};
  // The query's own curve: no datasheet ratio, no ceiling; what is left of the answer past the
  // curve's reading is the trees' correction.
  const auto correction = [&](const Corrector& corrector, double batch) {
    return PredictFromAnchors(state.features, corrector, query, shape, anchors, batch)
               .log_throughput -
           std::log(curve.ThroughputAt(batch));
  };
  const double at_edge = correction(held, largest);
  EXPECT_DOUBLE_EQ(at_edge, correction(unheld, largest));
  EXPECT_DOUBLE_EQ(correction(held, 32), correction(unheld, 32));
  bool trees_move_past_it = false;
  for (const double batch : {256.0, 1024.0, 3000.0, 4096.0, 10000.0}) {
    EXPECT_NEAR(correction(held, batch), at_edge, 1e-9) << batch;
    trees_move_past_it = trees_move_past_it || std::abs(correction(unheld, batch) - at_edge) > 1e-6;
  }
  // What the sweeps taught the trees past 128 would otherwise have moved it.
  EXPECT_TRUE(trees_move_past_it);

  // The batched path holds it alike.
  const double batches[] = {32, 128, 1024, 4096};
  const std::vector<AnchoredPrediction> each =
      PredictFromAnchorsEach(state.features, held, query, shape, anchors, batches);
  ASSERT_EQ(each.size(), std::size(batches));
  for (size_t k = 0; k < each.size(); ++k) {
    EXPECT_NEAR(
        each[k].log_throughput,
        PredictFromAnchors(state.features, held, query, shape, anchors, batches[k]).log_throughput,
        1e-9)
        << batches[k];
    if (batches[k] >= largest) {
      EXPECT_NEAR(each[k].log_throughput - std::log(curve.ThroughputAt(batches[k])), at_edge, 1e-9)
          << batches[k];
    }
  }
}

// Predict past a curve's batches reads the mean of the curve and two other shapes (an
// extrapolated batch), each corrected with the trees held at the static curves' 128 or not.
TEST_F(TrainedBatchRangeTest, ABundleOfFormat27ReadsItsTreesAtTheAskedBatch) {
  const PerfcastModel::State& state = State();
  const Configuration configuration{"gpu-b", 2, "vllm", "org/model-7b", "fp16"};
  const Shape shape{256, 256};
  const int own = state.index.Find(configuration, shape);
  ASSERT_GE(own, 0);
  const std::vector<Anchor> anchors =
      AnchorsOf(state.index, ExtrapolatedBatchAnchors(state.index, own));
  const auto reading = [&](double largest_trained_batch, double batch) {
    return PredictFromAnchors(state.features,
                              {state.correction.ensemble(), state.physical_exponents,
                               AnchorCombination::kMean, largest_trained_batch},
                              configuration, shape, anchors, batch)
        .log_throughput;
  };
  auto as_format27 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format26PayloadOf(**model_), 27));
  ASSERT_TRUE(as_format27.ok()) << as_format27.status();
  const int batches[] = {4096};
  auto today = (*model_)->Predict({configuration, shape}, batches, 0.9);
  auto then = (*as_format27)->Predict({configuration, shape}, batches, 0.9);
  ASSERT_TRUE(today.ok() && then.ok());
  ASSERT_EQ(today->front().prediction_case, PredictionCase::kExtrapolatedBatch);
  EXPECT_NEAR(std::log(today->front().throughput_tokens_per_s), reading(128, 4096), 1e-9);
  EXPECT_NEAR(std::log(then->front().throughput_tokens_per_s),
              reading(std::numeric_limits<double>::infinity(), 4096), 1e-9);
  EXPECT_GT(std::abs(reading(128, 4096) - reading(std::numeric_limits<double>::infinity(), 4096)),
            1e-6);
}

}  // namespace
}  // namespace perfcast
