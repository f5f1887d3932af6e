#include "proto/convert/plan_conversion.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/convert/configuration_conversion.h"
#include "proto/convert/prediction_conversion.h"

namespace perfcast {

std::optional<FieldError> PlanRequestFromProto(const v1::PlanRequest& request, PlanRequest* out) {
  if (auto e = CheckString("", "model", request.model())) return e;
  out->model = request.model();
  for (int i = 0; i < request.precisions_size(); ++i) {
    if (auto e = CheckString("", absl::StrCat("precisions[", i, "]"), request.precisions(i))) {
      return e;
    }
    out->precisions.push_back(request.precisions(i));
  }
  for (int i = 0; i < request.shapes_size(); ++i) {
    const v1::RequestShape& shape = request.shapes(i);
    const std::string path = absl::StrCat("shapes[", i, "]");
    if (auto e = CheckRange(path, "input_tokens", shape.input_tokens(), kMaxTokens)) return e;
    if (auto e = CheckRange(path, "output_tokens", shape.output_tokens(), kMaxTokens)) return e;
    WeightedShape weighted{Shape{shape.input_tokens(), shape.output_tokens()}, 1};
    if (shape.has_weight()) {
      if (auto e = CheckPositiveFinite(path, "weight", shape.weight())) return e;
      weighted.weight = shape.weight();
    }
    out->shapes.push_back(weighted);
  }
  switch (request.demand_case()) {
    case v1::PlanRequest::kRequestsPerSecond:
      out->demand = request.requests_per_second();
      out->demand_unit = DemandUnit::kRequestsPerSecond;
      break;
    case v1::PlanRequest::kOutputTokensPerSecond:
      out->demand = request.output_tokens_per_second();
      out->demand_unit = DemandUnit::kOutputTokensPerSecond;
      break;
    case v1::PlanRequest::DEMAND_NOT_SET:
      return MakeFieldError("", "demand", ": set requests_per_second or output_tokens_per_second",
                            "field_missing");
  }
  const v1::LatencyObjectives& slo = request.slo();
  if (slo.has_ttft_seconds()) out->objectives.ttft_s = slo.ttft_seconds();
  if (slo.has_itl_seconds()) out->objectives.itl_s = slo.itl_seconds();
  if (slo.has_batch_latency_seconds()) {
    out->objectives.batch_latency_s = slo.batch_latency_seconds();
  }
  out->confidence = request.has_confidence() ? request.confidence() : 0.9;
  for (int i = 0; i < request.candidates_size(); ++i) {
    Configuration configuration;
    if (auto e = ConfigurationMessageFromProto(
            request.candidates(i), absl::StrCat("candidates[", i, "]"), &configuration)) {
      return e;
    }
    out->candidates.push_back(std::move(configuration));
  }
  for (int i = 0; i < request.filter().hardware_size(); ++i) {
    const std::string& name = request.filter().hardware(i);
    if (auto e = CheckString("filter", absl::StrCat("hardware[", i, "]"), name)) return e;
    out->filter.hardware.push_back(name);
  }
  for (int i = 0; i < request.filter().frameworks_size(); ++i) {
    const std::string& name = request.filter().frameworks(i);
    if (auto e = CheckString("filter", absl::StrCat("frameworks[", i, "]"), name)) return e;
    out->filter.frameworks.push_back(name);
  }
  out->filter.max_gpu_count = request.filter().max_gpu_count();
  out->batch_sizes.assign(request.batch_sizes().begin(), request.batch_sizes().end());
  const std::optional<BatchSemantics> semantics =
      BatchSemanticsFromProto(request.batch_semantics());
  if (!semantics) {
    return MakeFieldError("", "batch_semantics",
                          absl::StrCat("=", request.batch_semantics(), ": not a known value"),
                          "out_of_range");
  }
  out->batch_semantics = *semantics;
  if (request.has_campaign()) {
    if (auto e = CheckString("", "campaign", request.campaign(), kMaxCampaignBytes)) return e;
    out->campaign = request.campaign();
  }
  std::vector<PriceList::Entry> prices;
  for (int i = 0; i < request.prices_size(); ++i) {
    const v1::HardwarePrice& price = request.prices(i);
    const std::string path = absl::StrCat("prices[", i, "]");
    if (auto e = CheckString(path, "hardware", price.hardware())) return e;
    if (auto e = CheckPositiveFinite(path, "usd_per_gpu_hour", price.usd_per_gpu_hour())) {
      return e;
    }
    prices.push_back({price.hardware(), price.usd_per_gpu_hour()});
  }
  absl::StatusOr<PriceList> price_list = PriceList::FromEntries(prices);
  if (!price_list.ok()) {
    // Only a hardware priced twice is left to find; the message names "entries[i]".
    return MakeFieldError("", "prices", absl::StrCat(": ", price_list.status().message()),
                          "duplicate");
  }
  out->prices = *std::move(price_list);
  switch (request.ranking()) {
    case v1::PLAN_RANKING_UNSPECIFIED:
    case v1::PLAN_RANKING_COST:
      out->ranking = PlanRanking::kCost;
      break;
    case v1::PLAN_RANKING_GPUS:
      out->ranking = PlanRanking::kGpus;
      break;
    default:
      return MakeFieldError("", "ranking",
                            absl::StrCat("=", request.ranking(), ": not a known value"),
                            "out_of_range");
  }
  return std::nullopt;
}

v1::CandidateRejection CandidateRejectionToProto(CandidateRejection rejection) {
  switch (rejection) {
    case CandidateRejection::kDoesNotFit:
      return v1::CANDIDATE_REJECTION_DOES_NOT_FIT;
    case CandidateRejection::kMissesTtft:
      return v1::CANDIDATE_REJECTION_MISSES_TTFT;
    case CandidateRejection::kMissesItl:
      return v1::CANDIDATE_REJECTION_MISSES_ITL;
    case CandidateRejection::kMissesBatchLatency:
      return v1::CANDIDATE_REJECTION_MISSES_BATCH_LATENCY;
    case CandidateRejection::kNoLatencyPrediction:
      return v1::CANDIDATE_REJECTION_NO_LATENCY_PREDICTION;
    case CandidateRejection::kNoPrice:
      return v1::CANDIDATE_REJECTION_NO_PRICE;
    case CandidateRejection::kUnknownConfiguration:
      return v1::CANDIDATE_REJECTION_UNKNOWN_CONFIGURATION;
    case CandidateRejection::kTooManyReplicas:
      return v1::CANDIDATE_REJECTION_TOO_MANY_REPLICAS;
  }
  return v1::CANDIDATE_REJECTION_UNSPECIFIED;
}

void OperatingPointToProto(const OperatingPoint& point, v1::OperatingPoint* out) {
  out->set_batch_size(point.batch_size);
  out->set_replicas(point.replicas);
  out->set_tokens_per_second_per_replica(point.tokens_per_s_per_replica);
  if (point.ttft_s) out->set_ttft_seconds(*point.ttft_s);
  if (point.itl_s) out->set_itl_seconds(*point.itl_s);
  out->set_batch_latency_seconds(point.batch_latency_s);
  out->set_cost_per_hour(point.cost_per_hour);
}

void PlanOptionToProto(const PlanOption& option, v1::PlanOption* out) {
  ConfigurationToProto(option.configuration, out->mutable_configuration());
  OperatingPointToProto(option.planned, out->mutable_planned());
  if (option.point_estimate) {
    OperatingPointToProto(*option.point_estimate, out->mutable_point_estimate());
  }
  out->set_predicted_tokens_per_second_per_replica(option.point_tokens_per_s_per_replica);
  if (option.usd_per_gpu_hour) out->set_usd_per_gpu_hour(*option.usd_per_gpu_hour);
  out->set_total_gpus(option.total_gpus);
  out->set_cost_per_million_output_tokens(option.cost_per_million_output_tokens);
  out->set_memory_fit(MemoryVerdictToProto(option.memory.verdict));
  out->set_memory_fit_reason(option.memory.reason);
  out->set_prediction_case(PredictionCaseToProto(option.prediction_case));
  out->set_expected_relative_error(option.expected_relative_error);
}

void PlanResultToProto(const PlanResult& result, size_t first, size_t count,
                       v1::PlanResponse* out) {
  const size_t end = std::min(result.options.size(), first + count);
  for (size_t i = std::min(first, end); i < end; ++i) {
    PlanOptionToProto(result.options[i], out->add_options());
  }
  if (first == 0) {
    for (const RejectedCandidate& rejected : result.rejected) {
      v1::RejectedCandidate* r = out->add_rejected();
      ConfigurationToProto(rejected.configuration, r->mutable_configuration());
      r->set_reason(CandidateRejectionToProto(rejected.reason));
      r->set_detail(rejected.detail);
    }
  }
  out->set_total_options(static_cast<int32_t>(result.options.size()));
  out->set_demand_output_tokens_per_second(result.demand_output_tokens_per_s);
  if (result.cheapest_point_estimate) {
    PlanOptionToProto(*result.cheapest_point_estimate, out->mutable_cheapest_point_estimate());
  }
}

}  // namespace perfcast
