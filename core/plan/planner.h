#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/perfcast_model.h"
#include "core/plan/plan_request.h"
#include "core/plan/plan_result.h"
#include "core/plan/price_list.h"

namespace perfcast {

// The largest batch size (or concurrency) a plan tries.
inline constexpr int kMaxPlanBatchSize = 65536;

// How much one plan may cost to answer.
struct PlanLimits {
  int max_candidates = 2000;
  int max_shapes = 16;
  int max_batch_sizes = 64;
  // candidates x shapes x batch sizes: the points predicted.
  int64_t max_points = 256 * 1024;
  int max_precisions = 16;
  int max_filter_names = 64;
  int max_prices = 1000;
  // Threads that predict the candidates of one plan at once (the answer does not depend on it).
  int threads = 1;
  // Asked before each candidate; true stops the plan with Cancelled (a call cancelled, or past
  // its deadline). May be empty.
  std::function<bool()> should_stop;
};

// OK, or InvalidArgument naming the request's field as the API spells it ("shapes[2].weight",
// "confidence", "slo.ttft_seconds"), or ResourceExhausted naming what exceeds `limits`.
absl::Status ValidatePlanRequest(const PlanRequest& request, const PlanLimits& limits);

// The candidates of a request that names none: every hardware the training data know (one
// spelling per catalogue entry) at every GPU count the data know for it, with every framework
// measured on that hardware that the data also know for the request's model (every framework of
// the hardware when the data know the model not at all), in every precision the data know for the
// model (fp16 if none; the request's precisions when it lists some), after the request's filter.
// Sorted; the model, campaign and batch semantics are the request's.
std::vector<Configuration> EnumerateCandidates(const PerfcastModel& model,
                                               const PlanRequest& request);

// The cheapest plan (docs/METHOD.md §11): for each candidate, the operating point that meets every
// objective with the fewest replicas for the demand, judged by the bounds at the request's
// confidence; ranked by the request's ranking; the rest rejected with the reason. Deterministic.
// Errors: those of ValidatePlanRequest; FailedPrecondition when ranking by cost and no candidate's
// hardware has a price; InvalidArgument from the model for a batch size it refuses.
absl::StatusOr<PlanResult> MakePlan(const PerfcastModel& model, const PriceList& server_prices,
                                    const PlanRequest& request, const PlanLimits& limits);

}  // namespace perfcast
