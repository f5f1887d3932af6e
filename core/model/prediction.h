#pragma once

#include <vector>

#include "absl/strings/string_view.h"
#include "core/catalogue/memory_fit.h"
#include "core/data/benchmark_record.h"

namespace perfcast {

// Which situation a prediction is in, from the most to the least supported by data.
enum class PredictionCase {
  kMeasured,           // the curve and batch size were benchmarked
  kInterpolated,       // the curve was benchmarked, the batch lies within its measured range
  kExtrapolatedBatch,  // the curve was benchmarked, the batch lies beyond its range
  kExtrapolatedShape,  // the configuration was benchmarked, this shape was not
  kNewConfiguration,   // nothing of this configuration was benchmarked
};
inline constexpr PredictionCase kPredictionCases[] = {
    PredictionCase::kMeasured, PredictionCase::kInterpolated, PredictionCase::kExtrapolatedBatch,
    PredictionCase::kExtrapolatedShape, PredictionCase::kNewConfiguration};

// The API's name of a case, as the proto enum spells it without its prefix, in lower case
// ("extrapolated_batch"): what the CLI prints, the metrics label and the eval points CSV carry.
absl::string_view PredictionCaseName(PredictionCase prediction_case);

// Which statistic a point's TTFT and ITL are: the training data's latencies are means over
// requests (no percentiles), so a prediction is one too; kUnavailable when the model has no
// latency answer for the point (trained on no latencies, or a bundle from before them).
enum class LatencyStatistic { kUnavailable, kMean };

// What an interval at level L promises: each point on its own is inside with probability L
// (kEachPoint), or every point of the curve at once is (kWholeCurve, wider: what a plan that
// picks one of the points needs, docs/METHOD.md §5 and §11).
enum class IntervalScope { kEachPoint, kWholeCurve };

// What a prediction works out beyond each point's throughput and its interval. The defaults give
// every figure of every point.
struct PredictOptions {
  IntervalScope scope = IntervalScope::kEachPoint;
  // TTFT and ITL. A caller that needs them at a few of the points (a plan without latency
  // objectives reads them at its operating point only) asks without and adds them there with
  // PerfcastModel::CompleteLatencies.
  bool latencies = true;
  // With the latencies, their 99th percentiles where the query's campaign measured them (a plan
  // reads none).
  bool tails = true;
  // Points to be predicted from anchors whose sequences are not all resident at once
  // (MemoryFit::AllResident) are left out: they carry their memory verdict and case, and no
  // throughput, interval, expected error or latency (all 0). Points read off the query's own
  // measured curve cost nothing and are answered in full.
  bool resident_points_only = false;
};

struct PredictionQuery {
  Configuration configuration;
  Shape shape;
};

struct PointPrediction {
  int batch_size = 0;
  // 0, like the interval and the batch latency, when the point does not fit in memory
  // (memory.verdict kDoesNotFit): such a configuration cannot run, so it has no throughput.
  double throughput_tokens_per_s = 0;
  // Interval at the requested confidence level; lower >= 0.
  double lower_tokens_per_s = 0;
  double upper_tokens_per_s = 0;
  // Time for the whole static batch: output_tokens * batch_size / throughput.
  double batch_latency_s = 0;
  // The error predictor's expected |relative error| of this prediction (0.08 = 8 %).
  double expected_relative_error = 0;
  PredictionCase prediction_case = PredictionCase::kNewConfiguration;
  // Whether the batch fits in the GPUs' memory, why, and the largest batch of the query's shape
  // that does (core/catalogue/memory_fit.h).
  MemoryFit memory;
  // Mean time to first token and mean inter-token latency, each with its interval at the
  // requested level (docs/METHOD.md §9). They agree with the throughput: batch_latency_s =
  // ttft_s + (output_tokens - 1) x itl_s. All 0 when latency_statistic is kUnavailable.
  LatencyStatistic latency_statistic = LatencyStatistic::kUnavailable;
  double ttft_s = 0;
  double ttft_lower_s = 0;
  double ttft_upper_s = 0;
  double itl_s = 0;
  double itl_lower_s = 0;
  double itl_upper_s = 0;
  // The 99th percentiles over requests of the TTFT and of each request's time per output token,
  // with their intervals (docs/METHOD.md §9): answered only for a campaign whose training results
  // carried them, all 0 otherwise. Never below their means.
  double p99_ttft_s = 0;
  double p99_ttft_lower_s = 0;
  double p99_ttft_upper_s = 0;
  double p99_tpot_s = 0;
  double p99_tpot_lower_s = 0;
  double p99_tpot_upper_s = 0;
};

// An observed curve near a query, for people deciding how far to trust a number.
struct NeighborCurve {
  Configuration configuration;
  Shape shape;
  double distance = 0;  // in the normalised workload space; 0 = the same curve
};

struct UncertaintyReport {
  double similarity_score = 0;         // 1 = measured, towards 0 = nothing similar observed
  double expected_relative_error = 0;  // 0.08 = 8 %
  std::vector<NeighborCurve> nearest_curves;
  // In the normalised workload space (core/model/workload_similarity.h): distance from the query
  // point to the nearest observed point, overall and within its configuration (NaN: none observed).
  double nearest_point_distance = 0;
  double nearest_same_configuration_distance = 0;
  int configuration_curve_count = 0;  // curves observed of the query's configuration
  PredictionCase prediction_case = PredictionCase::kNewConfiguration;
  // Names of the query no training configuration carries ("framework 'my-new-engine'"), after
  // the spellings and equivalences that reach a trained name (core/model/trained_names.h).
  std::vector<std::string> unseen_names;
  // Answered for the population of campaigns: the query named no campaign, or one the data lack.
  bool population = false;
  // Where the query lies outside every campaign's range, one sentence each ("batch_size 2048 is
  // beyond every campaign's largest static batch (1024)"); empty inside it.
  std::vector<std::string> outside_data;
};

}  // namespace perfcast
