#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "core/catalogue/catalogue.h"
#include "core/plan/planner.h"
#include "core/plan/price_list.h"
#include "grpcpp/support/server_callback.h"
#include "perfcast/v1/perfcast.pb.h"
#include "proto/convert/prediction_conversion.h"
#include "server/lifecycle/model_registry.h"
#include "server/lifecycle/retrain_worker.h"
#include "server/observability/rejection_reason.h"
#include "server/observability/server_metrics.h"
#include "server/rpc/authorization.h"
#include "server/store/benchmark_store.h"
#include "server/store/benchmark_writer.h"

namespace perfcast::server {

class Authorizer;
class CallerRateLimiter;
class QuarantineGate;

// What the gRPC services share. Owned by PerfcastServer, which outlives the services; every
// member is thread-safe.
struct ServiceContext {
  BenchmarkStore* store = nullptr;
  BenchmarkWriter* writer = nullptr;
  ModelRegistry* registry = nullptr;
  RetrainWorker* worker = nullptr;
  ServerMetrics* metrics = nullptr;
  RequestLimits limits;
  int64_t max_stream_results = 100000;
  // Who may call what, and how often (call_admission.h); null: open, unlimited.
  const Authorizer* authorizer = nullptr;
  CallerRateLimiter* result_limiter = nullptr;
  CallerRateLimiter* refit_limiter = nullptr;
  // The catalogue that bounds a submitted throughput (server/rpc/plausibility.h); null: none.
  const Catalogue* catalogue = nullptr;
  // Holds back results far from their configuration's predictions (quarantine_gate.h); null: off.
  const QuarantineGate* quarantine = nullptr;
  // Whether replicas share the store: then new results (released ones too) are counted for the
  // retrain worker from the database, not by this process.
  bool shared_store = false;
  // Dollars per GPU-hour for Plan (--prices); null: none, a request brings its own.
  const PriceList* prices = nullptr;
  PlanLimits plan_limits;
  // True until startup (load, seed, first training) is over.
  std::atomic<bool> starting{true};
};

// The model a read should use: latest unless `spec` pins one. NotFound for another model name
// or a version not served; Unavailable while loading; FailedPrecondition with an empty store.
absl::StatusOr<std::shared_ptr<const ServingModel>> ResolveModel(const ServiceContext& context,
                                                                 const v1::ModelSpec& spec);

// The metric reason of a validation error, which names its reason as a string
// (FieldError::reason).
RejectionReason RejectionReasonOf(const FieldError& error);

// What a stored result records as its submitter: the caller's name under authentication, ""
// without it (the open server names callers by peer host, which says nothing lasting).
std::string SubmitterName(const ServiceContext& context, const Caller& caller);

// Logs a failed RPC at debug level (failures are the client's to see, not the operator's).
void LogFailure(RpcMethod method, const absl::Status& status);

// Ends a unary RPC: logs a failure, counts it by method and code, and finishes the reactor.
void FinishUnary(ServiceContext* context, grpc::ServerUnaryReactor* reactor,
                 const ServerMetrics::RpcTimer& timer, const absl::Status& status);

}  // namespace perfcast::server
