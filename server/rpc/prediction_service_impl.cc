#include "server/rpc/prediction_service_impl.h"

#include <chrono>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "core/plan/planner.h"
#include "proto/convert/configuration_conversion.h"
#include "proto/convert/plan_conversion.h"
#include "proto/convert/prediction_conversion.h"
#include "server/observability/log_format.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/raw_message.h"

namespace perfcast::server {
namespace {

absl::Status InvalidArgument(const FieldError& error) {
  return absl::InvalidArgumentError(error.message);
}

// Core errors on input the server already validated are the server's fault, except the
// argument errors core owns (e.g. a batch size it cannot extrapolate to).
absl::Status FromCore(const absl::Status& status, absl::string_view path) {
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", status.message()));
  }
  // A hardware or model that neither the training data nor the catalogue knows.
  if (status.code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat(path, ".configuration: ", status.message()));
  }
  return status;
}

// INTERNAL when a point that is about to leave the server is not a usable number: a throughput
// that is not finite and > 0, a bound that is not finite, or a batch latency that is not finite
// and > 0 (a huge throughput makes it round to 0). A model trained on a wild stored value can
// produce one; a client must never plan with it.
absl::Status CheckPredictionUsable(const v1::Prediction& prediction, absl::string_view path,
                                   int64_t version) {
  for (int j = 0; j < prediction.points_size(); ++j) {
    const v1::CurvePoint& p = prediction.points(j);
    // A point that does not fit in memory has no throughput by design (all zeros).
    if (p.memory_fit() == v1::MEMORY_FIT_DOES_NOT_FIT) continue;
    const bool usable = std::isfinite(p.throughput_tokens_per_second()) &&
                        p.throughput_tokens_per_second() > 0 &&
                        std::isfinite(p.throughput_lower_tokens_per_second()) &&
                        std::isfinite(p.throughput_upper_tokens_per_second()) &&
                        std::isfinite(p.batch_latency_seconds()) && p.batch_latency_seconds() > 0;
    if (!usable) {
      return absl::InternalError(absl::StrCat(
          path, ".batch_sizes[", j, "]=", p.batch_size(), ": model version ", version,
          " predicted throughput ", p.throughput_tokens_per_second(), " tokens/s (interval ",
          p.throughput_lower_tokens_per_second(), " to ", p.throughput_upper_tokens_per_second(),
          "), batch latency ", p.batch_latency_seconds(),
          " s: not a usable prediction, withheld; the store likely holds an implausible result "
          "for this configuration"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PredictionServiceImpl::DoPredict(const ServiceContext& context,
                                              const v1::PredictRequest& request,
                                              v1::PredictResponse* response) {
  const int count = request.queries_size();
  if (count == 0) return absl::InvalidArgumentError("queries: must not be empty");
  if (count > context.limits.max_queries_per_request) {
    return absl::ResourceExhaustedError(
        absl::StrCat("queries: ", count, " queries in one request, at most ",
                     context.limits.max_queries_per_request, " (split the request)"));
  }
  std::vector<ValidatedQuery> queries(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    if (auto error = ValidateQuery(request.queries(i), absl::StrCat("queries[", i, "]"),
                                   context.limits, &queries[static_cast<size_t>(i)])) {
      return InvalidArgument(*error);
    }
  }
  absl::StatusOr<std::shared_ptr<const ServingModel>> serving =
      ResolveModel(context, request.model_spec());
  if (!serving.ok()) return serving.status();
  const PerfcastModel& model = *(*serving)->model;

  response->mutable_predictions()->Reserve(count);
  for (int i = 0; i < count; ++i) {
    const ValidatedQuery& q = queries[static_cast<size_t>(i)];
    absl::StatusOr<std::vector<PointPrediction>> points =
        model.Predict(q.query, q.batch_sizes, q.confidence_level);
    if (!points.ok()) return FromCore(points.status(), absl::StrCat("queries[", i, "]"));
    v1::Prediction* prediction = response->add_predictions();
    const PredictionCase least_supported =
        PredictionToProto(*points, q.confidence_level, prediction);
    for (const std::string& name : model.UnseenNames(q.query.configuration)) {
      prediction->add_unseen_names(name);
    }
    if (absl::Status usable = CheckPredictionUsable(*prediction, absl::StrCat("queries[", i, "]"),
                                                    (*serving)->version);
        !usable.ok()) {
      spdlog::warn("event=prediction_withheld status=\"{}\"", usable.message());
      return usable;
    }
    context.metrics->QueryAnswered(least_supported);
  }
  response->set_model_version((*serving)->version);
  return absl::OkStatus();
}

absl::Status PredictionServiceImpl::DoUncertainty(const ServiceContext& context,
                                                  const v1::UncertaintyRequest& request,
                                                  v1::UncertaintyResponse* response) {
  if (!request.has_query()) return absl::InvalidArgumentError("query: must be set");
  v1::Query query = request.query();
  if (query.batch_sizes_size() == 0) query.add_batch_sizes(1);
  if (query.batch_sizes_size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("query.batch_sizes: ", query.batch_sizes_size(),
                                                   " entries, Uncertainty takes one"));
  }
  ValidatedQuery validated;
  if (auto error = ValidateQuery(query, "query", context.limits, &validated)) {
    return InvalidArgument(*error);
  }
  int neighbor_count = request.neighbor_count();
  if (neighbor_count < 0 || neighbor_count > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("neighbor_count=", neighbor_count, ": must be in [0, 100]"));
  }
  if (neighbor_count == 0) neighbor_count = 5;
  absl::StatusOr<std::shared_ptr<const ServingModel>> serving =
      ResolveModel(context, request.model_spec());
  if (!serving.ok()) return serving.status();
  absl::StatusOr<UncertaintyReport> report =
      (*serving)->model->Explain(validated.query, validated.batch_sizes[0], neighbor_count);
  if (!report.ok()) return FromCore(report.status(), "query");
  UncertaintyToProto(*report, response);
  if (const Catalogue* catalogue = (*serving)->model->catalogue(); catalogue != nullptr) {
    CatalogueEntriesToProto(catalogue->EntryNamesOf(validated.query.configuration),
                            response->mutable_catalogue_entries());
  }
  response->set_model_version((*serving)->version);
  return absl::OkStatus();
}

namespace {

constexpr int kDefaultPlanPageSize = 20;
constexpr int kMaxPlanPageSize = 1000;

// The request without its paging fields, as a number: a page token is only good for the
// request that made it. FNV-1a over the serialized message, which has no map fields and so one
// encoding, is the same in every replica (absl::Hash is seeded per process).
uint64_t PlanRequestFingerprint(v1::PlanRequest request) {
  request.clear_page_size();
  request.clear_page_token();
  // The token names the model version itself: pinning it on later pages is the same request.
  request.clear_model_spec();
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char byte : request.SerializeAsString()) {
    hash = (hash ^ byte) * 1099511628211ull;
  }
  return hash;
}

// "<model version>:<request fingerprint>:<first option>": only good for the model version that
// made it (another may rank the options differently) and for the same request.
std::string PlanPageToken(int64_t version, uint64_t fingerprint, size_t first) {
  return absl::StrCat(version, ":", absl::Hex(fingerprint), ":", first);
}

absl::StatusOr<size_t> FirstOptionOf(absl::string_view token, int64_t version,
                                     uint64_t fingerprint) {
  if (token.empty()) return 0;
  std::vector<absl::string_view> parts = absl::StrSplit(token, ':');
  int64_t token_version = 0;
  uint64_t token_fingerprint = 0;
  uint64_t first = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &token_version) ||
      !absl::SimpleHexAtoi(parts[1], &token_fingerprint) || !absl::SimpleAtoi(parts[2], &first) ||
      first == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: '", token, "' is not a token this server gave"));
  }
  if (token_version != version) {
    return absl::FailedPreconditionError(absl::StrCat("page_token: made by model version ",
                                                      token_version, ", now version ", version,
                                                      " serves; ask again without a page_token"));
  }
  if (token_fingerprint != fingerprint) {
    return absl::InvalidArgumentError(
        "page_token: made for another request; page with the request that gave it");
  }
  return static_cast<size_t>(first);
}

}  // namespace

absl::Status PredictionServiceImpl::DoPlan(const ServiceContext& context,
                                           const v1::PlanRequest& request,
                                           v1::PlanResponse* response,
                                           std::function<bool()> should_stop) {
  PlanRequest plan;
  if (auto error = PlanRequestFromProto(request, &plan)) return InvalidArgument(*error);
  int page_size = request.page_size();
  if (page_size < 0 || page_size > kMaxPlanPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size=", page_size, ": must be in [0, ", kMaxPlanPageSize, "]"));
  }
  if (page_size == 0) page_size = kDefaultPlanPageSize;
  if (absl::Status valid = ValidatePlanRequest(plan, context.plan_limits); !valid.ok()) {
    return valid;
  }
  absl::StatusOr<std::shared_ptr<const ServingModel>> serving =
      ResolveModel(context, request.model_spec());
  if (!serving.ok()) return serving.status();
  const uint64_t fingerprint = PlanRequestFingerprint(request);
  absl::StatusOr<size_t> first =
      FirstOptionOf(request.page_token(), (*serving)->version, fingerprint);
  if (!first.ok()) return first.status();
  static const PriceList kNoPrices;
  PlanLimits limits = context.plan_limits;
  limits.should_stop = std::move(should_stop);
  absl::StatusOr<PlanResult> result = MakePlan(
      *(*serving)->model, context.prices != nullptr ? *context.prices : kNoPrices, plan, limits);
  if (!result.ok()) return result.status();
  if (*first >= result->options.size() && *first > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: option ", *first, " of ", result->options.size()));
  }
  PlanResultToProto(*result, *first, static_cast<size_t>(page_size), response);
  const size_t next = *first + static_cast<size_t>(page_size);
  if (next < result->options.size()) {
    response->set_next_page_token(PlanPageToken((*serving)->version, fingerprint, next));
  }
  response->set_confidence(plan.confidence);
  response->set_model_version((*serving)->version);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* PredictionServiceImpl::Plan(grpc::CallbackServerContext* rpc,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeUnary<v1::PlanRequest, v1::PlanResponse>(
      context_, rpc, RpcMethod::kPlan, *request, response,
      [this, rpc](const v1::PlanRequest& r, v1::PlanResponse* out) {
        // A cancelled call, or one past its deadline, stops between candidates.
        return DoPlan(*context_, r, out, [rpc] {
          return rpc->IsCancelled() || std::chrono::system_clock::now() > rpc->deadline();
        });
      });
}

grpc::ServerUnaryReactor* PredictionServiceImpl::Predict(grpc::CallbackServerContext* rpc,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return ServeUnary<v1::PredictRequest, v1::PredictResponse>(
      context_, rpc, RpcMethod::kPredict, *request, response,
      [this](const v1::PredictRequest& r, v1::PredictResponse* out) {
        return DoPredict(*context_, r, out);
      });
}

grpc::ServerUnaryReactor* PredictionServiceImpl::Uncertainty(grpc::CallbackServerContext* rpc,
                                                             const grpc::ByteBuffer* request,
                                                             grpc::ByteBuffer* response) {
  return ServeUnary<v1::UncertaintyRequest, v1::UncertaintyResponse>(
      context_, rpc, RpcMethod::kUncertainty, *request, response,
      [this](const v1::UncertaintyRequest& r, v1::UncertaintyResponse* out) {
        return DoUncertainty(*context_, r, out);
      });
}

}  // namespace perfcast::server
