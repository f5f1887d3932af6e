#include "core/ml/simulated_annealing.h"

#include <cmath>
#include <random>

#include "absl/time/clock.h"

namespace perfcast {

AnnealingRun Anneal(std::vector<bool> initial, const AnnealingSchedule& schedule,
                    absl::FunctionRef<double(const std::vector<bool>&)> energy) {
  const absl::Time deadline = absl::Now() + schedule.time_limit;
  std::mt19937_64 random(schedule.seed);
  // Draws in [0, n) and [0, 1) from the raw engine: the distributions of <random> differ between
  // standard libraries, the engine's sequence does not.
  auto below = [&](size_t n) { return static_cast<size_t>(random() % n); };
  auto uniform = [&] { return static_cast<double>(random() >> 11) * 0x1.0p-53; };

  AnnealingRun run;
  std::vector<bool> state = std::move(initial);
  double current = energy(state);
  double temperature = schedule.initial_temperature;
  std::vector<size_t> in, out;
  while (run.iterations < schedule.max_iterations) {
    if (absl::Now() >= deadline) {
      run.stopped_by_time = true;
      break;
    }
    in.clear();
    out.clear();
    for (size_t i = 0; i < state.size(); ++i) (state[i] ? in : out).push_back(i);
    // Adding needs two items out, dropping two in, swapping one of each.
    std::vector<int> moves;
    if (out.size() >= 2) moves.push_back(0);
    if (in.size() >= 2) moves.push_back(1);
    moves.push_back(2);
    std::vector<bool> next = state;
    switch (moves[below(moves.size())]) {
      case 0:
        next[out[below(out.size())]] = true;
        break;
      case 1:
        next[in[below(in.size())]] = false;
        break;
      default:
        next[in[below(in.size())]] = false;
        next[out[below(out.size())]] = true;
        break;
    }
    ++run.iterations;
    const double candidate = energy(next);
    const double rise = candidate - current;
    if (rise <= 0 || uniform() < std::exp(-rise / temperature)) {
      state = std::move(next);
      current = candidate;
      ++run.accepted;
    }
    temperature *= schedule.cooling;
  }
  run.final_state = std::move(state);
  return run;
}

}  // namespace perfcast
