#include "core/ml/simulated_annealing.h"

#include <chrono>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

int InSubset(const std::vector<bool>& state) {
  int count = 0;
  for (bool in : state) count += in;
  return count;
}

TEST(SimulatedAnnealingTest, StopsAfterItsIterationBound) {
  AnnealingSchedule schedule;
  schedule.max_iterations = 25;
  schedule.time_limit = absl::Seconds(60);
  int visited = 0;
  const AnnealingRun run = Anneal(std::vector<bool>{true, true, true, false, false, false},
                                  schedule, [&](const std::vector<bool>&) { return ++visited; });
  EXPECT_EQ(run.iterations, 25);
  EXPECT_EQ(visited, 26);  // the initial state, then one per move
  EXPECT_FALSE(run.stopped_by_time);
}

TEST(SimulatedAnnealingTest, StopsAtItsTimeBound) {
  AnnealingSchedule schedule;
  schedule.max_iterations = 1000000;
  schedule.time_limit = absl::Milliseconds(50);
  const absl::Time start = absl::Now();
  const AnnealingRun run =
      Anneal(std::vector<bool>{true, false, true, false}, schedule, [](const std::vector<bool>&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return 0.0;
      });
  EXPECT_TRUE(run.stopped_by_time);
  EXPECT_GT(run.iterations, 0);
  EXPECT_LT(run.iterations, 1000000);
  // One energy call at most runs past the bound.
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(50 + 5 * 4 + 200));

  schedule.time_limit = absl::ZeroDuration();
  const AnnealingRun none = Anneal(std::vector<bool>{true, false}, schedule,
                                   [](const std::vector<bool>&) { return 0.0; });
  EXPECT_EQ(none.iterations, 0);
  EXPECT_TRUE(none.stopped_by_time);
}

TEST(SimulatedAnnealingTest, EveryStateKeepsItemsOnBothSides) {
  AnnealingSchedule schedule;
  schedule.max_iterations = 200;
  Anneal(std::vector<bool>{true, true, false}, schedule, [](const std::vector<bool>& state) {
    EXPECT_GE(InSubset(state), 1);
    EXPECT_LE(InSubset(state), 2);
    return 0.0;
  });
}

TEST(SimulatedAnnealingTest, SameSeedVisitsTheSameStates) {
  AnnealingSchedule schedule;
  schedule.max_iterations = 50;
  schedule.seed = 11;
  auto visits = [&] {
    std::vector<std::vector<bool>> states;
    Anneal(std::vector<bool>{true, true, true, true, false, false, false, false}, schedule,
           [&](const std::vector<bool>& state) {
             states.push_back(state);
             return static_cast<double>(InSubset(state) % 3);
           });
    return states;
  };
  EXPECT_EQ(visits(), visits());
}

TEST(SimulatedAnnealingTest, ColdWalkReachesTheLowestEnergy) {
  AnnealingSchedule schedule;
  schedule.max_iterations = 100;
  schedule.initial_temperature = 1e-3;
  // Lowest energy: exactly items 0 and 1 in the subset.
  const AnnealingRun run = Anneal(std::vector<bool>{false, false, true, true, true}, schedule,
                                  [](const std::vector<bool>& state) {
                                    double energy = 0;
                                    for (size_t i = 0; i < state.size(); ++i)
                                      energy += state[i] != (i < 2);
                                    return energy;
                                  });
  EXPECT_EQ(run.final_state, (std::vector<bool>{true, true, false, false, false}));
}

}  // namespace
}  // namespace perfcast
