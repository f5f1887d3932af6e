#include "core/plan/planner.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/plan/operating_point.h"

namespace perfcast {
namespace {

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

bool PositiveFinite(double value) { return std::isfinite(value) && value > 0; }

// What a name of `field` stands for: its catalogue entry's name, or the name in lower case where
// the catalogue (or its absence) leaves it unresolved. Names with one key mean the same thing.
std::string KeyOf(const Catalogue* catalogue, ConfigurationField field, const std::string& name) {
  if (catalogue != nullptr) {
    const std::string* entry = nullptr;
    switch (field) {
      case ConfigurationField::kHardware:
        if (const AcceleratorSpec* spec = catalogue->LookupAccelerator(name)) entry = &spec->name;
        break;
      case ConfigurationField::kModel:
        if (const ModelSpec* spec = catalogue->LookupModel(name)) entry = &spec->name;
        break;
      case ConfigurationField::kPrecision:
        if (const PrecisionSpec* spec = catalogue->LookupPrecision(name)) entry = &spec->name;
        break;
      case ConfigurationField::kFramework:
        if (const FrameworkSpec* spec = catalogue->LookupFramework(name)) entry = &spec->name;
        break;
      default:
        break;
    }
    if (entry != nullptr) return *entry;
  }
  return absl::AsciiStrToLower(name);
}

// Whether `key` (a KeyOf `field`) is among the `allowed` names; an empty list allows all.
bool Allowed(const std::vector<std::string>& allowed, const std::string& key,
             const Catalogue* catalogue, ConfigurationField field) {
  if (allowed.empty()) return true;
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& name) { return KeyOf(catalogue, field, name) == key; });
}

// The ranking's order of two options: at equal cost (or GPUs) the lower latency first, then the
// configuration, so that the order is total.
bool RanksBefore(const PlanOption& a, const PlanOption& b, PlanRanking ranking) {
  const auto cost = [](const PlanOption& o) { return o.planned.cost_per_hour; };
  if (ranking == PlanRanking::kCost) {
    return std::make_tuple(cost(a), a.total_gpus, a.planned.batch_latency_s, a.configuration) <
           std::make_tuple(cost(b), b.total_gpus, b.planned.batch_latency_s, b.configuration);
  }
  return std::make_tuple(a.total_gpus, cost(a), a.planned.batch_latency_s, a.configuration) <
         std::make_tuple(b.total_gpus, cost(b), b.planned.batch_latency_s, b.configuration);
}

// The two-sided interval level whose bounds a plan at `confidence` reads: the same level. Its
// lower bound holds with probability at least `confidence` whatever the skew of the errors
// (P(y < lower) <= P(y outside the interval) = 1 - confidence); the bound of the level 2c - 1,
// which a symmetric error would allow, held in too few plans (docs/EVALUATION.md §7).
double IntervalLevelFor(double confidence) { return confidence; }

std::string BoundLabel(double confidence) {
  return absl::StrFormat("at %g%% confidence", confidence * 100);
}

std::vector<int> PlanBatchSizes(const PlanRequest& request) {
  std::vector<int> sizes = request.batch_sizes;
  if (sizes.empty()) {
    sizes.assign(std::begin(kDefaultPlanBatchSizes), std::end(kDefaultPlanBatchSizes));
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

OperatingPoint Priced(OperatingPoint point, int num_gpus, std::optional<double> price) {
  if (price) point.cost_per_hour = static_cast<double>(point.replicas) * num_gpus * *price;
  return point;
}

// What one candidate comes to: an option, or a rejection; and the point-estimate plan, when the
// predictions alone meet the objectives.
struct CandidateOutcome {
  std::optional<PlanOption> option;
  std::optional<RejectedCandidate> rejected;
  std::optional<PlanOption> point_plan;
  absl::Status status;  // an error that ends the whole plan
};

// The figures an option takes from its points at batch index `j`: the least supported shape
// speaks for it (the most uncertain memory verdict, unknown before fits; the least supported
// case; the largest expected error).
void DescribeOption(const CandidateCurves& curves, size_t j, PlanOption& option) {
  option.point_tokens_per_s_per_replica = MixTokensPerSecond(curves, j, Judgement::kPointEstimate);
  option.memory = curves.points.front()[j].memory;
  option.prediction_case = curves.points.front()[j].prediction_case;
  option.expected_relative_error = 0;
  for (const std::vector<PointPrediction>& shape_points : curves.points) {
    const PointPrediction& p = shape_points[j];
    if (p.memory.verdict == MemoryVerdict::kUnknown) option.memory = p.memory;
    option.prediction_case = std::max(option.prediction_case, p.prediction_case);
    option.expected_relative_error =
        std::max(option.expected_relative_error, p.expected_relative_error);
  }
}

// `option` with `point` as its plan: priced, its GPUs and cost per token, its figures.
void Settle(const CandidateCurves& curves, const std::vector<int>& batch_sizes,
            const OperatingPoint& point, double demand_tokens_per_s, PlanOption& option) {
  option.planned = Priced(point, option.configuration.num_gpus, option.usd_per_gpu_hour);
  option.total_gpus = option.planned.replicas * option.configuration.num_gpus;
  option.cost_per_million_output_tokens =
      option.usd_per_gpu_hour ? option.planned.cost_per_hour / (demand_tokens_per_s * 3600) * 1e6
                              : 0;
  const size_t j = static_cast<size_t>(
      std::lower_bound(batch_sizes.begin(), batch_sizes.end(), point.batch_size) -
      batch_sizes.begin());
  DescribeOption(curves, j, option);
}

CandidateOutcome PlanCandidate(const PerfcastModel& model, const Configuration& configuration,
                               std::optional<double> price,
                               const std::vector<WeightedShape>& shapes,
                               const std::vector<int>& batch_sizes, double level,
                               const std::string& bound_label, const LatencyObjectives& objectives,
                               double demand_tokens_per_s) {
  CandidateOutcome outcome;
  CandidateCurves curves;
  curves.shapes = shapes;
  // A plan runs no batch in waves, and without a latency objective it reads latencies at the
  // points it chooses only: the rest are not worked out. With one, every point's are, at once.
  const bool latency_objectives = objectives.NeedsLatencies();
  PredictOptions options;
  options.scope = IntervalScope::kWholeCurve;
  options.latencies = latency_objectives;
  options.tails = false;
  options.resident_points_only = true;
  for (const WeightedShape& s : shapes) {
    absl::StatusOr<std::vector<PointPrediction>> predicted =
        model.Predict({configuration, s.shape}, batch_sizes, level, options);
    if (predicted.status().code() == absl::StatusCode::kNotFound) {
      outcome.rejected = RejectedCandidate{configuration, CandidateRejection::kUnknownConfiguration,
                                           std::string(predicted.status().message())};
      return outcome;
    }
    if (!predicted.ok()) {
      outcome.status = predicted.status();
      return outcome;
    }
    curves.points.push_back(*std::move(predicted));
  }
  if (!latency_objectives) {
    curves.complete_latencies = [&](size_t shape, PointPrediction& point) {
      model.CompleteLatencies({configuration, shapes[shape].shape}, level,
                              absl::MakeSpan(&point, 1));
    };
  }
  PlanOption option;
  option.configuration = configuration;
  option.usd_per_gpu_hour = price;
  auto point_choice = ChooseOperatingPoint(curves, objectives, demand_tokens_per_s,
                                           Judgement::kPointEstimate, "predicted");
  if (const auto* point = std::get_if<OperatingPoint>(&point_choice)) {
    PlanOption point_plan = option;
    Settle(curves, batch_sizes, *point, demand_tokens_per_s, point_plan);
    option.point_estimate = point_plan.planned;
    point_plan.point_estimate = point_plan.planned;
    outcome.point_plan = std::move(point_plan);
  }
  auto choice = ChooseOperatingPoint(curves, objectives, demand_tokens_per_s,
                                     Judgement::kPessimisticBound, bound_label);
  if (auto* rejection = std::get_if<Rejection>(&choice)) {
    outcome.rejected =
        RejectedCandidate{configuration, rejection->reason, std::move(rejection->detail)};
    return outcome;
  }
  Settle(curves, batch_sizes, std::get<OperatingPoint>(choice), demand_tokens_per_s, option);
  outcome.option = std::move(option);
  return outcome;
}

}  // namespace

absl::Status ValidatePlanRequest(const PlanRequest& request, const PlanLimits& limits) {
  if (request.model.empty()) return FieldError("model", "must not be empty");
  if (request.shapes.empty()) return FieldError("shapes", "must not be empty");
  if (std::ssize(request.shapes) > limits.max_shapes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "shapes: ", request.shapes.size(), " shapes in one plan, at most ", limits.max_shapes));
  }
  for (size_t i = 0; i < request.shapes.size(); ++i) {
    const WeightedShape& s = request.shapes[i];
    const std::string path = absl::StrCat("shapes[", i, "]");
    if (s.shape.input_tokens <= 0) {
      return FieldError(absl::StrCat(path, ".input_tokens"),
                        absl::StrCat(s.shape.input_tokens, ": must be > 0"));
    }
    if (s.shape.output_tokens <= 0) {
      return FieldError(absl::StrCat(path, ".output_tokens"),
                        absl::StrCat(s.shape.output_tokens, ": must be > 0"));
    }
    if (!PositiveFinite(s.weight)) {
      return FieldError(absl::StrCat(path, ".weight"),
                        absl::StrCat(s.weight, ": must be a finite number > 0"));
    }
  }
  const absl::string_view demand_field = request.demand_unit == DemandUnit::kRequestsPerSecond
                                             ? "requests_per_second"
                                             : "output_tokens_per_second";
  if (!PositiveFinite(request.demand)) {
    return FieldError(demand_field,
                      absl::StrCat(request.demand, ": the demand must be a finite number > 0"));
  }
  for (const auto& [field, value] :
       {std::pair{"slo.ttft_seconds", request.objectives.ttft_s},
        std::pair{"slo.itl_seconds", request.objectives.itl_s},
        std::pair{"slo.batch_latency_seconds", request.objectives.batch_latency_s}}) {
    if (value && !PositiveFinite(*value)) {
      return FieldError(field, absl::StrCat(*value, ": an objective must be a finite number > 0"));
    }
  }
  // Below one half a bound is more optimistic than the prediction: no plan to promise on.
  if (!(request.confidence >= 0.5 && request.confidence < 1)) {
    return FieldError("confidence", absl::StrCat(request.confidence, ": must be in [0.5, 1)"));
  }
  if (std::ssize(request.batch_sizes) > limits.max_batch_sizes) {
    return absl::ResourceExhaustedError(absl::StrCat("batch_sizes: ", request.batch_sizes.size(),
                                                     " operating points, at most ",
                                                     limits.max_batch_sizes));
  }
  for (size_t i = 0; i < request.batch_sizes.size(); ++i) {
    if (request.batch_sizes[i] < 1 || request.batch_sizes[i] > kMaxPlanBatchSize) {
      return FieldError(absl::StrCat("batch_sizes[", i, "]"),
                        absl::StrCat(request.batch_sizes[i], ": must be in [1, 65536]"));
    }
  }
  if (request.filter.max_gpu_count < 0) {
    return FieldError("filter.max_gpu_count",
                      absl::StrCat(request.filter.max_gpu_count, ": must be >= 0 (0: no limit)"));
  }
  for (const auto& [field, size, most] :
       {std::tuple{"precisions", request.precisions.size(), limits.max_precisions},
        std::tuple{"filter.hardware", request.filter.hardware.size(), limits.max_filter_names},
        std::tuple{"filter.frameworks", request.filter.frameworks.size(), limits.max_filter_names},
        std::tuple{"prices", request.prices.size(), limits.max_prices}}) {
    if (size > static_cast<size_t>(most)) {
      return absl::ResourceExhaustedError(
          absl::StrCat(field, ": ", size, " entries, at most ", most));
    }
  }
  if (std::ssize(request.candidates) > limits.max_candidates) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "candidates: ", request.candidates.size(), " candidates, at most ", limits.max_candidates));
  }
  return absl::OkStatus();
}

std::vector<Configuration> EnumerateCandidates(const PerfcastModel& model,
                                               const PlanRequest& request) {
  const Catalogue* catalogue = model.catalogue();
  const std::string wanted_model = KeyOf(catalogue, ConfigurationField::kModel, request.model);
  // Per catalogue entry of hardware: its first spelling in sorted order, its GPU counts and the
  // frameworks measured on it (a serving stack runs on the hardware it was built for: vLLM on a
  // Gaudi is another port, and the data say which ones exist).
  struct HardwareSeen {
    std::string spelling;
    std::set<int> gpu_counts;
    std::map<std::string, std::string> frameworks;  // by framework key
  };
  std::map<std::string, HardwareSeen> hardware;
  std::set<std::string> model_frameworks;  // keys
  // Per precision key, its shortest spelling ("fp8" rather than "Weight = fp8, KV Cache = fp8").
  std::map<std::string, std::string> model_precisions;
  for (const Configuration& c : model.Configurations()) {
    HardwareSeen& seen = hardware[KeyOf(catalogue, ConfigurationField::kHardware, c.hardware)];
    if (seen.spelling.empty()) seen.spelling = c.hardware;
    seen.gpu_counts.insert(c.num_gpus);
    const std::string framework = KeyOf(catalogue, ConfigurationField::kFramework, c.framework);
    seen.frameworks.try_emplace(framework, c.framework);
    if (KeyOf(catalogue, ConfigurationField::kModel, c.model) == wanted_model) {
      model_frameworks.insert(framework);
      // A precision the catalogue cannot read is no candidate: its memory fit is unknown. One
      // that was not recorded reads the model's checkpoint precision (Catalogue::PrecisionOf).
      if (catalogue == nullptr || catalogue->PrecisionOf(c) != nullptr) {
        auto [it, inserted] = model_precisions.try_emplace(
            KeyOf(catalogue, ConfigurationField::kPrecision, c.precision), c.precision);
        if (std::make_pair(c.precision.size(), c.precision) <
            std::make_pair(it->second.size(), it->second)) {
          it->second = c.precision;
        }
      }
    }
  }
  // The request's precisions once each ("fp16" and "FP16" are one), else the data's.
  std::vector<std::string> precisions;
  std::set<std::string> precision_keys;
  for (const std::string& precision : request.precisions) {
    if (precision_keys.insert(KeyOf(catalogue, ConfigurationField::kPrecision, precision)).second) {
      precisions.push_back(precision);
    }
  }
  if (precisions.empty()) {
    for (const auto& [key, spelling] : model_precisions) precisions.push_back(spelling);
    if (precisions.empty()) precisions.push_back("fp16");
  }
  std::vector<Configuration> out;
  for (const auto& [key, seen] : hardware) {
    if (!Allowed(request.filter.hardware, key, catalogue, ConfigurationField::kHardware)) continue;
    for (int num_gpus : seen.gpu_counts) {
      if (request.filter.max_gpu_count > 0 && num_gpus > request.filter.max_gpu_count) continue;
      for (const auto& [framework_key_value, framework] : seen.frameworks) {
        // A framework the data know for the model (any framework when they know the model not).
        if (!model_frameworks.empty() && !model_frameworks.contains(framework_key_value)) continue;
        if (!Allowed(request.filter.frameworks, framework_key_value, catalogue,
                     ConfigurationField::kFramework))
          continue;
        for (const std::string& precision : precisions) {
          Configuration c;
          c.hardware = seen.spelling;
          c.num_gpus = num_gpus;
          c.framework = framework;
          c.model = request.model;
          c.precision = precision;
          c.campaign = request.campaign;
          c.batch_semantics = request.batch_semantics;
          out.push_back(std::move(c));
        }
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<PlanResult> MakePlan(const PerfcastModel& model, const PriceList& server_prices,
                                    const PlanRequest& request, const PlanLimits& limits) {
  if (absl::Status valid = ValidatePlanRequest(request, limits); !valid.ok()) return valid;
  const Catalogue* catalogue = model.catalogue();
  const std::vector<int> batch_sizes = PlanBatchSizes(request);
  // Explicit candidates once each, in the order given.
  std::vector<Configuration> candidates;
  std::set<Configuration> given;
  for (const Configuration& c : request.candidates) {
    if (given.insert(c).second) candidates.push_back(c);
  }
  const bool enumerated = candidates.empty();
  if (enumerated) {
    candidates = EnumerateCandidates(model, request);
    if (candidates.empty()) {
      return absl::FailedPreconditionError(
          "candidates: none given, and the filter leaves none of the hardware, GPU counts and "
          "frameworks the data know");
    }
    if (std::ssize(candidates) > limits.max_candidates) {
      return absl::ResourceExhaustedError(
          absl::StrCat("candidates: ", candidates.size(), " enumerated candidates, at most ",
                       limits.max_candidates, " (narrow them with filter or precisions)"));
    }
  }
  const int64_t points = static_cast<int64_t>(candidates.size()) *
                         static_cast<int64_t>(request.shapes.size()) *
                         static_cast<int64_t>(batch_sizes.size());
  if (points > limits.max_points) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "candidates: ", candidates.size(), " candidates x ", request.shapes.size(), " shapes x ",
        batch_sizes.size(), " batch sizes = ", points, " points, at most ", limits.max_points));
  }

  // Request shares, normalised; the demand in output tokens/s.
  // Over the largest weight first: weights that are each finite may sum to infinity.
  std::vector<WeightedShape> shapes = request.shapes;
  double largest_weight = 0;
  for (const WeightedShape& s : shapes) largest_weight = std::max(largest_weight, s.weight);
  double weight_sum = 0;
  for (WeightedShape& s : shapes) {
    s.weight /= largest_weight;
    weight_sum += s.weight;
  }
  double output_tokens_per_request = 0;
  for (WeightedShape& s : shapes) {
    s.weight /= weight_sum;
    output_tokens_per_request += s.weight * s.shape.output_tokens;
  }
  PlanResult result;
  result.demand_output_tokens_per_s = request.demand_unit == DemandUnit::kRequestsPerSecond
                                          ? request.demand * output_tokens_per_request
                                          : request.demand;

  if (absl::Status spellings = request.prices.CheckSpellings(catalogue); !spellings.ok()) {
    return FieldError("prices", spellings.message());
  }
  // Each hardware name's price once (a lookup through the catalogue walks the list).
  absl::flat_hash_map<std::string, std::optional<double>> price_by_hardware;
  for (const Configuration& c : candidates) {
    if (price_by_hardware.contains(c.hardware)) continue;
    std::optional<double> price = request.prices.Find(c.hardware, catalogue);
    if (!price) price = server_prices.Find(c.hardware, catalogue);
    price_by_hardware.emplace(c.hardware, price);
  }
  const auto price_of = [&](const Configuration& c) { return price_by_hardware.at(c.hardware); };
  if (request.ranking == PlanRanking::kCost &&
      std::none_of(candidates.begin(), candidates.end(),
                   [&](const Configuration& c) { return price_of(c).has_value(); })) {
    std::set<std::string> unpriced;
    for (const Configuration& c : candidates) unpriced.insert(c.hardware);
    return absl::FailedPreconditionError(absl::StrCat(
        "prices: no price per GPU-hour for any candidate's hardware (",
        absl::StrJoin(unpriced, ", "),
        "); give prices in the request or start the server with --prices, or rank by GPUs"));
  }

  const double level = IntervalLevelFor(request.confidence);
  const std::string bound_label = BoundLabel(request.confidence);
  // Each candidate on its own; in candidate order afterwards, so that the answer does not
  // depend on the threads.
  std::vector<CandidateOutcome> outcomes(candidates.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> stopped{false};
  const auto work = [&] {
    for (size_t c = next++; c < candidates.size() && !stopped; c = next++) {
      if (limits.should_stop && limits.should_stop()) {
        stopped = true;
        break;
      }
      Configuration configuration = candidates[c];
      if (configuration.campaign.empty()) configuration.campaign = request.campaign;
      const std::optional<double> price = price_of(configuration);
      if (request.ranking == PlanRanking::kCost && !price) {
        outcomes[c].rejected = RejectedCandidate{
            configuration, CandidateRejection::kNoPrice,
            absl::StrCat("no price per GPU-hour for hardware '", configuration.hardware, "'")};
        continue;
      }
      outcomes[c] =
          PlanCandidate(model, configuration, price, shapes, batch_sizes, level, bound_label,
                        request.objectives, result.demand_output_tokens_per_s);
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < limits.threads && static_cast<size_t>(t) < candidates.size(); ++t) {
    workers.emplace_back(work);
  }
  work();
  for (std::thread& worker : workers) worker.join();
  if (stopped) {
    return absl::CancelledError(absl::StrCat("plan: stopped before all ", candidates.size(),
                                             " candidates were predicted (the call was "
                                             "cancelled or ran past its deadline)"));
  }

  std::vector<PlanOption> point_plans;
  for (CandidateOutcome& outcome : outcomes) {
    if (!outcome.status.ok()) return outcome.status;
    if (outcome.option) result.options.push_back(*std::move(outcome.option));
    if (outcome.rejected) result.rejected.push_back(*std::move(outcome.rejected));
    if (outcome.point_plan) point_plans.push_back(*std::move(outcome.point_plan));
  }
  const auto ranks_before = [&](const PlanOption& a, const PlanOption& b) {
    return RanksBefore(a, b, request.ranking);
  };
  std::sort(result.options.begin(), result.options.end(), ranks_before);
  if (!point_plans.empty()) {
    result.cheapest_point_estimate =
        *std::min_element(point_plans.begin(), point_plans.end(), ranks_before);
  }
  return result;
}

}  // namespace perfcast
