#include "core/ml/xgboost_training_set.h"

#include "core/ml/xgboost_regressor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/ml/random_features.h"

namespace perfcast {
namespace {

// Every 7th value missing: a subset must still line them up with their columns.
FeatureMatrix RandomFeatures(int rows, int columns, uint32_t seed) {
  return testing::RandomFeatures(rows, columns, seed, 7);
}

XGBoostParams SampledParams() {
  XGBoostParams params;
  params.tree_count = 40;
  params.max_depth = 4;
  params.learning_rate = 0.2;
  // Sampling draws by row position, so a subset matches a copy only if its rows keep their order.
  params.subsample = 0.8;
  params.colsample_bytree = 0.8;
  params.seed = 3;
  return params;
}

TEST(XGBoostTrainingSetTest, SubsetTrainsTheModelOfACopyOfThoseRows) {
  const FeatureMatrix features = RandomFeatures(300, 4, 1);
  const std::vector<float> targets = testing::SlopeAndStepTargets(features);
  std::vector<int> kept;
  FeatureMatrix copy{features.column_count, {}};
  std::vector<float> copy_targets;
  for (int row = 0; row < features.row_count(); ++row) {
    if (row % 3 == 1) continue;
    kept.push_back(row);
    copy.AddRow(absl::MakeConstSpan(features.values).subspan(row * 4, 4));
    copy_targets.push_back(targets[row]);
  }
  absl::StatusOr<XGBoostTrainingSet> all = XGBoostTrainingSet::Create(features, targets);
  ASSERT_TRUE(all.ok()) << all.status();
  absl::StatusOr<XGBoostTrainingSet> subset = all->Subset(kept);
  ASSERT_TRUE(subset.ok()) << subset.status();
  EXPECT_EQ(subset->row_count(), static_cast<int>(kept.size()));
  EXPECT_EQ(subset->column_count(), 4);

  auto from_subset = XGBoostRegressor::Train(*subset, SampledParams());
  auto from_copy = XGBoostRegressor::Train(copy, copy_targets, SampledParams());
  ASSERT_TRUE(from_subset.ok() && from_copy.ok());
  EXPECT_EQ(from_subset->model_bytes(), from_copy->model_bytes());
  // And not the model of every row: the subset really left rows out.
  auto from_all = XGBoostRegressor::Train(*all, SampledParams());
  ASSERT_TRUE(from_all.ok());
  EXPECT_NE(from_subset->model_bytes(), from_all->model_bytes());
}

TEST(XGBoostTrainingSetTest, MeanTargetIsTheSubsetsOwn) {
  const FeatureMatrix features = RandomFeatures(4, 3, 2);
  absl::StatusOr<XGBoostTrainingSet> all =
      XGBoostTrainingSet::Create(features, std::vector<float>{1, 2, 3, 10});
  ASSERT_TRUE(all.ok());
  EXPECT_FLOAT_EQ(all->mean_target(), 4);
  absl::StatusOr<XGBoostTrainingSet> subset = all->Subset(std::vector<int>{3, 0});
  ASSERT_TRUE(subset.ok());
  EXPECT_FLOAT_EQ(subset->mean_target(), 5.5);
}

TEST(XGBoostTrainingSetTest, EnsembleAloneMatchesTheFullModel) {
  const FeatureMatrix features = RandomFeatures(200, 4, 3);
  absl::StatusOr<XGBoostTrainingSet> set =
      XGBoostTrainingSet::Create(features, testing::SlopeAndStepTargets(features));
  ASSERT_TRUE(set.ok());
  auto model = XGBoostRegressor::Train(*set, SampledParams());
  auto ensemble = XGBoostRegressor::TrainEnsemble(*set, SampledParams());
  ASSERT_TRUE(model.ok() && ensemble.ok());
  ASSERT_EQ(ensemble->tree_count(), 40);
  for (int r = 0; r < features.row_count(); ++r) {
    const auto row = absl::MakeConstSpan(features.values).subspan(r * 4, 4);
    EXPECT_EQ(ensemble->Predict(row), model->Predict(row)) << "row " << r;
  }
}

TEST(XGBoostTrainingSetTest, RefusesRowsOutsideTheSet) {
  const FeatureMatrix features = RandomFeatures(5, 2, 4);
  absl::StatusOr<XGBoostTrainingSet> set =
      XGBoostTrainingSet::Create(features, std::vector<float>(5, 1.0f));
  ASSERT_TRUE(set.ok());
  absl::StatusOr<XGBoostTrainingSet> past_end = set->Subset(std::vector<int>{0, 5});
  EXPECT_EQ(past_end.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(past_end.status().message(), ::testing::HasSubstr("rows[1]=5"));
  EXPECT_EQ(set->Subset(std::vector<int>{-1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(set->Subset({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(XGBoostTrainingSetTest, RefusesTargetsThatDoNotMatchTheRows) {
  const FeatureMatrix features = RandomFeatures(6, 2, 5);
  EXPECT_EQ(XGBoostTrainingSet::Create(features, std::vector<float>(4, 1.0f)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(XGBoostTrainingSet::Create(FeatureMatrix{2, {}}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace perfcast
