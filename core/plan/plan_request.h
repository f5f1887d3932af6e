#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/data/benchmark_record.h"
#include "core/plan/price_list.h"

namespace perfcast {

// One request shape of a workload and its share of the requests (any positive scale: the
// weights are normalised).
struct WeightedShape {
  Shape shape;
  double weight = 1;
};

// What the demand counts.
enum class DemandUnit { kRequestsPerSecond, kOutputTokensPerSecond };

// Latency objectives, each absent or > 0 seconds. The model predicts mean TTFT and ITL
// (LatencyStatistic::kMean), so an objective is held against the bound of the mean at the plan's
// confidence, not against a tail percentile of single requests.
struct LatencyObjectives {
  std::optional<double> ttft_s;
  std::optional<double> itl_s;
  // The time a whole batch (or, under concurrency, one request) takes: output tokens x batch
  // size / throughput.
  std::optional<double> batch_latency_s;

  // Whether an objective reads a point's TTFT or ITL (the batch latency comes with throughput).
  bool NeedsLatencies() const { return ttft_s.has_value() || itl_s.has_value(); }
};

// Which of the options that meet every objective comes first.
enum class PlanRanking {
  kCost,  // dollars per hour at the demand; a candidate without a price is rejected
  kGpus,  // GPUs in all replicas; prices optional
};

// Narrows the candidates the planner enumerates when the request names none. Empty: no limit.
struct CandidateFilter {
  std::vector<std::string> hardware;
  std::vector<std::string> frameworks;
  int max_gpu_count = 0;
};

struct PlanRequest {
  std::string model;
  // Allowed precisions; empty: every precision the data know for the model (fp16 if none).
  std::vector<std::string> precisions;
  std::vector<WeightedShape> shapes;
  double demand = 0;
  DemandUnit demand_unit = DemandUnit::kOutputTokensPerSecond;
  LatencyObjectives objectives;
  // Probability, in [0.5, 1), with which each option's capacity and each latency objective hold:
  // capacity is the lower bound of throughput's whole-curve interval at this level (it holds at
  // every operating point at once, so at the one chosen), a latency the upper bound of its
  // interval.
  double confidence = 0.9;
  // Explicit candidates (their model and precision as given); empty: enumerated from what the
  // data and the catalogue know (EnumerateCandidates).
  std::vector<Configuration> candidates;
  CandidateFilter filter;
  // Operating points tried on every candidate; empty: kDefaultPlanBatchSizes.
  std::vector<int> batch_sizes;
  BatchSemantics batch_semantics = BatchSemantics::kStatic;
  // "As my pipeline measures"; empty: the population of campaigns.
  std::string campaign;
  PlanRanking ranking = PlanRanking::kCost;
  // The request's own prices, over the server's (a hardware priced in both takes this one).
  PriceList prices;
};

// The operating points a plan tries when the request names none: powers of two and the points
// halfway between them, 1 to 1024.
inline constexpr int kDefaultPlanBatchSizes[] = {1,  2,  3,  4,   6,   8,   12,  16,  24,  32,
                                                 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024};

}  // namespace perfcast
