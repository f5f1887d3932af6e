#pragma once

#include <cstdint>
#include <vector>

#include "core/model/anchor_index.h"

namespace perfcast {

// Folds of the cross-fit that yields held-out errors for the error predictor and the intervals.
inline constexpr int kCrossFitFolds = 4;

// Which cross-fit fold each curve (by anchor index) and each configuration (by rank) belongs to.
struct CrossFitFolds {
  std::vector<int> of_curve;
  std::vector<int> of_configuration;
};

// Seeded and balanced: the same seed gives the same folds on every standard library.
CrossFitFolds AssignFolds(const AnchorIndex& index, uint64_t seed);

}  // namespace perfcast
