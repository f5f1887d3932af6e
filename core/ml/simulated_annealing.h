#pragma once

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"

namespace perfcast {

// Bounds and schedule of one annealing run.
struct AnnealingSchedule {
  // The run stops after this many moves...
  int max_iterations = 8;
  // ...or when this much wall time has passed, whichever comes first. The time bound is a safety
  // cap: results are reproducible for a seed only while it is not reached (AnnealingRun says).
  absl::Duration time_limit = absl::Seconds(5);
  // Geometric cooling: the temperature of move k is initial_temperature * cooling^k.
  double initial_temperature = 0.05;
  double cooling = 0.8;
  uint64_t seed = 0;
};

struct AnnealingRun {
  int iterations = 0;  // moves proposed
  int accepted = 0;    // moves taken
  bool stopped_by_time = false;
  std::vector<bool> final_state;
};

// Simulated annealing over subsets of `item_count` items (docs/METHOD.md §3). A state marks which
// items are in the subset; a move adds one item, drops one, or swaps one in for one out, drawn
// uniformly among the moves that keep between 1 and item_count - 1 items in the subset. A move that
// lowers the energy is taken; one that raises it by d is taken with probability exp(-d /
// temperature). `energy` is called once per visited state (the initial one included), in visiting
// order.
//
// REQUIRES: item_count >= 2, and `initial` has item_count entries with 1 to item_count - 1 set.
AnnealingRun Anneal(std::vector<bool> initial, const AnnealingSchedule& schedule,
                    absl::FunctionRef<double(const std::vector<bool>&)> energy);

}  // namespace perfcast
