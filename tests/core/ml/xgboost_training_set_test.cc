#include "core/ml/xgboost_training_set.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/ml/xgboost_regressor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/ml/random_features.h"

namespace perfcast {
namespace {

// Every 7th value missing: rows picked or made sparse must still line them up with their columns.
FeatureMatrix RandomFeatures(int rows, int columns, uint32_t seed) {
  return testing::RandomFeatures(rows, columns, seed, 7);
}

using testing::SparseCopy;

using testing::SampledParams;

TEST(XGBoostTrainingSetTest, MeanTargetIsTheTargetsMean) {
  const FeatureMatrix features = RandomFeatures(4, 3, 2);
  absl::StatusOr<XGBoostTrainingSet> all =
      XGBoostTrainingSet::Create(features, std::vector<float>{1, 2, 3, 10});
  ASSERT_TRUE(all.ok());
  EXPECT_FLOAT_EQ(all->mean_target(), 4);
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

// The cross-fit's fold models train on rows picked this way: they must be the models of a copy
// of those rows.
TEST(XGBoostTrainingSetTest, RowsAtTrainTheModelOfADenseCopyOfThoseRows) {
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
  absl::StatusOr<XGBoostTrainingSet> picked =
      XGBoostTrainingSet::Create(SparseCopy(features).RowsAt(kept), copy_targets);
  absl::StatusOr<XGBoostTrainingSet> dense = XGBoostTrainingSet::Create(copy, copy_targets);
  ASSERT_TRUE(picked.ok() && dense.ok());
  EXPECT_EQ(picked->row_count(), static_cast<int>(kept.size()));
  auto from_picked = XGBoostRegressor::Train(*picked, SampledParams());
  auto from_copy = XGBoostRegressor::Train(*dense, SampledParams());
  ASSERT_TRUE(from_picked.ok() && from_copy.ok());
  EXPECT_EQ(from_picked->model_bytes(), from_copy->model_bytes());
  // And not the model of every row: the rows picked really left some out.
  auto from_all = XGBoostRegressor::Train(features, targets, SampledParams());
  ASSERT_TRUE(from_all.ok());
  EXPECT_NE(from_picked->model_bytes(), from_all->model_bytes());
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
}

// A last column that no row sets is still a column: the model must read rows as wide as they are
// (XGBoost stores the column count in the model).
TEST(XGBoostTrainingSetTest, SparseRowsKeepTrailingColumnsThatNoRowSets) {
  FeatureMatrix features = RandomFeatures(50, 4, 7);
  for (int r = 0; r < features.row_count(); ++r) {
    features.values[static_cast<size_t>(r * 4 + 3)] = std::numeric_limits<float>::quiet_NaN();
  }
  const std::vector<float> targets = testing::SlopeAndStepTargets(features);
  absl::StatusOr<XGBoostTrainingSet> sparse =
      XGBoostTrainingSet::Create(SparseCopy(features), targets);
  ASSERT_TRUE(sparse.ok()) << sparse.status();
  auto from_sparse = XGBoostRegressor::Train(*sparse, SampledParams());
  auto from_dense = XGBoostRegressor::Train(features, targets, SampledParams());
  ASSERT_TRUE(from_sparse.ok() && from_dense.ok()) << from_sparse.status();
  EXPECT_EQ(from_sparse->model_bytes(), from_dense->model_bytes());
}

// As wide and as empty as the training rows: most columns unset, and the targets read columns
// past 127, whose one-byte indices must not be taken for negative ones.
TEST(XGBoostTrainingSetTest, SparseRowsOfTwoHundredMostlyEmptyColumns) {
  constexpr int kColumns = 200;
  FeatureMatrix features{kColumns, {}};
  std::vector<float> targets;
  std::mt19937 random(8);
  std::uniform_real_distribution<float> uniform(-2, 2);
  for (int r = 0; r < 600; ++r) {
    std::vector<float> row(kColumns, std::numeric_limits<float>::quiet_NaN());
    for (int c = r % 4; c < kColumns; c += 4) row[c] = uniform(random);
    features.AddRow(row);
    // Row r sets the columns c = r mod 4 (mod 4): one of 128, 129, 150 and 199 each.
    const int high_columns[] = {128, 129, 150, 199};
    targets.push_back(3 * row[high_columns[r % 4]] + (r % 4 == 3 ? row[131] : 0.5f));
  }
  absl::StatusOr<XGBoostTrainingSet> sparse =
      XGBoostTrainingSet::Create(SparseCopy(features), targets);
  ASSERT_TRUE(sparse.ok()) << sparse.status();
  auto from_sparse = XGBoostRegressor::Train(*sparse, SampledParams());
  auto from_dense = XGBoostRegressor::Train(features, targets, SampledParams());
  ASSERT_TRUE(from_sparse.ok() && from_dense.ok());
  EXPECT_EQ(from_sparse->model_bytes(), from_dense->model_bytes());
  // The trees did learn from the high columns: a row's prediction follows its column 150.
  std::vector<float> low(kColumns, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> high = low;
  low[150] = -1.5f;
  high[150] = 1.5f;
  EXPECT_GT(from_sparse->Predict(high) - from_sparse->Predict(low), 1.0f);
}

TEST(XGBoostTrainingSetTest, RefusesSparseRowsItCannotHandOver) {
  SparseFeatureMatrix too_wide{SparseFeatureMatrix::kMaxColumns + 1};
  too_wide.AddRow(std::vector<float>(SparseFeatureMatrix::kMaxColumns + 1, 1.0f));
  absl::StatusOr<XGBoostTrainingSet> set = XGBoostTrainingSet::Create(too_wide, {1.0f});
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(set.status().message(), ::testing::HasSubstr("257 columns (at most 256)"));
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
