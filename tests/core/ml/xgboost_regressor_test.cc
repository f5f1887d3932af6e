#include "core/ml/xgboost_regressor.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <string>

#include "gtest/gtest.h"
#include "tests/core/ml/random_features.h"

namespace perfcast {
namespace {

// Every 17th value missing.
FeatureMatrix RandomFeatures(int rows, int columns, uint32_t seed) {
  return testing::RandomFeatures(rows, columns, seed, 17);
}

XGBoostParams SmallParams() {
  XGBoostParams params;
  params.tree_count = 60;
  params.max_depth = 4;
  params.learning_rate = 0.2;
  return params;
}

TEST(XGBoostRegressorTest, TreeEnsembleMatchesXGBoostsOwnPrediction) {
  const FeatureMatrix features = RandomFeatures(400, 4, 1);
  auto model =
      XGBoostRegressor::Train(features, testing::SlopeAndStepTargets(features), SmallParams());
  ASSERT_TRUE(model.ok()) << model.status();

  // Reload the raw model into a booster and ask XGBoost itself.
  BoosterHandle booster = nullptr;
  ASSERT_EQ(XGBoosterCreate(nullptr, 0, &booster), 0);
  const std::string& bytes = model->model_bytes();
  ASSERT_EQ(XGBoosterLoadModelFromBuffer(booster, bytes.data() + 8, bytes.size() - 8), 0);
  DMatrixHandle matrix = nullptr;
  ASSERT_EQ(XGDMatrixCreateFromMat(features.values.data(), features.row_count(), 4, std::nanf(""),
                                   &matrix),
            0);
  bst_ulong length = 0;
  const float* expected = nullptr;
  ASSERT_EQ(XGBoosterPredict(booster, matrix, 0, 0, 0, &length, &expected), 0);
  ASSERT_EQ(length, static_cast<bst_ulong>(features.row_count()));
  for (int r = 0; r < features.row_count(); ++r) {
    const float ours = model->Predict(absl::MakeConstSpan(&features.values[r * 4], 4));
    EXPECT_NEAR(ours, expected[r], 1e-4 * (1 + std::abs(expected[r]))) << "row " << r;
  }
  XGDMatrixFree(matrix);
  XGBoosterFree(booster);
}

TEST(XGBoostRegressorTest, LearnsASimpleFunction) {
  const FeatureMatrix features = RandomFeatures(1000, 3, 2);
  const std::vector<float> y = testing::SlopeAndStepTargets(features);
  auto model = XGBoostRegressor::Train(features, y, SmallParams());
  ASSERT_TRUE(model.ok());
  double squared_error = 0;
  for (int r = 0; r < features.row_count(); ++r) {
    const float predicted = model->Predict(absl::MakeConstSpan(&features.values[r * 3], 3));
    squared_error += (predicted - y[r]) * (predicted - y[r]);
  }
  EXPECT_LT(std::sqrt(squared_error / features.row_count()), 0.3);
}

TEST(XGBoostRegressorTest, ModelBytesRoundTrip) {
  const FeatureMatrix features = RandomFeatures(200, 3, 3);
  auto model =
      XGBoostRegressor::Train(features, testing::SlopeAndStepTargets(features), SmallParams());
  ASSERT_TRUE(model.ok());
  auto loaded = XGBoostRegressor::FromModelBytes(model->model_bytes());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->feature_count(), 3);
  for (int r = 0; r < features.row_count(); ++r) {
    const auto row = absl::MakeConstSpan(&features.values[r * 3], 3);
    EXPECT_EQ(model->Predict(row), loaded->Predict(row));
  }
}

TEST(XGBoostRegressorTest, SameSeedSameModel) {
  const FeatureMatrix features = RandomFeatures(300, 3, 4);
  XGBoostParams params = SmallParams();
  params.subsample = 0.7;
  params.seed = 9;
  auto first = XGBoostRegressor::Train(features, testing::SlopeAndStepTargets(features), params);
  auto second = XGBoostRegressor::Train(features, testing::SlopeAndStepTargets(features), params);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->model_bytes(), second->model_bytes());
}

TEST(XGBoostRegressorTest, RejectsMismatchedTargets) {
  const FeatureMatrix features = RandomFeatures(10, 2, 5);
  const std::vector<float> too_few(3, 1.0f);
  EXPECT_EQ(XGBoostRegressor::Train(features, too_few, SmallParams()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(XGBoostRegressorTest, RefusesGarbageModelBytes) {
  EXPECT_FALSE(XGBoostRegressor::FromModelBytes("12345678 not a model").ok());
}

TEST(XGBoostRegressorTest, EncodeDecodeRoundTrip) {
  const FeatureMatrix features = RandomFeatures(200, 3, 6);
  auto model =
      XGBoostRegressor::Train(features, testing::SlopeAndStepTargets(features), SmallParams());
  ASSERT_TRUE(model.ok()) << model.status();
  ByteWriter writer;
  model->EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  auto decoded = XGBoostRegressor::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(decoded->model_bytes(), model->model_bytes());
  EXPECT_EQ(decoded->feature_count(), 3);
}

// Rows that differ in a few columns, as one anchor's rows at many batch sizes do: one column
// rising down the rows, one falling, one up and down, one sometimes missing; the others shared,
// one of them missing in every row. PredictSimilarRows must give PredictRows' sums bit for bit.
TEST(XGBoostRegressorTest, SimilarRowsGetTheSameSumsAsRowsOneByOne) {
  constexpr int kColumns = 6;
  const FeatureMatrix features = RandomFeatures(600, kColumns, 5);
  std::vector<float> targets;
  for (int r = 0; r < features.row_count(); ++r) {
    const float* x = &features.values[r * kColumns];
    float y = 0;
    for (int c = 0; c < kColumns; ++c)
      y += std::isnan(x[c]) ? 0.5f : (c + 1) * x[c] * (c % 2 ? 1 : -1);
    targets.push_back(y + (x[0] > 0 && x[2] < 0.5f ? 3.0f : 0.0f));
  }
  XGBoostParams params = SmallParams();
  params.max_depth = 6;
  auto model = XGBoostRegressor::Train(features, targets, params);
  ASSERT_TRUE(model.ok()) << model.status();
  const TreeEnsemble& ensemble = model->ensemble();
  for (int row_count : {1, 2, 7, 32, 45, 64, 70, 129}) {
    std::vector<float> rows;
    for (int r = 0; r < row_count; ++r) {
      const float t = row_count == 1 ? 0 : static_cast<float>(r) / (row_count - 1);
      rows.push_back(-2 + 4 * t);                             // rising
      rows.push_back(2 - 4 * t * t);                          // falling
      rows.push_back(1.9f * std::sin(9 * t));                 // up and down
      rows.push_back(r % 5 == 2 ? std::nanf("") : 0.3f - t);  // sometimes missing
      rows.push_back(0.25f);                                  // shared
      rows.push_back(std::nanf(""));                          // shared, missing
    }
    std::vector<float> one_by_one(row_count), together(row_count);
    ensemble.PredictRows(rows, kColumns, absl::MakeSpan(one_by_one));
    ensemble.PredictSimilarRows(rows, kColumns, absl::MakeSpan(together));
    for (int r = 0; r < row_count; ++r) {
      EXPECT_EQ(together[r], one_by_one[r]) << row_count << " rows, row " << r;
    }
  }
}

}  // namespace
}  // namespace perfcast
