#include "core/plan/planner.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <variant>

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

// Hardware, model or framework names that mean the same thing: equal as written, ignoring case,
// or reaching one catalogue entry.
const Catalogue* CatalogueOf(const PerfcastModel& model) { return model.catalogue(); }

std::string HardwareKey(const Catalogue* catalogue, const std::string& hardware) {
  if (catalogue != nullptr) {
    if (const AcceleratorSpec* spec = catalogue->LookupAccelerator(hardware)) return spec->name;
  }
  return absl::AsciiStrToLower(hardware);
}

std::string ModelKey(const Catalogue* catalogue, const std::string& model) {
  if (catalogue != nullptr) {
    if (const ModelSpec* spec = catalogue->LookupModel(model)) return spec->name;
  }
  return absl::AsciiStrToLower(model);
}

std::string PrecisionKey(const Catalogue* catalogue, const std::string& precision) {
  if (catalogue != nullptr) {
    if (const PrecisionSpec* spec = catalogue->LookupPrecision(precision)) return spec->name;
  }
  return absl::AsciiStrToLower(precision);
}

std::string FrameworkKey(const Catalogue* catalogue, const std::string& framework) {
  if (catalogue != nullptr) {
    if (const FrameworkSpec* spec = catalogue->LookupFramework(framework)) return spec->name;
  }
  return absl::AsciiStrToLower(framework);
}

bool Allowed(const std::vector<std::string>& allowed, const std::string& key,
             const std::function<std::string(const std::string&)>& key_of) {
  if (allowed.empty()) return true;
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& name) { return key_of(name) == key; });
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

// The figures of a plan: how the bounds are read and what they are called in messages.
struct Reading {
  Judgement judgement = Judgement::kPessimisticBound;
  double level = 0.8;  // the two-sided level whose bound is the one-sided confidence
  std::string label;
};

Reading ReadingFor(double confidence) {
  Reading reading;
  reading.level = std::abs(2 * confidence - 1);
  // At 0.5 the one-sided bound is the prediction itself.
  if (reading.level < 1e-9) {
    reading.judgement = Judgement::kPointEstimate;
    reading.level = 0.5;
  } else if (confidence < 0.5) {
    reading.judgement = Judgement::kOptimisticBound;
  }
  reading.label = absl::StrFormat("at %g%% confidence", confidence * 100);
  return reading;
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
  if (!(request.confidence > 0 && request.confidence < 1)) {
    return FieldError("confidence", absl::StrCat(request.confidence, ": must be in (0, 1)"));
  }
  if (std::ssize(request.batch_sizes) > limits.max_batch_sizes) {
    return absl::ResourceExhaustedError(absl::StrCat("batch_sizes: ", request.batch_sizes.size(),
                                                     " operating points, at most ",
                                                     limits.max_batch_sizes));
  }
  for (size_t i = 0; i < request.batch_sizes.size(); ++i) {
    if (request.batch_sizes[i] < 1 || request.batch_sizes[i] > 65536) {
      return FieldError(absl::StrCat("batch_sizes[", i, "]"),
                        absl::StrCat(request.batch_sizes[i], ": must be in [1, 65536]"));
    }
  }
  if (request.filter.max_gpu_count < 0) {
    return FieldError("filter.max_gpu_count",
                      absl::StrCat(request.filter.max_gpu_count, ": must be >= 0 (0: no limit)"));
  }
  if (std::ssize(request.candidates) > limits.max_candidates) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "candidates: ", request.candidates.size(), " candidates, at most ", limits.max_candidates));
  }
  return absl::OkStatus();
}

std::vector<Configuration> EnumerateCandidates(const PerfcastModel& model,
                                               const PlanRequest& request) {
  const Catalogue* catalogue = CatalogueOf(model);
  const std::string wanted_model = ModelKey(catalogue, request.model);
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
    HardwareSeen& seen = hardware[HardwareKey(catalogue, c.hardware)];
    if (seen.spelling.empty()) seen.spelling = c.hardware;
    seen.gpu_counts.insert(c.num_gpus);
    const std::string framework = FrameworkKey(catalogue, c.framework);
    seen.frameworks.try_emplace(framework, c.framework);
    if (ModelKey(catalogue, c.model) == wanted_model) {
      model_frameworks.insert(framework);
      // A precision the catalogue cannot read is no candidate: its memory fit is unknown.
      if (catalogue == nullptr || catalogue->LookupPrecision(c.precision) != nullptr) {
        auto [it, inserted] =
            model_precisions.try_emplace(PrecisionKey(catalogue, c.precision), c.precision);
        if (std::make_pair(c.precision.size(), c.precision) <
            std::make_pair(it->second.size(), it->second)) {
          it->second = c.precision;
        }
      }
    }
  }
  std::vector<std::string> precisions = request.precisions;
  if (precisions.empty()) {
    for (const auto& [key, spelling] : model_precisions) precisions.push_back(spelling);
    if (precisions.empty()) precisions.push_back("fp16");
  }
  const auto hardware_key = [&](const std::string& name) { return HardwareKey(catalogue, name); };
  const auto framework_key = [&](const std::string& name) { return FrameworkKey(catalogue, name); };
  std::vector<Configuration> out;
  for (const auto& [key, seen] : hardware) {
    if (!Allowed(request.filter.hardware, key, hardware_key)) continue;
    for (int num_gpus : seen.gpu_counts) {
      if (request.filter.max_gpu_count > 0 && num_gpus > request.filter.max_gpu_count) continue;
      for (const auto& [framework_key_value, framework] : seen.frameworks) {
        // A framework the data know for the model (any framework when they know the model not).
        if (!model_frameworks.empty() && !model_frameworks.contains(framework_key_value)) continue;
        if (!Allowed(request.filter.frameworks, framework_key_value, framework_key)) continue;
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
  const Catalogue* catalogue = CatalogueOf(model);
  const std::vector<int> batch_sizes = PlanBatchSizes(request);
  std::vector<Configuration> candidates = request.candidates;
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
  std::vector<WeightedShape> shapes = request.shapes;
  double weight_sum = 0;
  for (const WeightedShape& s : shapes) weight_sum += s.weight;
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
  const auto price_of = [&](const Configuration& c) -> std::optional<double> {
    if (auto price = request.prices.Find(c.hardware, catalogue)) return price;
    return server_prices.Find(c.hardware, catalogue);
  };
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

  const Reading reading = ReadingFor(request.confidence);
  std::vector<PlanOption> point_plans;
  for (Configuration configuration : candidates) {
    if (configuration.campaign.empty()) configuration.campaign = request.campaign;
    const std::optional<double> price = price_of(configuration);
    if (request.ranking == PlanRanking::kCost && !price) {
      result.rejected.push_back(
          {configuration, CandidateRejection::kNoPrice,
           absl::StrCat("no price per GPU-hour for hardware '", configuration.hardware, "'")});
      continue;
    }
    CandidateCurves curves;
    curves.shapes = shapes;
    std::optional<absl::Status> unknown;
    for (const WeightedShape& s : shapes) {
      absl::StatusOr<std::vector<PointPrediction>> predicted =
          model.Predict({configuration, s.shape}, batch_sizes, reading.level);
      if (predicted.status().code() == absl::StatusCode::kNotFound) {
        unknown = predicted.status();
        break;
      }
      if (!predicted.ok()) return predicted.status();
      curves.points.push_back(*std::move(predicted));
    }
    if (unknown) {
      result.rejected.push_back({configuration, CandidateRejection::kUnknownConfiguration,
                                 std::string(unknown->message())});
      continue;
    }
    PlanOption option;
    option.configuration = configuration;
    option.usd_per_gpu_hour = price;
    auto point_choice =
        ChooseOperatingPoint(curves, request.objectives, result.demand_output_tokens_per_s,
                             Judgement::kPointEstimate, "predicted");
    if (const auto* point = std::get_if<OperatingPoint>(&point_choice)) {
      option.point_estimate = Priced(*point, configuration.num_gpus, price);
    }
    auto choice =
        ChooseOperatingPoint(curves, request.objectives, result.demand_output_tokens_per_s,
                             reading.judgement, reading.label);
    if (option.point_estimate) {
      PlanOption as_point_plan = option;
      as_point_plan.planned = *option.point_estimate;
      as_point_plan.total_gpus = option.point_estimate->replicas * configuration.num_gpus;
      point_plans.push_back(std::move(as_point_plan));
    }
    if (auto* rejection = std::get_if<Rejection>(&choice)) {
      result.rejected.push_back({configuration, rejection->reason, std::move(rejection->detail)});
      continue;
    }
    option.planned = Priced(std::get<OperatingPoint>(choice), configuration.num_gpus, price);
    option.total_gpus = option.planned.replicas * configuration.num_gpus;
    if (price) {
      option.cost_per_million_output_tokens =
          option.planned.cost_per_hour / (result.demand_output_tokens_per_s * 3600) * 1e6;
    }
    const size_t j = static_cast<size_t>(
        std::lower_bound(batch_sizes.begin(), batch_sizes.end(), option.planned.batch_size) -
        batch_sizes.begin());
    option.point_tokens_per_s_per_replica =
        MixTokensPerSecond(curves, j, Judgement::kPointEstimate);
    // The least supported shape speaks for the option: the most uncertain memory verdict (unknown
    // before fits), the least supported case, the largest expected error.
    option.memory = curves.points.front()[j].memory;
    option.prediction_case = curves.points.front()[j].prediction_case;
    for (const std::vector<PointPrediction>& shape_points : curves.points) {
      const PointPrediction& p = shape_points[j];
      if (p.memory.verdict == MemoryVerdict::kUnknown) option.memory = p.memory;
      option.prediction_case = std::max(option.prediction_case, p.prediction_case);
      option.expected_relative_error =
          std::max(option.expected_relative_error, p.expected_relative_error);
    }
    result.options.push_back(std::move(option));
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
