#include "core/model/cross_fit_folds.h"

#include <algorithm>
#include <vector>

#include "core/data/curve.h"
#include "core/fit/anchor_curve.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

AnchorIndex SyntheticIndex() {
  std::vector<AnchorCurve> anchors;
  for (Curve& curve : GroupIntoCurves(testing::SyntheticRecords())) {
    anchors.emplace_back(std::move(curve));
  }
  return AnchorIndex(std::move(anchors));
}

// Fold sizes differ by at most one: each fold's model trains on about the same share of rows.
void ExpectBalanced(const std::vector<int>& folds) {
  std::vector<int> sizes(kCrossFitFolds, 0);
  for (int fold : folds) {
    ASSERT_GE(fold, 0);
    ASSERT_LT(fold, kCrossFitFolds);
    ++sizes[fold];
  }
  EXPECT_LE(
      *std::max_element(sizes.begin(), sizes.end()) - *std::min_element(sizes.begin(), sizes.end()),
      1);
}

TEST(CrossFitFoldsTest, EveryCurveAndConfigurationHasABalancedFold) {
  const AnchorIndex index = SyntheticIndex();
  const CrossFitFolds folds = AssignFolds(index, 42);
  ASSERT_EQ(folds.of_curve.size(), index.anchors().size());
  ASSERT_EQ(folds.of_configuration.size(), index.configurations().size());
  ExpectBalanced(folds.of_curve);
  ExpectBalanced(folds.of_configuration);
}

TEST(CrossFitFoldsTest, TheSeedDecides) {
  const AnchorIndex index = SyntheticIndex();
  const CrossFitFolds first = AssignFolds(index, 42);
  const CrossFitFolds again = AssignFolds(index, 42);
  const CrossFitFolds other = AssignFolds(index, 7);
  EXPECT_EQ(first.of_curve, again.of_curve);
  EXPECT_EQ(first.of_configuration, again.of_configuration);
  EXPECT_NE(first.of_curve, other.of_curve);
}

}  // namespace
}  // namespace perfcast
