#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/catalogue/memory_fit.h"
#include "core/data/benchmark_record.h"
#include "core/model/prediction.h"

namespace perfcast {

// Where a candidate's replicas run and how many are needed, judged either by the bounds at the
// plan's confidence or by the point predictions alone.
struct OperatingPoint {
  int batch_size = 0;
  int64_t replicas = 0;
  // Output tokens/s one replica serves at this point for the request mix: the bound at the
  // plan's confidence (or the point prediction, for a point-estimate plan).
  double tokens_per_s_per_replica = 0;
  // The worst over the mix's shapes of each latency, as the capacity is judged (upper bound or
  // point); nullopt when the model has no latency answer.
  std::optional<double> ttft_s;
  std::optional<double> itl_s;
  double batch_latency_s = 0;
  double cost_per_hour = 0;  // 0 without a price
};

// One candidate that meets every objective at some operating point.
struct PlanOption {
  Configuration configuration;
  OperatingPoint planned;  // at the plan's confidence
  // The point-estimate plan of the same candidate (what planning on predictions alone would
  // choose); nullopt when even the point predictions meet no objective.
  std::optional<OperatingPoint> point_estimate;
  double point_tokens_per_s_per_replica = 0;  // the point prediction at planned.batch_size
  std::optional<double> usd_per_gpu_hour;
  int64_t total_gpus = 0;
  double cost_per_million_output_tokens = 0;  // at the demand; 0 without a price
  // The least supported of the mix's shapes at the planned point.
  MemoryFit memory;
  PredictionCase prediction_case = PredictionCase::kMeasured;
  double expected_relative_error = 0;
};

// Why a candidate has no option. A closed set, for clients to act on.
enum class CandidateRejection {
  kDoesNotFit,            // no operating point fits in memory
  kMissesTtft,            // every fitting point misses the TTFT objective at the confidence
  kMissesItl,             // ... the ITL objective
  kMissesBatchLatency,    // ... the batch-latency objective
  kNoLatencyPrediction,   // a TTFT or ITL objective, and the model learned no latencies
  kNoPrice,               // ranking by cost and no price for the hardware
  kUnknownConfiguration,  // neither the data nor the catalogue knows a name
  kTooManyReplicas,       // the demand needs more than kMaxPlanReplicas replicas
};

// "does_not_fit", "misses_ttft", ...: the API's enum value names without their prefix.
absl::string_view CandidateRejectionName(CandidateRejection rejection);

struct RejectedCandidate {
  Configuration configuration;
  CandidateRejection reason = CandidateRejection::kDoesNotFit;
  std::string detail;  // with the figures: "TTFT upper bound 0.41 s > 0.2 s at batch 1"
};

// A plan needing more replicas than this is no plan: the candidate is rejected.
inline constexpr int64_t kMaxPlanReplicas = 1'000'000;

struct PlanResult {
  // Ranked: the first is the plan.
  std::vector<PlanOption> options;
  std::vector<RejectedCandidate> rejected;  // in candidate order
  double demand_output_tokens_per_s = 0;
  // The option a point-estimate planner would pick (possibly another candidate), by the same
  // ranking; nullopt when none.
  std::optional<PlanOption> cheapest_point_estimate;
};

}  // namespace perfcast
