// The held-out errors that train the error predictor and calibrate the intervals
// (docs/METHOD.md §3 and §5).
#include "core/model/held_out_errors.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/bundle/model_codec.h"
#include "core/model/anchored_prediction.h"
#include "core/model/campaign_calibrations.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "core/model/split_conformal.h"
#include "gtest/gtest.h"
#include "tests/core/older_bundles.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

// A trained model and the held-out errors its cross-fit gives.
struct HeldOut {
  std::shared_ptr<const PerfcastModel> model;
  std::array<std::vector<ErrorRecord>, 2> records;

  const PerfcastModel::State& state() const { return PerfcastModelInternal::StateOf(*model); }
};

TrainOptions KeepingTheCrossFit() {
  TrainOptions options;
  options.keep_cross_fit = true;
  return options;
}

std::unique_ptr<HeldOut> CollectFor(const std::vector<BenchmarkRecord>& data) {
  auto out = std::make_unique<HeldOut>();
  auto trained = PerfcastModel::Train(data, KeepingTheCrossFit());
  EXPECT_TRUE(trained.ok()) << trained.status();
  if (!trained.ok()) return nullptr;
  out->model = *trained;
  const PerfcastModel::State& state = out->state();
  EXPECT_TRUE(state.cross_fit.has_value());
  if (!state.cross_fit.has_value()) return nullptr;
  std::vector<CampaignResidual> residuals;
  out->records = CollectHeldOutErrors(
      state.index, WorkloadSimilarity::ScalesOf(state.index.anchors()), *state.cross_fit->models,
      state.cross_fit->folds, KeepingTheCrossFit(), residuals);
  return out;
}

// The synthetic data as lab-a measured them, and as lab-b measured the same systems on two other
// GPUs at 1.3 times the level: every configuration has four shapes, and each campaign six
// configurations that the other can make up a new shape's anchors with.
std::vector<BenchmarkRecord> TwoCampaigns() {
  std::vector<BenchmarkRecord> records;
  for (BenchmarkRecord r : testing::SyntheticRecords()) {
    r.configuration.campaign = "lab-a";
    records.push_back(r);
    r.configuration.campaign = "lab-b";
    r.configuration.hardware = r.configuration.hardware == "gpu-a" ? "gpu-c" : "gpu-d";
    r.throughput_tokens_per_s *= 1.3;
    records.push_back(r);
  }
  return records;
}

class HeldOutErrorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    one_campaign_ = CollectFor(testing::SyntheticRecords()).release();
    two_campaigns_ = CollectFor(TwoCampaigns()).release();
  }
  static void TearDownTestSuite() {
    delete one_campaign_;
    delete two_campaigns_;
    one_campaign_ = two_campaigns_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(one_campaign_, nullptr);
    ASSERT_NE(two_campaigns_, nullptr);
  }

  static inline HeldOut* one_campaign_ = nullptr;
  static inline HeldOut* two_campaigns_ = nullptr;
};

bool IsCurvesNewShape(const ErrorRecord& record) {
  // The annealing's records name no curve.
  return record.features.prediction_case == PredictionCase::kExtrapolatedShape && record.curve >= 0;
}

TEST_F(HeldOutErrorsTest, NewShapesCarryTheStepsWeight) {
  // In one campaign, a curve held out as a new shape has siblings that measured both its nearest
  // shape and its own, so its held-out errors must carry the step's weight for the error
  // predictor to read, as Predict's do; no other case has a step to weigh.
  int new_shapes = 0, weighted = 0;
  for (const std::vector<ErrorRecord>& half : one_campaign_->records) {
    for (const ErrorRecord& record : half) {
      const double weight = record.features.shape_transfer_weight;
      EXPECT_GE(weight, 0);
      EXPECT_LE(weight, kShapeTransferWeight);
      if (record.features.prediction_case != PredictionCase::kExtrapolatedShape) {
        EXPECT_EQ(weight, 0) << "case " << static_cast<int>(record.features.prediction_case);
        continue;
      }
      ++new_shapes;
      if (weight > 0) ++weighted;
    }
  }
  ASSERT_GT(new_shapes, 0);
  // Every curve measured the same batches, all within the three curves' ranges: every held-out
  // new shape reads the step.
  EXPECT_EQ(weighted, new_shapes);
}

TEST_F(HeldOutErrorsTest, OneCampaignHasNoFirstResultsToCalibrate) {
  // No other campaign can make up a first result's anchors as Predict would: no such records.
  for (const std::vector<ErrorRecord>& half : one_campaign_->records) {
    for (const ErrorRecord& record : half) EXPECT_FALSE(record.first_result);
  }
}

TEST_F(HeldOutErrorsTest, CalibrationCurvesAreAlsoNewShapesOfACampaignsFirstResult) {
  // Each curve held out as a new shape is predicted from its configuration's three other curves;
  // in the calibration's half, also as a campaign's first result would have it: one other curve
  // of its configuration, the rest of the anchors and the step of other campaigns, and the rest of
  // the configuration unseen (by the neighbourhood too). The error predictor's half keeps the
  // cases it learns from.
  size_t curves = 0;
  for (int half = 0; half < 2; ++half) {
    std::map<int, int> first_results_of_curve, others_of_curve;
    for (const ErrorRecord& record : two_campaigns_->records[half]) {
      if (!IsCurvesNewShape(record)) {
        EXPECT_FALSE(record.first_result);
        continue;
      }
      // Read off one curve of its configuration, a first result is calibrated with the new
      // shapes of configurations of two curves, apart from those read off several.
      EXPECT_EQ(record.one_own_curve, record.first_result);
      if (!record.first_result) {
        EXPECT_EQ(record.features.neighbourhood.configuration_curve_count, 3);
        ++others_of_curve[record.curve];
        continue;
      }
      EXPECT_EQ(half, 1) << "curve " << record.curve;
      EXPECT_EQ(record.features.neighbourhood.configuration_curve_count, 1);
      EXPECT_EQ(record.features.anchor_count, kSiblingsForNewShape);
      // The step is another campaign's, which the error predictor reads as no step.
      EXPECT_EQ(record.features.shape_transfer_weight, 0);
      ++first_results_of_curve[record.curve];
    }
    curves += others_of_curve.size();
    for (const auto& [curve, count] : others_of_curve) {
      EXPECT_EQ(count, 6) << "curve " << curve;
      EXPECT_EQ(first_results_of_curve[curve], half == 1 ? 6 : 0) << "curve " << curve;
    }
  }
  EXPECT_EQ(curves, two_campaigns_->state().index.anchors().size());
}

TEST_F(HeldOutErrorsTest, AFirstResultIsReadOffOneOwnCurveAndStepsByAnotherCampaign) {
  const AnchorIndex& index = two_campaigns_->state().index;
  for (size_t i = 0; i < index.anchors().size(); ++i) {
    const Configuration& held_out = index.anchors()[i].curve().configuration;
    const std::optional<FirstResultCase> first =
        FirstResultCaseOf(index, static_cast<int>(i), TrainOptions{}.seed);
    ASSERT_TRUE(first.has_value()) << "curve " << i;
    ASSERT_EQ(first->anchors.size(), static_cast<size_t>(kSiblingsForNewShape));
    // One other curve of the configuration first, then configurations of the other campaign.
    const Curve& own = first->anchors.front().curve->curve();
    EXPECT_EQ(own.configuration, held_out);
    EXPECT_NE(own.shape, index.anchors()[i].curve().shape);
    for (size_t a = 1; a < first->anchors.size(); ++a) {
      EXPECT_NE(first->anchors[a].curve->curve().configuration.campaign, held_out.campaign);
    }
    ASSERT_TRUE(first->transfer.has_value());
    EXPECT_EQ(first->transfer->own, first->anchors.front().curve);
    EXPECT_NE(first->transfer->sibling_from->curve().configuration.campaign, held_out.campaign);
    EXPECT_FALSE(first->transfer->sibling_of_same_campaign);
    // The configuration's other curves are hidden, the one read off and the others' are not.
    EXPECT_EQ(first->unseen_curves.size(), 3u);
    EXPECT_TRUE(std::is_sorted(first->unseen_curves.begin(), first->unseen_curves.end()));
    EXPECT_TRUE(std::binary_search(first->unseen_curves.begin(), first->unseen_curves.end(),
                                   static_cast<int>(i)));
    for (int unseen : first->unseen_curves) {
      EXPECT_EQ(index.anchors()[unseen].curve().configuration, held_out);
      EXPECT_NE(&index.anchors()[unseen], first->anchors.front().curve);
    }
  }
}

TEST_F(HeldOutErrorsTest, FirstResultsAreDrawnAlikeEveryTime) {
  const std::unique_ptr<HeldOut> again = CollectFor(TwoCampaigns());
  ASSERT_NE(again, nullptr);
  std::vector<double> first, second;
  for (const ErrorRecord& record : two_campaigns_->records[1]) {
    if (record.first_result) first.push_back(record.absolute_log_error);
  }
  for (const ErrorRecord& record : again->records[1]) {
    if (record.first_result) second.push_back(record.absolute_log_error);
  }
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, second);
}

TEST_F(HeldOutErrorsTest, AWholeCurveBoundCountsEachPredictionOfACurve) {
  // A calibration curve's two new-shape predictions are two draws of a whole curve, not one.
  std::set<int> calibration_curves;
  for (const ErrorRecord& record : two_campaigns_->records[1]) {
    if (IsCurvesNewShape(record) && !record.first_result) calibration_curves.insert(record.curve);
  }
  ASSERT_FALSE(calibration_curves.empty());
  auto calibrations = CalibrateIntervals(two_campaigns_->state().index, two_campaigns_->records,
                                         KeepingTheCrossFit());
  ASSERT_TRUE(calibrations.ok()) << calibrations.status();
  // Read off three curves of the configuration, then off one (RowKind::kOneCurveShape).
  EXPECT_EQ(calibrations->whole_curves.ScoreCount(RowKind::kOtherShape), calibration_curves.size());
  EXPECT_EQ(calibrations->whole_curves.ScoreCount(RowKind::kOneCurveShape),
            calibration_curves.size());
}

TEST(UnseenHardwareTest, AGpuTheDataLackIsCalibratedApartFromOtherUnseenNames) {
  // The synthetic systems on two more GPUs far from them (3 and 0.3 times the level; four
  // hardware types, enough for hardware folds), and all of them under a second engine at 0.9
  // times: configurations differ in hardware and in engine, a GPU the data lack far more than an
  // engine. One campaign, so that neither a campaign's own scores nor the campaigns' spread enter
  // an interval.
  std::vector<BenchmarkRecord> records;
  for (BenchmarkRecord r : testing::SyntheticRecords()) {
    records.push_back(r);
    const bool a = r.configuration.hardware == "gpu-a";
    r.configuration.hardware = a ? "gpu-c" : "gpu-d";
    r.throughput_tokens_per_s *= a ? 3.0 : 0.3;
    records.push_back(r);
  }
  for (size_t i = 0, n = records.size(); i < n; ++i) {
    BenchmarkRecord r = records[i];
    r.configuration.framework = "sglang";
    r.throughput_tokens_per_s *= 0.9;
    records.push_back(r);
  }
  std::unique_ptr<HeldOut> held_out = CollectFor(records);
  ASSERT_NE(held_out, nullptr);
  // Unseen-name records calibrate only, in the calibration's half, as new configurations.
  for (const ErrorRecord& record : held_out->records[0]) {
    EXPECT_EQ(record.unseen_field, UnseenField::kNone);
  }
  uint32_t hardware = 0, framework = 0;
  for (const ErrorRecord& record : held_out->records[1]) {
    if (record.unseen_field == UnseenField::kNone) continue;
    EXPECT_EQ(record.features.prediction_case, PredictionCase::kNewConfiguration);
    ++(record.unseen_field == UnseenField::kHardware ? hardware : framework);
  }
  EXPECT_GT(hardware, 0u);
  EXPECT_GT(framework, 0u);
  // A GPU's scores calibrate a situation of their own, and stay among every unseen name's.
  const IntervalCalibration& pooled = held_out->state().calibration;
  EXPECT_EQ(pooled.ScoreCount(RowKind::kUnseenHardware), hardware);
  EXPECT_EQ(pooled.ScoreCount(RowKind::kUnseenName), hardware + framework);
  // Here the GPUs err more than the engine: the GPU's own quantile, above the pool's floor.
  ASSERT_GT(pooled.ScoreQuantile(RowKind::kUnseenHardware, 0.9),
            pooled.ScoreQuantile(RowKind::kUnseenName, 0.9));

  // A query on a GPU the data lack reads the GPU's scores, one with an engine they lack every
  // unseen name's; a format-21 bundle of the same model, which has no GPU's own, reads every
  // unseen name's for both, as it did.
  // Today's answers averaged as format 22 and older do, which format 21 shares.
  const std::shared_ptr<const PerfcastModel> as_format_22 = testing::AsFormat22(*held_out->model);
  ASSERT_NE(as_format_22, nullptr);
  const PerfcastModel& model = *as_format_22;
  auto as_format_21 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format21PayloadOf(model), 21));
  ASSERT_TRUE(as_format_21.ok()) << as_format_21.status();
  const Configuration new_gpu{"gpu-z", 2, "vllm", "org/model-7b", "fp16"};
  const Configuration new_engine{"gpu-a", 2, "my-engine", "org/model-7b", "fp16"};
  const int batches[] = {8, 64};
  for (const Configuration& configuration : {new_gpu, new_engine}) {
    const bool gpu = configuration.hardware == "gpu-z";
    auto now = model.Predict({configuration, {256, 256}}, batches, 0.9);
    auto then = (*as_format_21)->Predict({configuration, {256, 256}}, batches, 0.9);
    ASSERT_TRUE(now.ok() && then.ok());
    for (size_t i = 0; i < now->size(); ++i) {
      ASSERT_EQ((*now)[i].prediction_case, PredictionCase::kNewConfiguration);
      EXPECT_EQ((*now)[i].throughput_tokens_per_s, (*then)[i].throughput_tokens_per_s);
      const double expected = std::log1p((*now)[i].expected_relative_error);
      EXPECT_NEAR(std::log((*now)[i].upper_tokens_per_s / (*now)[i].throughput_tokens_per_s),
                  pooled.ScoreQuantile(gpu ? RowKind::kUnseenHardware : RowKind::kUnseenName, 0.9) *
                      expected,
                  1e-9)
          << configuration.hardware << " " << configuration.framework;
      EXPECT_NEAR(std::log((*then)[i].upper_tokens_per_s / (*then)[i].throughput_tokens_per_s),
                  pooled.ScoreQuantile(RowKind::kUnseenName, 0.9) * expected, 1e-9)
          << configuration.hardware << " " << configuration.framework;
    }
  }
}

TEST_F(HeldOutErrorsTest, AFormat21BundleAnswersACampaignsNewGpuWithItsOwnUnseenNames) {
  // Four GPUs (hardware folds) and two campaigns, each with a calibration of its own.
  const PerfcastModel::State& state = two_campaigns_->state();
  ASSERT_GT(state.calibration.ScoreCount(RowKind::kUnseenHardware), 0u);
  const CampaignCalibration* lab_a = state.campaign_calibrations.Of("lab-a");
  ASSERT_NE(lab_a, nullptr);
  const IntervalCalibration* own = lab_a->Find(RowKind::kUnseenName, 0.9);
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(lab_a->Find(RowKind::kUnseenHardware, 0.9), nullptr) << "a GPU's stay pooled";
  auto as_format_21 = DecodeModelBundle(
      testing::SealedAsFormat(testing::Format21PayloadOf(*two_campaigns_->model), 21));
  ASSERT_TRUE(as_format_21.ok()) << as_format_21.status();
  // A new GPU asked as lab-a measures, from anchors of lab-a (no share of the campaigns' spread).
  const Configuration new_gpu{"gpu-z", 2, "vllm", "org/model-7b", "fp16", "lab-a"};
  const int batches[] = {8, 64};
  auto now = two_campaigns_->model->Predict({new_gpu, {256, 256}}, batches, 0.9);
  auto then = (*as_format_21)->Predict({new_gpu, {256, 256}}, batches, 0.9);
  ASSERT_TRUE(now.ok() && then.ok());
  for (size_t i = 0; i < now->size(); ++i) {
    ASSERT_EQ((*now)[i].prediction_case, PredictionCase::kNewConfiguration);
    const double expected = std::log1p((*now)[i].expected_relative_error);
    // Format 22: the GPUs' pooled scores. Format 21: the campaign's own scores of every unseen
    // name, as that format always answered.
    EXPECT_NEAR(std::log((*now)[i].upper_tokens_per_s / (*now)[i].throughput_tokens_per_s),
                state.calibration.ScoreQuantile(RowKind::kUnseenHardware, 0.9) * expected, 1e-9);
    EXPECT_NEAR(std::log((*then)[i].upper_tokens_per_s / (*then)[i].throughput_tokens_per_s),
                own->ScoreQuantile(RowKind::kUnseenName, 0.9) * expected, 1e-9);
  }
}

TEST_F(HeldOutErrorsTest, WithoutHardwareFoldsAGpuReadsEveryUnseenNamesScores) {
  // Two hardware types, too few for hardware folds: the GPU's records come from models that
  // trained on its other configurations, which understate a new GPU's errors, and join the pool.
  EXPECT_FALSE(one_campaign_->state().cross_fit->folds.of_configuration_by_hardware.has_value());
  const IntervalCalibration& pooled = one_campaign_->state().calibration;
  EXPECT_EQ(pooled.ScoreCount(RowKind::kUnseenHardware), 0u);
  EXPECT_GT(pooled.ScoreCount(RowKind::kUnseenName), 0u);
  EXPECT_EQ(pooled.ScoreQuantile(RowKind::kUnseenHardware, 0.9),
            pooled.ScoreQuantile(RowKind::kUnseenName, 0.9));
}

TEST_F(HeldOutErrorsTest, FirstResultsNeverTrainTheErrorPredictor) {
  // Too few records to split: the error predictor takes the calibration's, less those it must not
  // learn from. Nine plain ones are too few to train on, however many first results join them.
  std::array<std::vector<ErrorRecord>, 2> records;
  int plain = 0;
  for (const ErrorRecord& record : two_campaigns_->records[1]) {
    if (record.first_result ||
        (record.unseen_field == UnseenField::kNone && !record.other_campaign && plain++ < 9)) {
      records[1].push_back(record);
    }
  }
  ASSERT_GT(records[1].size(), 20u);
  auto calibrations =
      CalibrateIntervals(two_campaigns_->state().index, records, KeepingTheCrossFit());
  EXPECT_EQ(calibrations.status().code(), absl::StatusCode::kFailedPrecondition)
      << calibrations.status();
}

// Every gpu-a configuration measured 128/128 and 256/256 only; gpu-b x1 256/256 only; the other
// gpu-b configurations all four shapes.
std::vector<BenchmarkRecord> FewShapesOfSomeConfigurations() {
  std::vector<BenchmarkRecord> records;
  for (const BenchmarkRecord& r : testing::SyntheticRecords()) {
    const int tokens = r.shape.input_tokens;
    if (r.configuration.hardware == "gpu-a" && tokens > 256) continue;
    if (r.configuration.hardware == "gpu-b" && r.configuration.num_gpus == 1 && tokens != 256) {
      continue;
    }
    records.push_back(r);
  }
  return records;
}

TEST(OneCurveShapeTest, ANewShapeReadOffOneCurveIsCalibratedAndAnsweredApart) {
  const std::unique_ptr<HeldOut> held_out = CollectFor(FewShapesOfSomeConfigurations());
  ASSERT_NE(held_out, nullptr);
  // A gpu-a curve held out leaves its configuration one curve; a gpu-b x2 or x4 curve, three.
  int one_curve = 0;
  for (const std::vector<ErrorRecord>& half : held_out->records) {
    for (const ErrorRecord& record : half) {
      if (!IsCurvesNewShape(record)) {
        EXPECT_FALSE(record.one_own_curve);
        continue;
      }
      const Configuration& configuration =
          held_out->state().index.anchors()[record.curve].curve().configuration;
      EXPECT_EQ(record.one_own_curve, configuration.hardware == "gpu-a")
          << configuration.ToString();
      one_curve += record.one_own_curve;
    }
  }
  EXPECT_GT(one_curve, 0);
  const PerfcastModel::State& state = held_out->state();
  ASSERT_GT(state.calibration.ScoreCount(RowKind::kOneCurveShape), 0u);
  ASSERT_NE(state.calibration.ScoreQuantile(RowKind::kOneCurveShape, 0.9),
            state.calibration.ScoreQuantile(RowKind::kOtherShape, 0.9));

  // Asked for a shape it lacks, gpu-b x1 is read off its one curve, gpu-b x2 off three.
  const auto half_width_of = [&](const Configuration& configuration, RowKind expected_kind) {
    const int batches[] = {16};
    auto predicted = held_out->model->Predict({configuration, {2048, 2048}}, batches, 0.9);
    ASSERT_TRUE(predicted.ok()) << predicted.status();
    const PointPrediction& p = predicted->front();
    ASSERT_EQ(p.prediction_case, PredictionCase::kExtrapolatedShape);
    EXPECT_NEAR(
        std::log(p.upper_tokens_per_s / p.throughput_tokens_per_s),
        state.calibration.ScoreQuantile(expected_kind, 0.9) * std::log1p(p.expected_relative_error),
        1e-9)
        << configuration.ToString();
  };
  half_width_of({"gpu-b", 1, "vllm", "org/model-7b", "fp16"}, RowKind::kOneCurveShape);
  half_width_of({"gpu-b", 2, "vllm", "org/model-7b", "fp16"}, RowKind::kOtherShape);
}

TEST(OneCurveShapeTest, AFormat14BundleAnswersItAsAnyNewShapeForEachPointAndTheWholeCurve) {
  auto trained = PerfcastModel::Train(FewShapesOfSomeConfigurations(), TrainOptions{});
  ASSERT_TRUE(trained.ok()) << trained.status();
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(**trained);
  const IntervalCalibration& points = state.calibration;
  const IntervalCalibration& curves = state.whole_curve_calibration;
  // Points read off one curve have scores enough for 90%; curves so read, too few, so the
  // whole-curve bound borrows the other new shapes'.
  ASSERT_EQ(points.KindRead(RowKind::kOneCurveShape, 0.9), RowKind::kOneCurveShape);
  ASSERT_GT(curves.ScoreCount(RowKind::kOneCurveShape), 0u);
  ASSERT_EQ(curves.KindRead(RowKind::kOneCurveShape, 0.9), RowKind::kOtherShape);
  EXPECT_EQ(curves.ScoreQuantile(RowKind::kOneCurveShape, 0.9),
            curves.ScoreQuantile(RowKind::kOtherShape, 0.9));
  ASSERT_NE(curves.ScoreQuantile(RowKind::kOtherShape, 0.9),
            points.ScoreQuantile(RowKind::kOtherShape, 0.9));
  auto format14 =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format14PayloadOf(**trained), 14));
  ASSERT_TRUE(format14.ok()) << format14.status();
  ASSERT_EQ(PerfcastModelInternal::StateOf(**format14)
                .whole_curve_calibration.ScoreCount(RowKind::kOneCurveShape),
            0u);

  // gpu-b x1 measured one shape: asked for another, each model reads its own situation's
  // quantiles, in the calibration the scope asks for.
  const PredictionQuery query{{"gpu-b", 1, "vllm", "org/model-7b", "fp16"}, {2048, 2048}};
  const int batches[] = {16};
  const auto half_width = [&](const PerfcastModel& model, IntervalScope scope) {
    auto predicted = model.Predict(query, batches, 0.9, scope);
    EXPECT_TRUE(predicted.ok()) << predicted.status();
    if (!predicted.ok()) return std::pair(0.0, 0.0);
    const PointPrediction& p = predicted->front();
    EXPECT_EQ(p.prediction_case, PredictionCase::kExtrapolatedShape);
    return std::pair(std::log(p.upper_tokens_per_s / p.throughput_tokens_per_s),
                     std::log1p(p.expected_relative_error));
  };
  for (const auto& [model, kind] :
       {std::pair(*trained, RowKind::kOneCurveShape), std::pair(*format14, RowKind::kOtherShape)}) {
    const auto [each, expected] = half_width(*model, IntervalScope::kEachPoint);
    EXPECT_NEAR(each, points.ScoreQuantile(kind, 0.9) * expected, 1e-9);
    const auto [whole, same_expected] = half_width(*model, IntervalScope::kWholeCurve);
    EXPECT_NEAR(whole, curves.ScoreQuantile(kind, 0.9) * same_expected, 1e-9);
  }
}

}  // namespace
}  // namespace perfcast
