#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

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

// Percentile `q` in [0, 1] of `sorted` (ascending, not empty) whose values carry `weights`
// (positive, one per value): each value sits at the middle of its share of the total weight, the
// shares rescaled so that the first sits at 0 and the last at 1, with linear interpolation
// between. With equal weights it is PercentileOfSorted.
inline double WeightedPercentileOfSorted(absl::Span<const double> sorted,
                                         absl::Span<const double> weights, double q) {
  const std::size_t n = sorted.size();
  if (n == 1) return sorted.front();
  double total = 0;
  for (double w : weights) total += w;
  const double start = weights.front() / 2;
  const double span = total - start - weights.back() / 2;
  if (!(span > 0)) return PercentileOfSorted(sorted, q);
  double below = 0;  // weight of the values before i
  double previous_position = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double position = (below + weights[i] / 2 - start) / span;
    if (position >= q) {
      if (i == 0 || position <= previous_position) return sorted[i];
      const double t = (q - previous_position) / (position - previous_position);
      return sorted[i - 1] + t * (sorted[i] - sorted[i - 1]);
    }
    previous_position = position;
    below += weights[i];
  }
  return sorted.back();
}

}  // namespace perfcast
