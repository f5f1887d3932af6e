#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/catalogue/catalogue.h"
#include "core/model/anchor_index.h"

namespace perfcast {

// Folds of the cross-fit that yields held-out errors for the error predictor and the intervals.
inline constexpr int kCrossFitFolds = 4;

// Which cross-fit fold each curve (by anchor index) and each configuration (by rank) belongs to.
struct CrossFitFolds {
  std::vector<int> of_curve;
  std::vector<int> of_configuration;
  // Per configuration rank, a fold that holds out every configuration of its hardware type at
  // once: a model trained without it has never seen that hardware, as for a query about a GPU
  // the data lack. Absent with fewer hardware types than folds.
  std::optional<std::vector<int>> of_configuration_by_hardware;
};

// Seeded and balanced: the same seed gives the same folds on every standard library. Hardware
// names that `catalogue` (may be null) resolves to one entry are one hardware type.
CrossFitFolds AssignFolds(const AnchorIndex& index, uint64_t seed,
                          const Catalogue* catalogue = nullptr);

}  // namespace perfcast
