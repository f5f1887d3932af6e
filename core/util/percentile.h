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

}  // namespace perfcast
