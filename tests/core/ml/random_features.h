#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/types/span.h"
#include "core/ml/feature_matrix.h"
#include "core/ml/sparse_feature_matrix.h"
#include "core/ml/xgboost_regressor.h"

namespace perfcast::testing {

// Uniform features in [-2, 2), every `missing_every`-th value missing (NaN), which must take
// XGBoost's default branch and which XGBoost's copy of the matrix leaves out.
inline FeatureMatrix RandomFeatures(int rows, int columns, uint32_t seed, int missing_every) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-2, 2);
  FeatureMatrix features{columns, {}};
  for (int i = 0; i < rows * columns; ++i) features.values.push_back(uniform(random));
  for (int i = 0; i < rows * columns; i += missing_every) features.values[i] = std::nanf("");
  return features;
}

// A slope and a step that shallow trees learn: 3 x0 + (x1 > 0 ? 2 : -1), and 1 where x0 is
// missing. Needs at least two columns.
inline std::vector<float> SlopeAndStepTargets(const FeatureMatrix& features) {
  std::vector<float> y;
  for (int r = 0; r < features.row_count(); ++r) {
    const float* x = &features.values[r * features.column_count];
    y.push_back(std::isnan(x[0]) ? 1.0f : 3 * x[0] + (x[1] > 0 ? 2.0f : -1.0f));
  }
  return y;
}

// Small, quick models that sample rows and columns: sampling draws by row position, so rows
// picked from a matrix train the model of a copy only if they keep their order.
inline XGBoostParams SampledParams() {
  XGBoostParams params;
  params.tree_count = 40;
  params.max_depth = 4;
  params.learning_rate = 0.2;
  params.subsample = 0.8;
  params.colsample_bytree = 0.8;
  params.threads = 1;
  params.seed = 3;
  return params;
}

// The same rows without their missing values, as training keeps them.
inline SparseFeatureMatrix SparseCopy(const FeatureMatrix& features) {
  SparseFeatureMatrix sparse{features.column_count};
  const auto columns = static_cast<size_t>(features.column_count);
  for (int r = 0; r < features.row_count(); ++r) {
    sparse.AddRow(absl::MakeConstSpan(features.values).subspan(r * columns, columns));
  }
  return sparse;
}

}  // namespace perfcast::testing
