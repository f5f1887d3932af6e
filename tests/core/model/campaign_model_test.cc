// How the model treats campaigns (docs/METHOD.md §8), on synthetic data from two harnesses: one
// measures everything, the other a part of it at twice the level.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/model/anchored_prediction.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

constexpr double kLabBFactor = 2.0;

std::vector<BenchmarkRecord> TwoCampaigns() {
  std::vector<BenchmarkRecord> records;
  for (BenchmarkRecord r : testing::SyntheticRecords()) {
    r.configuration.campaign = "lab-a";
    records.push_back(r);
    if (r.configuration.hardware == "gpu-a" && r.configuration.num_gpus <= 2) {
      r.configuration.campaign = "lab-b";
      r.throughput_tokens_per_s *= kLabBFactor;
      records.push_back(r);
    }
  }
  return records;
}

class CampaignModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto trained = PerfcastModel::Train(TwoCampaigns(), TrainOptions{});
    ASSERT_TRUE(trained.ok()) << trained.status();
    model_ = new std::shared_ptr<const PerfcastModel>(*trained);
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static const PerfcastModel& model() { return **model_; }

  static PointPrediction PredictOne(const std::string& campaign, const std::string& hardware,
                                    int gpus, int batch) {
    Configuration c{hardware, gpus, "vllm", "org/model-7b", "fp16"};
    c.campaign = campaign;
    const int batches[] = {batch};
    auto p = model().Predict({c, {256, 256}}, batches, 0.9);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? p->front() : PointPrediction{};
  }

  static inline std::shared_ptr<const PerfcastModel>* model_ = nullptr;
};

TEST_F(CampaignModelTest, EachCampaignGetsItsOwnMeasurements) {
  const PointPrediction a = PredictOne("lab-a", "gpu-a", 1, 16);
  const PointPrediction b = PredictOne("lab-b", "gpu-a", 1, 16);
  EXPECT_EQ(a.prediction_case, PredictionCase::kMeasured);
  EXPECT_EQ(b.prediction_case, PredictionCase::kMeasured);
  EXPECT_DOUBLE_EQ(b.throughput_tokens_per_s, kLabBFactor * a.throughput_tokens_per_s);
}

TEST_F(CampaignModelTest, ACampaignThatMeasuresHigherIsPredictedHigherWhereItMeasuredNothing) {
  const CampaignLevels& levels = PerfcastModelInternal::StateOf(model()).campaign_levels;
  EXPECT_GT(levels.LevelOf("lab-b"), levels.LevelOf("lab-a"));
  // gpu-b was measured by lab-a only: lab-b's answer reads lab-a's curve, moved by exactly the
  // levels' difference.
  const PointPrediction a = PredictOne("lab-a", "gpu-b", 1, 16);
  const PointPrediction b = PredictOne("lab-b", "gpu-b", 1, 16);
  EXPECT_EQ(b.prediction_case, PredictionCase::kMeasured);
  EXPECT_NEAR(std::log(b.throughput_tokens_per_s / a.throughput_tokens_per_s),
              levels.LevelOf("lab-b") - levels.LevelOf("lab-a"), 1e-9);
  // Twice as high, as lab-b measures where both measured; not more (the levels are relative).
  EXPECT_GT(b.throughput_tokens_per_s, 1.3 * a.throughput_tokens_per_s);
  EXPECT_LT(b.throughput_tokens_per_s, 2.5 * a.throughput_tokens_per_s);
  // Past lab-a's measured batches the reading moves by the same step.
  const PointPrediction a_beyond = PredictOne("lab-a", "gpu-b", 1, 200);
  const PointPrediction b_beyond = PredictOne("lab-b", "gpu-b", 1, 200);
  EXPECT_EQ(b_beyond.prediction_case, PredictionCase::kExtrapolatedBatch);
  EXPECT_NEAR(std::log(b_beyond.throughput_tokens_per_s / a_beyond.throughput_tokens_per_s),
              levels.LevelOf("lab-b") - levels.LevelOf("lab-a"), 1e-9);
}

TEST_F(CampaignModelTest, ThePopulationAndAnUnknownCampaignGetTheSameWiderAnswer) {
  const PointPrediction named = PredictOne("lab-a", "gpu-a", 4, 16);
  const PointPrediction population = PredictOne("", "gpu-a", 4, 16);
  const PointPrediction unknown = PredictOne("lab-never-seen", "gpu-a", 4, 16);
  // Measured by lab-a only: the population reads lab-a's curve...
  EXPECT_EQ(population.prediction_case, PredictionCase::kMeasured);
  EXPECT_DOUBLE_EQ(population.throughput_tokens_per_s, named.throughput_tokens_per_s);
  // ...with an interval as wide as the campaigns scatter, not the measurement noise alone.
  EXPECT_GT(population.upper_tokens_per_s / population.lower_tokens_per_s,
            named.upper_tokens_per_s / named.lower_tokens_per_s);
  EXPECT_DOUBLE_EQ(unknown.throughput_tokens_per_s, population.throughput_tokens_per_s);
  EXPECT_DOUBLE_EQ(unknown.upper_tokens_per_s, population.upper_tokens_per_s);
}

TEST_F(CampaignModelTest, APopulationAnswerStaysAtItsCampaignsLevelPastTheMeasuredRange) {
  // gpu-a x1 is measured by both labs (4 curves each, up to batch 128); the population reads the
  // first by name, lab-a, on the measured points and beyond them alike.
  const PointPrediction measured = PredictOne("", "gpu-a", 1, 128);
  const PointPrediction beyond = PredictOne("", "gpu-a", 1, 140);
  EXPECT_EQ(measured.prediction_case, PredictionCase::kMeasured);
  EXPECT_EQ(beyond.prediction_case, PredictionCase::kExtrapolatedBatch);
  EXPECT_DOUBLE_EQ(measured.throughput_tokens_per_s,
                   PredictOne("lab-a", "gpu-a", 1, 128).throughput_tokens_per_s);
  EXPECT_DOUBLE_EQ(beyond.throughput_tokens_per_s,
                   PredictOne("lab-a", "gpu-a", 1, 140).throughput_tokens_per_s);
}

// lab-a measured every synthetic configuration; lab-b, those curves of gpu-a x1 that
// `lab_b_measured` keeps, with another model, at `lab_b_factor` times lab-a's level.
std::vector<BenchmarkRecord> LabBMeasuredApart(double lab_b_factor,
                                               bool (*lab_b_measured)(const Shape&)) {
  std::vector<BenchmarkRecord> records;
  for (BenchmarkRecord r : testing::SyntheticRecords()) {
    r.configuration.campaign = "lab-a";
    records.push_back(r);
    if (r.configuration.hardware == "gpu-a" && r.configuration.num_gpus == 1 &&
        lab_b_measured(r.shape)) {
      r.configuration.campaign = "lab-b";
      r.configuration.model = "org/model-13b";
      r.throughput_tokens_per_s *= lab_b_factor;
      records.push_back(r);
    }
  }
  return records;
}

bool EveryShape(const Shape&) { return true; }
bool OnlyShape256(const Shape& shape) { return shape == Shape{256, 256}; }

// lab-a measured the synthetic records `lab_a_measured` keeps; lab-b, those `lab_b_measured`
// keeps, at kLabBFactor times lab-a's level, its names as `lab_b_spells` writes them.
std::vector<BenchmarkRecord> TwoLabsMeasuring(bool (*lab_a_measured)(const BenchmarkRecord&),
                                              bool (*lab_b_measured)(const BenchmarkRecord&),
                                              void (*lab_b_spells)(Configuration&)) {
  std::vector<BenchmarkRecord> records;
  for (BenchmarkRecord r : testing::SyntheticRecords()) {
    r.configuration.campaign = "lab-a";
    if (lab_a_measured(r)) records.push_back(r);
    if (lab_b_measured(r)) {
      r.configuration.campaign = "lab-b";
      lab_b_spells(r.configuration);
      r.throughput_tokens_per_s *= kLabBFactor;
      records.push_back(r);
    }
  }
  return records;
}

TEST(CampaignSpellingTest, ASystemAnotherCampaignSpellsOtherwiseIsReadAcross) {
  // lab-b writes the engine "vLLM" and measured gpu-a only; lab-a writes "vllm" and measured all.
  auto trained =
      PerfcastModel::Train(TwoLabsMeasuring([](const BenchmarkRecord&) { return true; },
                                            [](const BenchmarkRecord& r) {
                                              return r.configuration.hardware == "gpu-a" &&
                                                     r.configuration.num_gpus <= 2;
                                            },
                                            [](Configuration& c) { c.framework = "vLLM"; }),
                           TrainOptions{});
  ASSERT_TRUE(trained.ok()) << trained.status();
  const CampaignLevels& levels = PerfcastModelInternal::StateOf(**trained).campaign_levels;

  Configuration lab_b{"gpu-b", 1, "vLLM", "org/model-7b", "fp16"};
  lab_b.campaign = "lab-b";
  Configuration lab_a{"gpu-b", 1, "vllm", "org/model-7b", "fp16"};
  lab_a.campaign = "lab-a";
  const int batches[] = {16};
  auto b = (*trained)->Predict({lab_b, {256, 256}}, batches, 0.9);
  auto a = (*trained)->Predict({lab_a, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(a.ok()) << a.status();
  // lab-a's measured point under lab-b's spelling, moved to lab-b's level.
  EXPECT_EQ(b->front().prediction_case, PredictionCase::kMeasured);
  EXPECT_NEAR(std::log(b->front().throughput_tokens_per_s / a->front().throughput_tokens_per_s),
              levels.LevelOf("lab-b") - levels.LevelOf("lab-a"), 1e-9);
  EXPECT_GT(levels.LevelOf("lab-b"), levels.LevelOf("lab-a"));

  // lab-b's own gpu-a, asked under lab-a's spelling: its own measured point, not lab-a's.
  Configuration own_other_spelling{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  own_other_spelling.campaign = "lab-b";
  Configuration own = own_other_spelling;
  own.framework = "vLLM";
  auto asked_otherwise = (*trained)->Predict({own_other_spelling, {256, 256}}, batches, 0.9);
  auto asked_as_spelt = (*trained)->Predict({own, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(asked_otherwise.ok()) << asked_otherwise.status();
  ASSERT_TRUE(asked_as_spelt.ok()) << asked_as_spelt.status();
  EXPECT_EQ(asked_otherwise->front().prediction_case, PredictionCase::kMeasured);
  EXPECT_DOUBLE_EQ(asked_otherwise->front().throughput_tokens_per_s,
                   asked_as_spelt->front().throughput_tokens_per_s);
  EXPECT_DOUBLE_EQ(asked_otherwise->front().upper_tokens_per_s,
                   asked_as_spelt->front().upper_tokens_per_s);
}

TEST(CampaignReadAcrossTest, ANewShapeReadAcrossStepsFromTheNamedCampaignsLevel) {
  // lab-b measured gpu-a at 256/256 only, at twice lab-a's level; lab-a measured everything but
  // gpu-b x1 at 512/512. lab-b's gpu-b x1 at 512/512 is a new shape of lab-a's curves, and the
  // step a sibling measured is read off lab-a's own curve: it must carry lab-b's level too.
  auto trained = PerfcastModel::Train(
      TwoLabsMeasuring(
          [](const BenchmarkRecord& r) {
            return !(r.configuration.hardware == "gpu-b" && r.configuration.num_gpus == 1 &&
                     r.shape == Shape{512, 512});
          },
          [](const BenchmarkRecord& r) {
            return r.configuration.hardware == "gpu-a" && r.shape == Shape{256, 256};
          },
          [](Configuration&) {}),
      TrainOptions{});
  ASSERT_TRUE(trained.ok()) << trained.status();
  const CampaignLevels& levels = PerfcastModelInternal::StateOf(**trained).campaign_levels;
  Configuration lab_a{"gpu-b", 1, "vllm", "org/model-7b", "fp16"};
  lab_a.campaign = "lab-a";
  Configuration lab_b = lab_a;
  lab_b.campaign = "lab-b";
  const int batches[] = {16, 64};
  auto a = (*trained)->Predict({lab_a, {512, 512}}, batches, 0.9);
  auto b = (*trained)->Predict({lab_b, {512, 512}}, batches, 0.9);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*b)[i].prediction_case, PredictionCase::kExtrapolatedShape);
    EXPECT_NEAR(std::log((*b)[i].throughput_tokens_per_s / (*a)[i].throughput_tokens_per_s),
                levels.LevelOf("lab-b") - levels.LevelOf("lab-a"), 1e-9);
  }
}

// The floor of an answer read wholly across campaigns, at 90%.
double SpreadFloorOf(const PerfcastModel& model) {
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(model);
  EXPECT_GT(state.calibration.ScoreCount(RowKind::kCampaignSpread), 0u);
  return state.calibration.ScoreQuantile(RowKind::kCampaignSpread, 0.9);
}

TEST(CampaignFloorTest, ANamedCampaignReadAcrossCampaignsGetsTheCampaignSpreadFloor) {
  // lab-b measured one configuration of another model, at a tenth of lab-a's level (so far
  // apart that the campaigns' spread is wider than a new configuration's interval); everything
  // else is lab-a's.
  auto trained = PerfcastModel::Train(LabBMeasuredApart(0.1, EveryShape), TrainOptions{});
  ASSERT_TRUE(trained.ok()) << trained.status();
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(**trained);
  const double floor = SpreadFloorOf(**trained);

  // No campaign measured eight gpu-b: every anchor of lab-b's query is lab-a's, and the answer is
  // read across campaigns.
  Configuration unmeasured{"gpu-b", 8, "vllm", "org/model-7b", "fp16"};
  unmeasured.campaign = "lab-b";
  for (const AnchorChoice& choice :
       state.index.OtherConfigurations(unmeasured, {256, 256}, kOtherConfigurations)) {
    ASSERT_EQ(state.index.anchors()[choice.anchor_index].curve().configuration.campaign, "lab-a");
  }
  const int batches[] = {16};
  auto across = (*trained)->Predict({unmeasured, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(across.ok()) << across.status();
  ASSERT_EQ(across->front().prediction_case, PredictionCase::kNewConfiguration);
  EXPECT_GE(std::log(across->front().upper_tokens_per_s / across->front().throughput_tokens_per_s),
            floor - 1e-9);
  // Four gpu-b were measured by lab-a only: lab-b's answer reads lab-a's measured point, and is
  // as unsure as any answer read across campaigns.
  Configuration query{"gpu-b", 4, "vllm", "org/model-7b", "fp16"};
  query.campaign = "lab-b";
  auto read_across = (*trained)->Predict({query, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(read_across.ok()) << read_across.status();
  EXPECT_EQ(read_across->front().prediction_case, PredictionCase::kMeasured);
  EXPECT_GE(std::log(read_across->front().upper_tokens_per_s /
                     read_across->front().throughput_tokens_per_s),
            floor - 1e-9);
  // lab-a's own query of that configuration is measured: no floor.
  query.campaign = "lab-a";
  auto own = (*trained)->Predict({query, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_LT(std::log(own->front().upper_tokens_per_s / own->front().throughput_tokens_per_s),
            floor);
}

// The 90% half-width of a single prediction, in log throughput.
double HalfWidthOf(const PerfcastModel& model, const Configuration& configuration,
                   const Shape& shape, int batch_size, PointPrediction* out = nullptr) {
  const int batches[] = {batch_size};
  auto predicted = model.Predict({configuration, shape}, batches, 0.9);
  EXPECT_TRUE(predicted.ok()) << predicted.status();
  if (!predicted.ok()) return 0;
  if (out != nullptr) *out = predicted->front();
  return std::log(predicted->front().upper_tokens_per_s /
                  predicted->front().throughput_tokens_per_s);
}

TEST(CampaignFloorTest, ANewShapeReadPartlyAcrossCampaignsGetsThatShareOfTheFloor) {
  // lab-b's first result: one shape of one configuration of another model, at a thousandth of
  // lab-a's level. Another shape of it is read off that curve and, to make up the count, off
  // lab-a's most similar configurations, and stepped as a lab-a configuration stepped between the
  // two shapes: the part of the answer the anchors give is that share across campaigns, and the
  // floor of its interval that share of the campaigns' spread.
  auto trained = PerfcastModel::Train(LabBMeasuredApart(0.001, OnlyShape256), TrainOptions{});
  ASSERT_TRUE(trained.ok()) << trained.status();
  const PerfcastModel& model = **trained;
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(model);
  const double floor = SpreadFloorOf(model);

  Configuration query{"gpu-a", 1, "vllm", "org/model-13b", "fp16"};
  query.campaign = "lab-b";
  const Shape asked{1024, 1024};
  const std::vector<Anchor> anchors =
      AnchorsOf(state.index, NewShapeAnchors(state.index, query, asked));
  ASSERT_EQ(anchors.size(), static_cast<size_t>(kSiblingsForNewShape));
  int across = 0;
  for (const Anchor& anchor : anchors) {
    if (anchor.curve->curve().configuration.campaign != "lab-b") ++across;
  }
  ASSERT_EQ(across, kSiblingsForNewShape - 1);
  const std::optional<ShapeTransfer> transfer = ShapeTransferOf(state.index, query, asked, anchors);
  ASSERT_TRUE(transfer.has_value());
  const double share =
      static_cast<double>(across) / kSiblingsForNewShape * (1 - transfer->WeightAt(16));
  ASSERT_GT(share, 0);
  PointPrediction point;
  const double half_width = HalfWidthOf(model, query, asked, 16, &point);
  ASSERT_EQ(point.prediction_case, PredictionCase::kExtrapolatedShape);
  // The spread is far wider than a new shape's interval here, so the floor decides.
  const double unfloored = state.calibration.ScoreQuantile(RowKind::kOneCurveShape, 0.9) *
                           std::log1p(point.expected_relative_error);
  ASSERT_LT(unfloored, floor * share);
  EXPECT_NEAR(half_width, floor * share, 1e-9);

  // Asked of the population, the configuration is read off lab-b's curve as well (the campaign
  // that measured it), but the answer is the population's: the whole floor, step or not.
  Configuration of_population = query;
  of_population.campaign.clear();
  EXPECT_NEAR(HalfWidthOf(model, of_population, asked, 16), floor, 1e-9);

  // Asked at several batch sizes at once, each point takes its own share: past the curves'
  // batches the step weighs less, and more of the floor applies.
  const int batches[] = {16, 181};
  ASSERT_NE(transfer->WeightAt(181), transfer->WeightAt(16));
  auto together = model.Predict({query, asked}, batches, 0.9);
  ASSERT_TRUE(together.ok()) << together.status();
  for (size_t i = 0; i < 2; ++i) {
    const PointPrediction& p = (*together)[i];
    EXPECT_NEAR(std::log(p.upper_tokens_per_s / p.throughput_tokens_per_s),
                HalfWidthOf(model, query, asked, batches[i]), 1e-9)
        << "batch " << batches[i];
  }
  EXPECT_NEAR(HalfWidthOf(model, query, asked, 181),
              floor * across / kSiblingsForNewShape * (1 - transfer->WeightAt(181)), 1e-9);

  // Read off the campaign's own curves alone: no share of the floor. lab-b's measured point and
  // its curve past its last batch; lab-a's new shape of a configuration with three of its own.
  EXPECT_NEAR(HalfWidthOf(model, query, {256, 256}, 16),
              state.calibration.ScoreQuantile(RowKind::kMeasurement, 0.9), 1e-9);
  PointPrediction beyond;
  const double beyond_width = HalfWidthOf(model, query, {256, 256}, 512, &beyond);
  ASSERT_EQ(beyond.prediction_case, PredictionCase::kExtrapolatedBatch);
  EXPECT_NEAR(beyond_width,
              state.calibration.ScoreQuantile(RowKind::kOwnSmallerBatches, 0.9) *
                  std::log1p(beyond.expected_relative_error),
              1e-9);
  Configuration lab_a{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  lab_a.campaign = "lab-a";
  PointPrediction own_shape;
  const Shape unmeasured{512, 1024};
  const double own_width = HalfWidthOf(model, lab_a, unmeasured, 16, &own_shape);
  ASSERT_EQ(own_shape.prediction_case, PredictionCase::kExtrapolatedShape);
  EXPECT_NEAR(own_width,
              state.calibration.ScoreQuantile(RowKind::kOtherShape, 0.9) *
                  std::log1p(own_shape.expected_relative_error),
              1e-9);
}

TEST_F(CampaignModelTest, StaticAndConcurrencyAxesAreKeptApart) {
  Configuration c{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  c.campaign = "lab-a";
  c.batch_semantics = BatchSemantics::kConcurrency;
  const int batches[] = {16};
  auto p = model().Predict({c, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(p.ok()) << p.status();
  // Nothing was measured under concurrency: not the static curve's measured point.
  EXPECT_EQ(p->front().prediction_case, PredictionCase::kNewConfiguration);
}

TEST_F(CampaignModelTest, UncertaintySaysWhereAQueryLiesOutsideEveryCampaign) {
  Configuration c{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  c.campaign = "lab-a";
  auto inside = model().Explain({c, {256, 256}}, 16, 3);
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_FALSE(inside->population);
  EXPECT_TRUE(inside->outside_data.empty());

  c.campaign = "lab-new";
  auto outside = model().Explain({c, {256, 4096}}, 4096, 3);
  ASSERT_TRUE(outside.ok()) << outside.status();
  EXPECT_TRUE(outside->population);
  ASSERT_EQ(outside->outside_data.size(), 3u);
  EXPECT_EQ(outside->outside_data[0],
            "campaign 'lab-new' is not in the data: answered for the population of campaigns");
  EXPECT_EQ(outside->outside_data[1],
            "batch_size 4096 is beyond every campaign's largest static batch (128)");
  EXPECT_EQ(outside->outside_data[2],
            "output_tokens 4096 is beyond every campaign's largest (1024)");

  // gpu-b was measured by lab-a only.
  c = {"gpu-b", 1, "vllm", "org/model-7b", "fp16"};
  c.campaign = "lab-b";
  auto across = model().Explain({c, {256, 256}}, 16, 3);
  ASSERT_TRUE(across.ok()) << across.status();
  EXPECT_FALSE(across->population);
  ASSERT_EQ(across->outside_data.size(), 1u);
  EXPECT_EQ(across->outside_data[0],
            "campaign 'lab-b' never measured this system: read off 'lab-a''s curves, moved to "
            "'lab-b''s level");
}

}  // namespace
}  // namespace perfcast
