#include "core/util/percentile.h"

#include <vector>

#include "gtest/gtest.h"

namespace perfcast {
namespace {

TEST(WeightedPercentileTest, EqualWeightsGiveThePlainPercentile) {
  const std::vector<double> sorted = {0.1, 0.4, 0.5, 2.0, 7.5};
  const std::vector<double> ones(sorted.size(), 1.0), threes(sorted.size(), 3.0);
  for (double q = 0; q <= 1.0; q += 0.05) {
    EXPECT_NEAR(WeightedPercentileOfSorted(sorted, ones, q), PercentileOfSorted(sorted, q), 1e-12)
        << q;
    EXPECT_NEAR(WeightedPercentileOfSorted(sorted, threes, q), PercentileOfSorted(sorted, q),
                1e-12)
        << q;
  }
}

TEST(WeightedPercentileTest, AHeavyValuePullsTheQuantilesTowardsIt) {
  const std::vector<double> sorted = {1, 2, 3, 4};
  // The last value weighs as much as the other three together: the median moves up from 2.5.
  const std::vector<double> weights = {1, 1, 1, 3};
  EXPECT_DOUBLE_EQ(PercentileOfSorted(sorted, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(WeightedPercentileOfSorted(sorted, weights, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(WeightedPercentileOfSorted(sorted, weights, 0.75), 3.5);
  EXPECT_DOUBLE_EQ(WeightedPercentileOfSorted(sorted, weights, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(WeightedPercentileOfSorted(sorted, weights, 1.0), 4.0);
  // Monotone in q.
  double previous = 0;
  for (double q = 0; q <= 1.0; q += 0.01) {
    const double value = WeightedPercentileOfSorted(sorted, weights, q);
    EXPECT_GE(value, previous);
    previous = value;
  }
  EXPECT_DOUBLE_EQ(WeightedPercentileOfSorted(std::vector<double>{5.0}, std::vector<double>{2.0},
                                              0.3),
                   5.0);
}

}  // namespace
}  // namespace perfcast
