#include "core/util/percentile.h"

#include <vector>

#include "gtest/gtest.h"

namespace perfcast {
namespace {

TEST(WeightedQuantileTest, EqualWeightsGiveTheEmpiricalQuantile) {
  const std::vector<double> sorted = {0.1, 0.4, 0.5, 2.0, 7.5};
  const std::vector<double> threes(sorted.size(), 3.0);
  // The smallest value with at least q of the values at or below it.
  EXPECT_DOUBLE_EQ(WeightedQuantileOfSorted(sorted, threes, 0.0), 0.1);
  EXPECT_DOUBLE_EQ(WeightedQuantileOfSorted(sorted, threes, 0.2), 0.1);
  EXPECT_DOUBLE_EQ(WeightedQuantileOfSorted(sorted, threes, 0.21), 0.4);
  EXPECT_DOUBLE_EQ(WeightedQuantileOfSorted(sorted, threes, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(WeightedQuantileOfSorted(sorted, threes, 0.81), 7.5);
  EXPECT_DOUBLE_EQ(WeightedQuantileOfSorted(sorted, threes, 1.0), 7.5);
}

TEST(WeightedQuantileTest, ASingleHeavyValueIsReachedOnceQPassesTheWeightBelowIt) {
  // A group of 1000 small values and a group of one large value, each weighing one half: the
  // 0.9 quantile is the large value, as drawing a group and then one of its values gives.
  std::vector<double> sorted, weights;
  for (int i = 0; i < 1000; ++i) {
    sorted.push_back(0.1 * (i + 1) / 1000.0);
    weights.push_back(0.5 / 1000);
  }
  sorted.push_back(2.0);
  weights.push_back(0.5);
  EXPECT_DOUBLE_EQ(WeightedQuantileOfSorted(sorted, weights, 0.9), 2.0);
  EXPECT_DOUBLE_EQ(WeightedQuantileOfSorted(sorted, weights, 0.51), 2.0);
  EXPECT_LE(WeightedQuantileOfSorted(sorted, weights, 0.49), 0.1);
  // Monotone in q, from the smallest value to the largest.
  double previous = 0;
  for (int k = 0; k <= 100; ++k) {
    const double value = WeightedQuantileOfSorted(sorted, weights, k / 100.0);
    EXPECT_GE(value, previous) << k;
    previous = value;
  }
  EXPECT_DOUBLE_EQ(previous, 2.0);
  EXPECT_DOUBLE_EQ(
      WeightedQuantileOfSorted(std::vector<double>{5.0}, std::vector<double>{2.0}, 0.3), 5.0);
}

}  // namespace
}  // namespace perfcast
