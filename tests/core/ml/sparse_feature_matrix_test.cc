#include "core/ml/sparse_feature_matrix.h"

#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

// Three rows of three columns: one partly set, one empty, one partly set.
SparseFeatureMatrix ThreeRows() {
  SparseFeatureMatrix sparse{3};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  sparse.AddRow(std::vector<float>{1, nan, 0});
  sparse.AddRow(std::vector<float>{nan, nan, nan});
  sparse.AddRow(std::vector<float>{nan, -2, 5});
  return sparse;
}

TEST(SparseFeatureMatrixTest, KeepsThePresentValuesWithTheirColumns) {
  const SparseFeatureMatrix sparse = ThreeRows();
  EXPECT_EQ(sparse.row_count(), 3);
  EXPECT_THAT(sparse.row_starts, ::testing::ElementsAre(0, 2, 2, 4));
  EXPECT_THAT(sparse.columns, ::testing::ElementsAre(0, 2, 1, 2));
  EXPECT_THAT(sparse.values, ::testing::ElementsAre(1, 0, -2, 5));
}

TEST(SparseFeatureMatrixTest, RowsAtCopiesTheRowsInTheOrderAsked) {
  const SparseFeatureMatrix sparse = ThreeRows();
  const SparseFeatureMatrix picked = sparse.RowsAt(std::vector<int>{2, 1, 0, 2});
  EXPECT_EQ(picked.column_count, 3);
  EXPECT_EQ(picked.row_count(), 4);
  EXPECT_THAT(picked.row_starts, ::testing::ElementsAre(0, 2, 2, 4, 6));
  EXPECT_THAT(picked.columns, ::testing::ElementsAre(1, 2, 0, 2, 1, 2));
  EXPECT_THAT(picked.values, ::testing::ElementsAre(-2, 5, 1, 0, -2, 5));
  EXPECT_EQ(sparse.RowsAt({}).row_count(), 0);
}

}  // namespace
}  // namespace perfcast
