#include "core/model/fold_models.h"

#include <vector>

#include "core/ml/xgboost_regressor.h"
#include "core/ml/xgboost_training_set.h"
#include "core/model/cross_fit_folds.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/ml/random_features.h"

namespace perfcast {
namespace {

using testing::SampledParams;

// Each fold model is the model of a copy of the rows outside its fold, whichever worker trained
// it: a row matched to another row's target, or a fold's rows left in, would change its trees.
TEST(TrainModelPerFoldTest, EachModelIsTheModelOfTheRowsOutsideItsFold) {
  const FeatureMatrix features = testing::RandomFeatures(240, 5, 11, 9);
  const std::vector<float> targets = testing::SlopeAndStepTargets(features);
  std::vector<int> by_row, by_block;
  for (int r = 0; r < features.row_count(); ++r) {
    by_row.push_back(r % kCrossFitFolds);
    by_block.push_back((r / 60) % kCrossFitFolds);
  }
  const std::vector<const std::vector<int>*> fold_sets = {&by_row, &by_block};
  absl::StatusOr<std::vector<std::vector<TreeEnsemble>>> models = TrainModelPerFold(
      testing::SparseCopy(features), targets, fold_sets, SampledParams(), /*workers=*/2);
  ASSERT_TRUE(models.ok()) << models.status();
  ASSERT_EQ(models->size(), 2u);
  for (size_t set = 0; set < fold_sets.size(); ++set) {
    ASSERT_EQ((*models)[set].size(), static_cast<size_t>(kCrossFitFolds));
    for (int fold = 0; fold < kCrossFitFolds; ++fold) {
      FeatureMatrix kept{features.column_count, {}};
      std::vector<float> kept_targets;
      for (int r = 0; r < features.row_count(); ++r) {
        if ((*fold_sets[set])[r] == fold) continue;
        kept.AddRow(absl::MakeConstSpan(features.values).subspan(r * 5, 5));
        kept_targets.push_back(targets[r]);
      }
      absl::StatusOr<XGBoostTrainingSet> copy = XGBoostTrainingSet::Create(kept, kept_targets);
      ASSERT_TRUE(copy.ok());
      absl::StatusOr<TreeEnsemble> expected =
          XGBoostRegressor::TrainEnsemble(*copy, SampledParams());
      ASSERT_TRUE(expected.ok());
      for (int r = 0; r < features.row_count(); ++r) {
        const auto row = absl::MakeConstSpan(features.values).subspan(r * 5, 5);
        ASSERT_EQ((*models)[set][fold].Predict(row), expected->Predict(row))
            << "set " << set << " fold " << fold << " row " << r;
      }
    }
  }
}

TEST(TrainModelPerFoldTest, RefusesFoldsThatDoNotMatchTheRows) {
  const FeatureMatrix features = testing::RandomFeatures(20, 3, 12, 5);
  const std::vector<float> targets = testing::SlopeAndStepTargets(features);
  const std::vector<int> short_folds(19, 0);
  const std::vector<const std::vector<int>*> fold_sets = {&short_folds};
  absl::StatusOr<std::vector<std::vector<TreeEnsemble>>> models =
      TrainModelPerFold(testing::SparseCopy(features), targets, fold_sets, SampledParams(), 1);
  EXPECT_EQ(models.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(models.status().message(), ::testing::HasSubstr("19 row folds"));
}

TEST(TrainModelPerFoldTest, AFoldThatKeepsNoRowsFailsTheWhole) {
  const FeatureMatrix features = testing::RandomFeatures(20, 3, 13, 5);
  const std::vector<float> targets = testing::SlopeAndStepTargets(features);
  const std::vector<int> one_fold(20, 0);  // fold 0's model would keep no row
  const std::vector<const std::vector<int>*> fold_sets = {&one_fold};
  absl::StatusOr<std::vector<std::vector<TreeEnsemble>>> models =
      TrainModelPerFold(testing::SparseCopy(features), targets, fold_sets, SampledParams(), 1);
  EXPECT_EQ(models.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace perfcast
