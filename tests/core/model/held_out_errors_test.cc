// The held-out errors that train the error predictor and calibrate the intervals
// (docs/METHOD.md §3 and §5).
#include "core/model/held_out_errors.h"

#include <array>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "core/model/split_conformal.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

TEST(HeldOutErrorsTest, CalibrationCurvesAreAlsoNewShapesOfAConfigurationWithOneOtherCurve) {
  // Every configuration measured four shapes at six batch sizes. Each curve held out as a new
  // shape is predicted from its configuration's three other curves; in the calibration's half,
  // also as a campaign's first results would have it, with one other curve measured and the rest
  // unseen (by the neighbourhood too). The error predictor's half keeps the cases it learns from.
  TrainOptions options;
  options.keep_cross_fit = true;
  auto trained = PerfcastModel::Train(testing::SyntheticRecords(), options);
  ASSERT_TRUE(trained.ok()) << trained.status();
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(**trained);
  ASSERT_TRUE(state.cross_fit.has_value());
  std::vector<CampaignResidual> residuals;
  const std::array<std::vector<ErrorRecord>, 2> records =
      CollectHeldOutErrors(state.index, WorkloadSimilarity::ScalesOf(state.index.anchors()),
                           *state.cross_fit->models, state.cross_fit->folds, options, residuals);
  size_t curves = 0;
  for (int half = 0; half < 2; ++half) {
    // Per held-out curve, how many of its new-shape records saw each number of its
    // configuration's other curves.
    std::map<int, std::map<int, int>> seen_curves_of_curve;
    for (const ErrorRecord& record : records[half]) {
      if (record.features.prediction_case != PredictionCase::kExtrapolatedShape ||
          record.curve < 0) {
        continue;  // other cases, and the annealing's records, which name no curve
      }
      ++seen_curves_of_curve[record.curve][record.features.neighbourhood.configuration_curve_count];
    }
    ASSERT_FALSE(seen_curves_of_curve.empty()) << "half " << half;
    curves += seen_curves_of_curve.size();
    const std::map<int, int> expected =
        half == 1 ? std::map<int, int>{{1, 6}, {3, 6}} : std::map<int, int>{{3, 6}};
    for (const auto& [curve, by_count] : seen_curves_of_curve) {
      EXPECT_EQ(by_count, expected) << "half " << half << ", curve " << curve;
    }
  }
  EXPECT_EQ(curves, state.index.anchors().size());

  // The whole-curve bound counts each prediction of a whole curve once: a curve's two new-shape
  // predictions are two draws, not one.
  std::set<std::pair<int, bool>> whole_curve_predictions;
  for (const ErrorRecord& record : records[1]) {
    if (record.features.prediction_case == PredictionCase::kExtrapolatedShape &&
        record.curve >= 0 && !record.name_unseen && !record.other_campaign) {
      whole_curve_predictions.insert({record.curve, record.one_other_curve});
    }
  }
  auto calibrations = CalibrateIntervals(state.index, records, options);
  ASSERT_TRUE(calibrations.ok()) << calibrations.status();
  EXPECT_EQ(calibrations->whole_curves.ScoreCount(RowKind::kOtherShape),
            whole_curve_predictions.size());
}

}  // namespace
}  // namespace perfcast
