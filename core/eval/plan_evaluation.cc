#include "core/eval/plan_evaluation.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/model/perfcast_model.h"
#include "core/plan/planner.h"
#include "core/util/percentile.h"

namespace perfcast {
namespace {

constexpr size_t kMinPointsToPlan = 3;
// The demand, in multiples of the curve's largest measured throughput: large enough that the
// fewest replicas is the largest capacity, to within a fraction of a percent.
constexpr double kDemandMultiple = 1000;
// Measured and planned figures are compared with this slack for rounding.
constexpr double kRelativeSlack = 1e-9;

std::vector<BenchmarkRecord> RecordsOf(absl::Span<const Curve> curves,
                                       const std::set<Configuration>& left_out) {
  std::vector<BenchmarkRecord> records;
  for (const Curve& curve : curves) {
    if (!left_out.contains(curve.configuration)) AppendRecordsOf(curve, records);
  }
  return records;
}

double BatchLatency(const Curve& curve, const CurvePoint& point) {
  return static_cast<double>(curve.shape.output_tokens) * point.batch_size /
         point.throughput_tokens_per_s;
}

// Whether the measured point at `batch_size` (one of the curve's) delivers `capacity` within the
// objectives, or the first promise it breaks.
PromiseBroken Judge(const Curve& curve, int batch_size, double capacity,
                    const LatencyObjectives& objectives) {
  auto it = std::find_if(curve.points.begin(), curve.points.end(),
                         [&](const CurvePoint& p) { return p.batch_size == batch_size; });
  if (it->throughput_tokens_per_s < capacity * (1 - kRelativeSlack)) {
    return PromiseBroken::kThroughput;
  }
  if (objectives.batch_latency_s &&
      BatchLatency(curve, *it) > *objectives.batch_latency_s * (1 + kRelativeSlack)) {
    return PromiseBroken::kBatchLatency;
  }
  if (objectives.ttft_s && it->ttft_s && *it->ttft_s > *objectives.ttft_s * (1 + kRelativeSlack)) {
    return PromiseBroken::kTtft;
  }
  return PromiseBroken::kNone;
}

// A curve of three points or more whose batch sizes a plan request can carry.
bool Plannable(const Curve& curve) {
  return curve.points.size() >= kMinPointsToPlan &&
         std::ssize(curve.points) <= PlanLimits{}.max_batch_sizes &&
         curve.points.back().batch_size <= kMaxPlanBatchSize;
}

absl::StatusOr<std::vector<PlannedCurve>> PlanFold(absl::Span<const Curve> curves,
                                                   const std::set<Configuration>& held_out,
                                                   const PlanEvaluationOptions& options) {
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model =
      PerfcastModel::Train(RecordsOf(curves, held_out), options.train);
  if (!model.ok()) return model.status();
  std::vector<PlannedCurve> out;
  for (const Curve& curve : curves) {
    if (!held_out.contains(curve.configuration) || !Plannable(curve)) continue;
    const CurvePoint& middle = curve.points[curve.points.size() / 2];
    PlanRequest request;
    request.model = curve.configuration.model;
    request.shapes = {{curve.shape, 1}};
    request.candidates = {curve.configuration};
    request.ranking = PlanRanking::kGpus;
    request.confidence = options.confidence;
    request.objectives.batch_latency_s = BatchLatency(curve, middle);
    if (middle.ttft_s) request.objectives.ttft_s = *middle.ttft_s;
    double largest = 0;
    for (const CurvePoint& p : curve.points) {
      request.batch_sizes.push_back(p.batch_size);
      largest = std::max(largest, p.throughput_tokens_per_s);
    }
    request.demand = kDemandMultiple * largest;
    absl::StatusOr<PlanResult> plan = MakePlan(**model, PriceList(), request, PlanLimits{});
    if (!plan.ok()) {
      return absl::Status(plan.status().code(), absl::StrCat(curve.configuration.ToString(), ": ",
                                                             plan.status().message()));
    }
    PlannedCurve planned;
    planned.configuration = curve.configuration;
    planned.shape = curve.shape;
    // How often a point of the curve, chosen or not, falls below its bound: what the plan's
    // choice among the points adds to the failures.
    absl::StatusOr<std::vector<PointPrediction>> points = (**model).Predict(
        {curve.configuration, curve.shape}, request.batch_sizes, request.confidence);
    if (points.ok()) {
      for (size_t j = 0; j < points->size(); ++j) {
        if ((*points)[j].memory.verdict == MemoryVerdict::kDoesNotFit) continue;
        ++planned.points_judged;
        planned.points_below_bound +=
            curve.points[j].throughput_tokens_per_s < (*points)[j].lower_tokens_per_s;
      }
    }
    planned.ttft_objective = request.objectives.ttft_s.has_value();
    if (!plan->options.empty()) {
      const OperatingPoint& point = plan->options.front().planned;
      planned.batch_size = point.batch_size;
      planned.capacity_tokens_per_s = point.tokens_per_s_per_replica;
      planned.broken =
          Judge(curve, point.batch_size, point.tokens_per_s_per_replica, request.objectives);
      planned.kept = planned.broken == PromiseBroken::kNone;
    }
    if (plan->cheapest_point_estimate) {
      const OperatingPoint& point = plan->cheapest_point_estimate->planned;
      planned.point_batch_size = point.batch_size;
      planned.point_capacity_tokens_per_s = point.tokens_per_s_per_replica;
      planned.point_kept = Judge(curve, point.batch_size, point.tokens_per_s_per_replica,
                                 request.objectives) == PromiseBroken::kNone;
    }
    out.push_back(std::move(planned));
  }
  return out;
}

void Count(const PlannedCurve& curve, PlanKeptCounts& counts) {
  ++counts.curves;
  counts.points_judged += curve.points_judged;
  counts.points_below_bound += curve.points_below_bound;
  if (curve.batch_size) {
    ++counts.plans;
    counts.kept += curve.kept;
    counts.broken_throughput += curve.broken == PromiseBroken::kThroughput;
    counts.broken_batch_latency += curve.broken == PromiseBroken::kBatchLatency;
    counts.broken_ttft += curve.broken == PromiseBroken::kTtft;
  }
  if (curve.point_batch_size) {
    ++counts.point_plans;
    counts.point_kept += curve.point_kept;
  }
}

}  // namespace

absl::StatusOr<PlanEvaluation> EvaluatePlans(absl::Span<const Curve> curves,
                                             const PlanEvaluationOptions& options) {
  std::set<Configuration> plannable;
  for (const Curve& curve : curves) {
    if (Plannable(curve)) plannable.insert(curve.configuration);
  }
  if (plannable.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plan: ", plannable.size(),
        " configurations have a curve of three points or more; it needs two to hold one out"));
  }
  std::vector<Configuration> order(plannable.begin(), plannable.end());
  std::mt19937_64 random(options.seed);
  std::shuffle(order.begin(), order.end(), random);
  const int folds = std::clamp(options.folds, 2, static_cast<int>(order.size()));
  std::vector<std::set<Configuration>> groups(static_cast<size_t>(folds));
  for (size_t i = 0; i < order.size(); ++i) groups[i % groups.size()].insert(order[i]);

  std::vector<absl::StatusOr<std::vector<PlannedCurve>>> per_fold(
      groups.size(), absl::UnknownError("fold not run"));
  std::atomic<size_t> next{0};
  absl::Mutex mutex;
  int done = 0;
  auto work = [&] {
    for (size_t f = next++; f < groups.size(); f = next++) {
      per_fold[f] = PlanFold(curves, groups[f], options);
      absl::MutexLock lock(&mutex);
      ++done;
      if (options.progress) options.progress(done, static_cast<int>(groups.size()));
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < options.parallel_folds; ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();

  PlanEvaluation evaluation;
  evaluation.confidence = options.confidence;
  std::vector<double> ratios;
  for (auto& fold : per_fold) {
    if (!fold.ok()) return fold.status();
    for (PlannedCurve& curve : *fold) {
      Count(curve, evaluation.all);
      Count(curve, evaluation.by_campaign[curve.configuration.campaign]);
      if (curve.batch_size && curve.point_batch_size && curve.point_capacity_tokens_per_s > 0) {
        ratios.push_back(curve.capacity_tokens_per_s / curve.point_capacity_tokens_per_s);
      }
      evaluation.curves.push_back(std::move(curve));
    }
  }
  if (!ratios.empty()) {
    std::sort(ratios.begin(), ratios.end());
    evaluation.median_capacity_ratio = PercentileOfSorted(ratios, 0.5);
  }
  return evaluation;
}

}  // namespace perfcast
