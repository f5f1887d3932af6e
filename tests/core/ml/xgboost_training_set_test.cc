#include "core/ml/xgboost_training_set.h"

#include <limits>
#include <vector>

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

SparseFeatureMatrix SparseCopy(const FeatureMatrix& features) {
  SparseFeatureMatrix sparse{features.column_count};
  for (int r = 0; r < features.row_count(); ++r) {
    sparse.AddRow(absl::MakeConstSpan(features.values)
                      .subspan(static_cast<size_t>(r * features.column_count),
                               static_cast<size_t>(features.column_count)));
  }
  return sparse;
}

TEST(SparseFeatureMatrixTest, KeepsThePresentValuesWithTheirColumns) {
  SparseFeatureMatrix sparse{3};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  sparse.AddRow(std::vector<float>{1, nan, 0});
  sparse.AddRow(std::vector<float>{nan, nan, nan});
  sparse.AddRow(std::vector<float>{nan, -2, 5});
  EXPECT_EQ(sparse.row_count(), 3);
  EXPECT_THAT(sparse.row_starts, ::testing::ElementsAre(0, 2, 2, 4));
  EXPECT_THAT(sparse.columns, ::testing::ElementsAre(0, 2, 1, 2));
  EXPECT_THAT(sparse.values, ::testing::ElementsAre(1, 0, -2, 5));
}

// The training rows of a model reach XGBoost in this form: any difference from the dense matrix
// (a value in the wrong column, a missing value read as 0) changes the trees.
TEST(XGBoostTrainingSetTest, SparseRowsTrainTheModelOfTheDenseMatrix) {
  const FeatureMatrix features = RandomFeatures(400, 6, 6);
  const std::vector<float> targets = testing::SlopeAndStepTargets(features);
  absl::StatusOr<XGBoostTrainingSet> dense = XGBoostTrainingSet::Create(features, targets);
  absl::StatusOr<XGBoostTrainingSet> sparse =
      XGBoostTrainingSet::Create(SparseCopy(features), targets);
  ASSERT_TRUE(dense.ok() && sparse.ok()) << dense.status() << sparse.status();
  EXPECT_EQ(sparse->row_count(), 400);
  EXPECT_EQ(sparse->column_count(), 6);
  EXPECT_FLOAT_EQ(sparse->mean_target(), dense->mean_target());
  auto from_dense = XGBoostRegressor::Train(*dense, SampledParams());
  auto from_sparse = XGBoostRegressor::Train(*sparse, SampledParams());
  ASSERT_TRUE(from_dense.ok() && from_sparse.ok());
  EXPECT_EQ(from_sparse->model_bytes(), from_dense->model_bytes());
  // Subsets too: the cross-fit cuts its folds from this set.
  const std::vector<int> kept = {0, 3, 4, 10, 11, 50, 51, 52, 99, 100, 200, 201, 300, 399};
  auto dense_subset = dense->Subset(kept);
  auto sparse_subset = sparse->Subset(kept);
  ASSERT_TRUE(dense_subset.ok() && sparse_subset.ok());
  auto subset_dense = XGBoostRegressor::Train(*dense_subset, SampledParams());
  auto subset_sparse = XGBoostRegressor::Train(*sparse_subset, SampledParams());
  ASSERT_TRUE(subset_dense.ok() && subset_sparse.ok());
  EXPECT_EQ(subset_sparse->model_bytes(), subset_dense->model_bytes());
}

// A last column that no row sets is still a column: the model must read rows as wide as they are.
TEST(XGBoostTrainingSetTest, SparseRowsKeepTrailingColumnsThatNoRowSets) {
  FeatureMatrix features = RandomFeatures(50, 4, 7);
  for (int r = 0; r < features.row_count(); ++r) {
    features.values[static_cast<size_t>(r * 4 + 3)] = std::numeric_limits<float>::quiet_NaN();
  }
  absl::StatusOr<XGBoostTrainingSet> sparse =
      XGBoostTrainingSet::Create(SparseCopy(features), testing::SlopeAndStepTargets(features));
  ASSERT_TRUE(sparse.ok()) << sparse.status();
  EXPECT_EQ(sparse->column_count(), 4);
  auto model = XGBoostRegressor::Train(*sparse, SampledParams());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->feature_count(), 4);
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
  EXPECT_EQ(
      XGBoostTrainingSet::Create(SparseCopy(features), std::vector<float>(4, 1.0f)).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(XGBoostTrainingSet::Create(SparseFeatureMatrix{2}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace perfcast
