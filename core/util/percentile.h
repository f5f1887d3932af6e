#pragma once

#include <cmath>
#include <cstddef>

#include "absl/types/span.h"

namespace perfcast {

// Percentile `q` in [0, 1] of `sorted` (ascending, not empty) by linear interpolation between
// closest ranks, as numpy.percentile does by default.
inline double PercentileOfSorted(absl::Span<const double> sorted, double q) {
  const double rank = q * static_cast<double>(sorted.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(rank));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (rank - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

// Quantile `q` in [0, 1] of the distribution that puts weight `weights[i]` (positive) on
// `sorted[i]` (ascending, not empty): the smallest value whose cumulative weight reaches q of
// the total (the inverse of the weighted step CDF, as weighted conformal prediction reads it).
// A heavy value at the top is reached as soon as q passes the weight below it.
inline double WeightedQuantileOfSorted(absl::Span<const double> sorted,
                                       absl::Span<const double> weights, double q) {
  double total = 0;
  for (double w : weights) total += w;
  const double target = q * total;
  double cumulative = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    cumulative += weights[i];
    if (cumulative >= target) return sorted[i];
  }
  return sorted.back();
}

}  // namespace perfcast
