#pragma once

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "absl/types/span.h"
#include "core/model/prediction.h"
#include "core/plan/plan_request.h"
#include "core/plan/plan_result.h"

namespace perfcast {

// One candidate's predictions for a plan: for each shape of the mix (weights summing to 1), its
// points at the plan's batch sizes, in one order for every shape.
struct CandidateCurves {
  std::vector<WeightedShape> shapes;
  std::vector<std::vector<PointPrediction>> points;  // [shape][batch size]
  // Adds TTFT and ITL to `point` of shape index `shape`, where the points were predicted without
  // them (PredictOptions::latencies); empty when they carry them already. ChooseOperatingPoint
  // calls it for the points it reads that carry none (LatencyStatistic::kUnavailable).
  std::function<void(size_t shape, PointPrediction& point)> complete_latencies;
};

// Which figures of a point a plan is judged by.
enum class Judgement {
  kPessimisticBound,  // capacity from the lower bound, latencies from the upper bounds
  kPointEstimate,     // the predictions alone
};

struct Rejection {
  CandidateRejection reason = CandidateRejection::kDoesNotFit;
  std::string detail;
};

// The mix's output tokens/s per replica at batch index `j` as `judgement` reads it: the
// request-weighted harmonic combination (each shape's tokens take their own time); 0 when a
// shape has no throughput there (it does not fit).
double MixTokensPerSecond(const CandidateCurves& curves, size_t j, Judgement judgement);

// The operating point among the batch sizes that fits every shape in memory (all of a batch's
// sequences resident at once, where the memory rule knows how many can be) and meets every
// objective for every shape, with the fewest replicas for `demand_tokens_per_s` (ties: the
// smaller batch, which has the lower latency); otherwise why none does, judged at the smallest
// batch that fits (where latencies are lowest). `bound_label` names the figures in a rejection's
// detail ("bound at 90%"). cost_per_hour is left 0: it depends on the price, not the point.
// Latencies are read (curves.complete_latencies, which writes them into `curves`) only where an
// objective needs them and at the point chosen.
// REQUIRES: curves has at least one shape, every shape the same number of points (>= 1);
// demand_tokens_per_s > 0.
std::variant<OperatingPoint, Rejection> ChooseOperatingPoint(CandidateCurves& curves,
                                                             const LatencyObjectives& objectives,
                                                             double demand_tokens_per_s,
                                                             Judgement judgement,
                                                             absl::string_view bound_label);
// The same on a copy of `curves`.
std::variant<OperatingPoint, Rejection> ChooseOperatingPoint(const CandidateCurves& curves,
                                                             const LatencyObjectives& objectives,
                                                             double demand_tokens_per_s,
                                                             Judgement judgement,
                                                             absl::string_view bound_label);

}  // namespace perfcast
