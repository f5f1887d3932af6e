// A new shape read off the step a similar configuration measured between the two shapes
// (docs/METHOD.md §2, "The step a sibling measured").
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/model/anchor_index.h"
#include "core/model/anchored_prediction.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

// Throughput that saturates at `ceiling` tokens/s; `batches` are the measured batch sizes.
Curve MakeCurve(const Configuration& configuration, const Shape& shape, double ceiling,
                const std::vector<int>& batches = {1, 4, 16, 64}) {
  Curve curve;
  curve.configuration = configuration;
  curve.shape = shape;
  for (int batch : batches) {
    curve.points.push_back({batch, ceiling * batch / (batch + 16.0)});
  }
  return curve;
}

const Configuration kQuery{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
const Configuration kSameModel{"gpu-b", 1, "vllm", "org/model-7b", "fp16"};
const Configuration kOtherModel{"gpu-a", 1, "sglang", "org/other-70b", "fp8"};
const Shape kFrom{128, 128};
const Shape kTo{1024, 1024};

TEST(SiblingMeasuredAtTest, PicksTheMostSimilarConfigurationThatMeasuredBothShapes) {
  Configuration other_axis = kSameModel;
  other_axis.num_gpus = 2;
  other_axis.batch_semantics = BatchSemantics::kConcurrency;
  Configuration one_shape_only = kSameModel;
  one_shape_only.num_gpus = 1;
  one_shape_only.precision = "fp8";
  std::vector<AnchorCurve> anchors;
  anchors.emplace_back(MakeCurve(kQuery, kFrom, 1000));
  anchors.emplace_back(MakeCurve(kOtherModel, kFrom, 500));
  anchors.emplace_back(MakeCurve(kOtherModel, kTo, 400));
  anchors.emplace_back(MakeCurve(kSameModel, kFrom, 2000));
  anchors.emplace_back(MakeCurve(kSameModel, kTo, 1200));
  anchors.emplace_back(MakeCurve(one_shape_only, kFrom, 3000));  // has no curve at kTo
  anchors.emplace_back(MakeCurve(other_axis, kFrom, 3000));      // another batch axis
  anchors.emplace_back(MakeCurve(other_axis, kTo, 3000));
  anchors.emplace_back(MakeCurve(kQuery, {2048, 128}, 900));
  anchors.emplace_back(MakeCurve(kQuery, {8192, 128}, 900));
  anchors.emplace_back(MakeCurve(kSameModel, {2048, 128}, 900, {16}));  // a single point
  anchors.emplace_back(MakeCurve(kSameModel, {4096, 128}, 900, {16}));  // a single point
  anchors.emplace_back(MakeCurve(kOtherModel, {2048, 128}, 450));
  const AnchorIndex index(std::move(anchors));

  const std::optional<AnchorIndex::ShapePair> pair = index.SiblingMeasuredAt(kQuery, kFrom, kTo);
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(index.anchors()[pair->at_from].curve().configuration, kSameModel);
  EXPECT_EQ(index.anchors()[pair->at_from].curve().shape, kFrom);
  EXPECT_EQ(index.anchors()[pair->at_to].curve().configuration, kSameModel);
  EXPECT_EQ(index.anchors()[pair->at_to].curve().shape, kTo);

  // 2048/128: the query's own configuration measured it (no sibling of itself), the same model
  // on gpu-b at one batch size only, another model in a sweep. A sweep tells the step along the
  // batch sizes, so the less similar sweep is the sibling.
  const std::optional<AnchorIndex::ShapePair> sweep =
      index.SiblingMeasuredAt(kQuery, kFrom, {2048, 128});
  ASSERT_TRUE(sweep.has_value());
  EXPECT_EQ(index.anchors()[sweep->at_to].curve().configuration, kOtherModel);
  EXPECT_EQ(index.anchors()[sweep->at_to].curve().shape, (Shape{2048, 128}));
  // Without any sweep, the single point serves.
  const std::optional<AnchorIndex::ShapePair> single =
      index.SiblingMeasuredAt(kQuery, kFrom, {4096, 128});
  ASSERT_TRUE(single.has_value());
  EXPECT_EQ(index.anchors()[single->at_to].curve().configuration, kSameModel);
  // Nobody else measured 8192/128.
  EXPECT_FALSE(index.SiblingMeasuredAt(kQuery, kFrom, {8192, 128}).has_value());
  // A query on the concurrency axis reads only concurrency curves.
  Configuration on_concurrency = kQuery;
  on_concurrency.batch_semantics = BatchSemantics::kConcurrency;
  const std::optional<AnchorIndex::ShapePair> concurrency =
      index.SiblingMeasuredAt(on_concurrency, kFrom, kTo);
  ASSERT_TRUE(concurrency.has_value());
  EXPECT_EQ(index.anchors()[concurrency->at_to].curve().configuration, other_axis);
  // A sibling that must differ in its model: the same model on gpu-b no longer qualifies. None
  // differs in its campaign (all are unnamed).
  const std::optional<AnchorIndex::ShapePair> other_model =
      index.SiblingMeasuredAt(kQuery, kFrom, kTo, ConfigurationField::kModel);
  ASSERT_TRUE(other_model.has_value());
  EXPECT_EQ(index.anchors()[other_model->at_from].curve().configuration, kOtherModel);
  EXPECT_EQ(index.anchors()[other_model->at_to].curve().configuration, kOtherModel);
  EXPECT_FALSE(index.SiblingMeasuredAt(kQuery, kFrom, kTo, ConfigurationField::kCampaign));
}

// The pair is scanned from whichever shape fewer curves measured; either way `at_from` is the
// curve at `from`.
TEST(SiblingMeasuredAtTest, AtFromIsTheCurveAtFromWhicheverShapeIsScanned) {
  const Shape rare{4096, 4096};
  std::vector<AnchorCurve> anchors;
  anchors.emplace_back(MakeCurve(kQuery, kFrom, 1000));
  anchors.emplace_back(MakeCurve(kQuery, rare, 800));
  anchors.emplace_back(MakeCurve(kSameModel, kFrom, 2000));
  anchors.emplace_back(MakeCurve(kSameModel, rare, 300));
  anchors.emplace_back(MakeCurve(kOtherModel, kFrom, 500));  // 128/128 has more curves
  const AnchorIndex index(std::move(anchors));
  for (const auto& [from, to] : {std::pair(kFrom, rare), std::pair(rare, kFrom)}) {
    const std::optional<AnchorIndex::ShapePair> pair = index.SiblingMeasuredAt(kQuery, from, to);
    ASSERT_TRUE(pair.has_value());
    EXPECT_EQ(index.anchors()[pair->at_from].curve().shape, from);
    EXPECT_EQ(index.anchors()[pair->at_to].curve().shape, to);
    EXPECT_EQ(index.anchors()[pair->at_from].curve().configuration, kSameModel);
  }
}

TEST(ShapeTransferTest, SaysWhetherTheSiblingIsOfTheQuerysCampaign) {
  Configuration query = kQuery;
  query.campaign = "mine";
  Configuration sibling = kSameModel;
  sibling.campaign = "theirs";
  std::vector<AnchorCurve> anchors;
  anchors.emplace_back(MakeCurve(query, kFrom, 1000));
  anchors.emplace_back(MakeCurve(sibling, kFrom, 2000));
  anchors.emplace_back(MakeCurve(sibling, kTo, 1200));
  const AnchorIndex index(std::move(anchors));
  const std::vector<Anchor> new_shape = AnchorsOf(index, NewShapeAnchors(index, query, kTo));
  const std::optional<ShapeTransfer> transfer = ShapeTransferOf(index, query, kTo, new_shape);
  ASSERT_TRUE(transfer.has_value());
  EXPECT_FALSE(transfer->sibling_of_same_campaign);
  EXPECT_EQ(transfer->CalibrationWeightAt(4), 0);
  EXPECT_DOUBLE_EQ(transfer->WeightAt(4), kShapeTransferWeight);
}

TEST(ShapeTransferTest, MovesTheOwnCurveByTheSiblingsStepWhereAllThreeMeasured) {
  std::vector<AnchorCurve> anchors;
  anchors.emplace_back(MakeCurve(kQuery, kFrom, 1000, {1, 4, 16}));
  anchors.emplace_back(MakeCurve(kSameModel, kFrom, 2000));
  anchors.emplace_back(MakeCurve(kSameModel, kTo, 1200));
  const AnchorIndex index(std::move(anchors));
  const std::vector<Anchor> new_shape = AnchorsOf(index, NewShapeAnchors(index, kQuery, kTo));
  ASSERT_FALSE(new_shape.empty());
  const std::optional<ShapeTransfer> transfer = ShapeTransferOf(index, kQuery, kTo, new_shape);
  ASSERT_TRUE(transfer.has_value());
  // The sibling's step is 1200/2000 at every batch size.
  EXPECT_NEAR(transfer->LogThroughputAt(4), std::log(1000 * 4 / 20.0 * 0.6), 1e-9);
  // Within all three ranges the full weight; one doubling past the own curve's largest batch
  // (16), none; half a doubling, half.
  EXPECT_DOUBLE_EQ(transfer->WeightAt(16), kShapeTransferWeight);
  EXPECT_DOUBLE_EQ(transfer->WeightAt(32), 0);
  EXPECT_NEAR(transfer->WeightAt(16 * std::sqrt(2.0)), kShapeTransferWeight / 2, 1e-12);
  const double transferred = transfer->LogThroughputAt(4);
  EXPECT_NEAR(WithShapeTransfer(transferred - 0.1, transfer, 4),
              0.25 * (transferred - 0.1) + 0.75 * transferred, 1e-12);
  EXPECT_EQ(WithShapeTransfer(5.0, transfer, 64), 5.0);
  EXPECT_EQ(WithShapeTransfer(5.0, std::nullopt, 4), 5.0);
  // A transfer far from the anchored prediction moves it by at most kShapeTransferLimit.
  const double far_below = transferred - 10;
  EXPECT_NEAR(WithShapeTransfer(far_below, transfer, 4),
              far_below + kShapeTransferWeight * std::log(kShapeTransferLimit), 1e-12);
  const double far_above = transferred + 10;
  EXPECT_NEAR(WithShapeTransfer(far_above, transfer, 4),
              far_above - kShapeTransferWeight * std::log(kShapeTransferLimit), 1e-12);
  // Below a range the taper runs the same way: the largest distance outside any curve counts.
  const AnchorCurve from_four(MakeCurve(kQuery, kFrom, 1000, {4, 16}));
  const AnchorCurve from_two(MakeCurve(kSameModel, kFrom, 1000, {2, 16}));
  const ShapeTransfer low{&from_four, &from_two, transfer->sibling_to};
  EXPECT_DOUBLE_EQ(low.WeightAt(2), 0);
  EXPECT_NEAR(low.WeightAt(2 * std::sqrt(2.0)), kShapeTransferWeight / 2, 1e-12);
  EXPECT_DOUBLE_EQ(low.WeightAt(4), kShapeTransferWeight);
  // The sibling is of the query's campaign (both unnamed): the error predictor reads the weight.
  EXPECT_TRUE(transfer->sibling_of_same_campaign);
  EXPECT_DOUBLE_EQ(transfer->CalibrationWeightAt(16), kShapeTransferWeight);
  ShapeTransfer of_another_campaign = *transfer;
  of_another_campaign.sibling_of_same_campaign = false;
  EXPECT_EQ(of_another_campaign.CalibrationWeightAt(16), 0);
  EXPECT_DOUBLE_EQ(of_another_campaign.WeightAt(16), kShapeTransferWeight);
  // Anchors that do not start with the configuration's own curve carry no transfer.
  const std::vector<Anchor> others = {{&index.anchors()[1], false}};
  ASSERT_NE(others.front().curve->curve().configuration, kQuery);
  EXPECT_FALSE(ShapeTransferOf(index, kQuery, kTo, others).has_value());
}

TEST(ShapeTransferTest, WeighsNothingWhereACurveGivesNoFiniteStep) {
  // A sibling that measured nothing at the new shape: no step to read, so none of the answer (nor
  // of the campaign floor's share that Predict takes off for it) is the transfer's.
  const AnchorCurve own(MakeCurve(kQuery, kFrom, 1000));
  const AnchorCurve from(MakeCurve(kSameModel, kFrom, 2000));
  const AnchorCurve to(MakeCurve(kSameModel, kTo, 0));
  const ShapeTransfer transfer{&own, &from, &to};
  EXPECT_FALSE(std::isfinite(transfer.LogThroughputAt(4)));
  EXPECT_EQ(transfer.WeightAt(4), 0);
  EXPECT_EQ(WithShapeTransfer(5.0, transfer, 4), 5.0);
}

// Two families of configurations whose throughput steps differently from 128/128 to 1024/1024;
// the query's family steps as its sibling does. The step the trees learn is the average, the
// sibling's is the query's own: the prediction lands nearer the truth with it than without.
TEST(ShapeTransferTest, PredictFollowsTheSiblingsStepWhereTheAverageStepMisleads) {
  std::vector<BenchmarkRecord> records;
  const auto add = [&records](const Configuration& configuration, const Shape& shape,
                              double ceiling) {
    for (const CurvePoint& point : MakeCurve(configuration, shape, ceiling).points) {
      BenchmarkRecord record;
      record.configuration = configuration;
      record.shape = shape;
      record.batch_size = point.batch_size;
      record.throughput_tokens_per_s = point.throughput_tokens_per_s;
      records.push_back(record);
    }
  };
  // Model "steep" loses 4x from 128/128 to 1024/1024; model "flat" loses nothing.
  for (const std::string hardware : {"gpu-a", "gpu-b", "gpu-c", "gpu-d"}) {
    for (const std::string model : {"org/steep-7b", "org/flat-7b"}) {
      const Configuration configuration{hardware, 1, "vllm", model, "fp16"};
      const double level = hardware == "gpu-a" ? 1000 : hardware == "gpu-b" ? 1500 : 2500;
      add(configuration, kFrom, level);
      add(configuration, {256, 256}, level * 0.9);
      // The query: gpu-a's steep configuration measured 128/128 and 256/256 only.
      if (hardware == "gpu-a" && model == "org/steep-7b") continue;
      add(configuration, kTo, model == "org/steep-7b" ? level / 4 : level);
    }
  }
  auto trained = PerfcastModel::Train(records, TrainOptions{});
  ASSERT_TRUE(trained.ok()) << trained.status();
  const Configuration query{"gpu-a", 1, "vllm", "org/steep-7b", "fp16"};
  const int batches[] = {16};
  auto predicted = (*trained)->Predict({query, kTo}, batches, 0.9);
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  ASSERT_EQ(predicted->front().prediction_case, PredictionCase::kExtrapolatedShape);
  const double truth = MakeCurve(query, kTo, 1000 / 4.0).points[2].throughput_tokens_per_s;

  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(**trained);
  const std::vector<Anchor> anchors =
      AnchorsOf(state.index, NewShapeAnchors(state.index, query, kTo));
  const double anchored =
      PredictFromAnchors(state.features, {state.correction.ensemble(), state.physical_exponents},
                         query, kTo, anchors, 16)
          .log_throughput;
  const double with_transfer = std::log(predicted->front().throughput_tokens_per_s);
  EXPECT_LT(std::abs(with_transfer - std::log(truth)), std::abs(anchored - std::log(truth)));
  // The sibling's step is the query's: the transfer alone is exact up to the curve fits.
  const std::optional<ShapeTransfer> transfer = ShapeTransferOf(state.index, query, kTo, anchors);
  ASSERT_TRUE(transfer.has_value());
  EXPECT_EQ(transfer->sibling_to->curve().configuration.model, "org/steep-7b");
  EXPECT_NEAR(transfer->LogThroughputAt(16), std::log(truth), 0.02);
}

}  // namespace
}  // namespace perfcast
