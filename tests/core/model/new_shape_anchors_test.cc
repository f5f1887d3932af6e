// Which curves a shape its configuration has not measured is predicted from (docs/METHOD.md §2).
#include <cmath>
#include <optional>
#include <set>
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

Curve MakeCurve(const std::string& hardware, int gpus, const Shape& shape) {
  Curve curve;
  curve.configuration = {hardware, gpus, "vllm", "org/model-7b", "fp16"};
  curve.shape = shape;
  for (int batch : {1, 4, 16, 64}) {
    curve.points.push_back({batch, 100.0 * batch / (1.0 + batch / 32.0)});
  }
  return curve;
}

// gpu-a x1 measured one shape; gpu-a x2 and gpu-b x1 measured four each.
AnchorIndex MakeIndex() {
  std::vector<AnchorCurve> anchors;
  anchors.emplace_back(MakeCurve("gpu-a", 1, {128, 128}));
  for (const Shape& shape :
       {Shape{128, 128}, Shape{512, 512}, Shape{1024, 1024}, Shape{2048, 128}}) {
    anchors.emplace_back(MakeCurve("gpu-a", 2, shape));
    anchors.emplace_back(MakeCurve("gpu-b", 1, shape));
  }
  return AnchorIndex(std::move(anchors));
}

const Configuration& ConfigurationOf(const AnchorIndex& index, const AnchorChoice& choice) {
  return index.anchors()[choice.anchor_index].curve().configuration;
}

TEST(NewShapeAnchorsTest, AConfigurationWithEnoughShapesIsPredictedFromItsOwnAlone) {
  const AnchorIndex index = MakeIndex();
  const Configuration query{"gpu-b", 1, "vllm", "org/model-7b", "fp16"};
  const std::vector<AnchorChoice> chosen = NewShapeAnchors(index, query, {1024, 512});
  ASSERT_EQ(chosen.size(), static_cast<size_t>(kSiblingsForNewShape));
  for (const AnchorChoice& choice : chosen) {
    EXPECT_EQ(ConfigurationOf(index, choice), query);
    EXPECT_FALSE(choice.is_same_curve);
  }
  EXPECT_TRUE(NewShapeCompletion(index, query, {1024, 512}, kSiblingsForNewShape).empty());
}

TEST(NewShapeAnchorsTest, ASingleFarSiblingIsJoinedByOtherConfigurationsAtTheQueryShape) {
  const AnchorIndex index = MakeIndex();
  const Configuration query{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  const Shape shape{1024, 1024};
  const std::vector<AnchorChoice> chosen = NewShapeAnchors(index, query, shape);
  ASSERT_EQ(chosen.size(), static_cast<size_t>(kSiblingsForNewShape));
  // The configuration's own curve comes first and keeps the configuration's level...
  EXPECT_EQ(ConfigurationOf(index, chosen[0]), query);
  // ...then one curve each of the other configurations, at the query's shape, which they
  // measured.
  std::set<std::string> others;
  for (size_t i = 1; i < chosen.size(); ++i) {
    const Curve& curve = index.anchors()[chosen[i].anchor_index].curve();
    EXPECT_NE(curve.configuration, query);
    EXPECT_EQ(curve.shape.input_tokens, shape.input_tokens);
    EXPECT_EQ(curve.shape.output_tokens, shape.output_tokens);
    others.insert(curve.configuration.hardware + "/" +
                  std::to_string(curve.configuration.num_gpus));
  }
  EXPECT_EQ(others.size(), chosen.size() - 1);
}

TEST(NewShapeAnchorsTest, WithoutAnySiblingThereIsNothingToCompleteTheQueryIsANewConfiguration) {
  const AnchorIndex index = MakeIndex();
  const Configuration unmeasured{"gpu-a", 8, "vllm", "org/model-7b", "fp16"};
  EXPECT_TRUE(NewShapeAnchors(index, unmeasured, {1024, 1024}).empty());
  EXPECT_TRUE(NewShapeCompletion(index, unmeasured, {1024, 1024}, 0).empty());
  // Two of the three anchors are missing for one sibling, one for two.
  const Configuration single{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  EXPECT_EQ(NewShapeCompletion(index, single, {1024, 1024}, 1).size(), 2u);
  EXPECT_EQ(NewShapeCompletion(index, single, {1024, 1024}, 2).size(), 1u);
}

TEST(NewShapeAnchorsTest, PredictReadsTheCompletedAnchors) {
  // gpu-a x1 keeps only its 128/128 curve; every other configuration measured 1024/1024.
  std::vector<BenchmarkRecord> records;
  for (const BenchmarkRecord& r : testing::SyntheticRecords()) {
    if (r.configuration.hardware == "gpu-a" && r.configuration.num_gpus == 1 &&
        r.shape.input_tokens != 128) {
      continue;
    }
    records.push_back(r);
  }
  auto trained = PerfcastModel::Train(records, TrainOptions{});
  ASSERT_TRUE(trained.ok()) << trained.status();
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(**trained);
  const Configuration configuration = records.front().configuration;
  ASSERT_EQ(configuration.hardware, "gpu-a");
  ASSERT_EQ(configuration.num_gpus, 1);
  const Shape shape{1024, 1024};
  const int batches[] = {16};
  auto predicted = (*trained)->Predict({configuration, shape}, batches, 0.9);
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  ASSERT_EQ(predicted->front().prediction_case, PredictionCase::kExtrapolatedShape);

  const std::vector<Anchor> completed =
      AnchorsOf(state.index, NewShapeAnchors(state.index, configuration, shape));
  ASSERT_EQ(completed.size(), static_cast<size_t>(kSiblingsForNewShape));
  const Corrector corrector{state.correction.ensemble(), state.physical_exponents};
  const double from_completed =
      PredictFromAnchors(state.features, corrector, configuration, shape, completed, 16)
          .log_throughput;
  const double from_sibling =
      PredictFromAnchors(state.features, corrector, configuration, shape, {completed.front()}, 16)
          .log_throughput;
  // The other configurations measured both shapes: the prediction also reads the step between
  // them off the most similar (ShapeTransfer).
  const std::optional<ShapeTransfer> transfer =
      ShapeTransferOf(state.index, configuration, shape, completed);
  ASSERT_TRUE(transfer.has_value());
  EXPECT_DOUBLE_EQ(std::log(predicted->front().throughput_tokens_per_s),
                   WithShapeTransfer(from_completed, transfer, 16));
  // The other configurations' readings enter the answer: averaged with the sibling's, they move
  // it off the sibling's alone (their median may be the sibling's own).
  const double averaged = PredictFromAnchors(state.features,
                                             {state.correction.ensemble(), state.physical_exponents,
                                              AnchorCombination::kMean},
                                             configuration, shape, completed, 16)
                              .log_throughput;
  EXPECT_GT(std::abs(averaged - from_sibling), 1e-6);
}

}  // namespace
}  // namespace perfcast
