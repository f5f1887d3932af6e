#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/data/curve.h"
#include "core/model/train_options.h"

namespace perfcast {

// `perfcast eval --protocol plan` (docs/EVALUATION.md §7): does a plan keep its promise? The
// configurations are split into `folds` seeded groups; for each group a model trained without it
// plans every held-out curve of three points or more, as a scheduler would plan a configuration
// the data lack: the operating points are the curve's measured batch sizes, the objectives the
// curve's own batch latency (and TTFT, where measured) at its middle point, the demand so large
// that the plan is the point of the largest capacity the objectives allow. A plan kept its promise
// when the measured throughput at the planned point reaches the planned per-replica capacity and
// the measured latencies meet the objectives. The point-estimate plan (the predictions alone) is
// judged the same way.
struct PlanEvaluationOptions {
  uint64_t seed = 42;
  double confidence = 0.9;
  int folds = 5;
  int parallel_folds = 1;
  TrainOptions train;
  // Called as each fold ends (folds done, fold count), from the thread that ran it, one at a time.
  std::function<void(int done, int total)> progress;
};

// Why a plan did not keep its promise, the first of these that the measured point shows.
enum class PromiseBroken { kNone, kThroughput, kBatchLatency, kTtft };

// One held-out curve, planned.
struct PlannedCurve {
  Configuration configuration;
  Shape shape;
  bool ttft_objective = false;
  // The plan at the confidence; nullopt when it rejected the configuration (no promise made).
  std::optional<int> batch_size;
  double capacity_tokens_per_s = 0;
  bool kept = false;
  PromiseBroken broken = PromiseBroken::kNone;
  // The point-estimate plan, likewise.
  std::optional<int> point_batch_size;
  double point_capacity_tokens_per_s = 0;
  bool point_kept = false;
  // Every point of the curve against the lower bound of its prediction at the confidence.
  int points_judged = 0;
  int points_below_bound = 0;
};

struct PlanKeptCounts {
  int curves = 0;
  int plans = 0;        // curves with a plan at the confidence
  int kept = 0;         // of those, plans that kept their promise
  int point_plans = 0;  // curves with a point-estimate plan
  int point_kept = 0;
  // Plans at the confidence that broke their promise, by the first promise the measurement broke.
  int broken_throughput = 0;
  int broken_batch_latency = 0;
  int broken_ttft = 0;
  // Every point of the curves, chosen or not: how many fell below their bound.
  int points_judged = 0;
  int points_below_bound = 0;
  double below_bound_share() const {
    return points_judged > 0 ? static_cast<double>(points_below_bound) / points_judged : 0;
  }
  double kept_share() const { return plans > 0 ? static_cast<double>(kept) / plans : 0; }
  double point_kept_share() const {
    return point_plans > 0 ? static_cast<double>(point_kept) / point_plans : 0;
  }
};

struct PlanEvaluation {
  double confidence = 0.9;
  PlanKeptCounts all;
  std::map<std::string, PlanKeptCounts> by_campaign;
  // Median over curves planned both ways of planned capacity / point-estimate capacity: what
  // certainty costs in capacity per replica.
  double median_capacity_ratio = 0;
  std::vector<PlannedCurve> curves;
};

// FailedPrecondition when fewer than two configurations have curves of three points or more.
absl::StatusOr<PlanEvaluation> EvaluatePlans(absl::Span<const Curve> curves,
                                             const PlanEvaluationOptions& options);

}  // namespace perfcast
