#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "server/observability/server_metrics.h"
#include "server/rpc/authorization.h"
#include "server/rpc/service_context.h"

namespace perfcast::server {

// Who may make a call, and how often: the checks every service call passes before its service
// acts on it, through ServiceContext's authorizer and limiters (null: open, unlimited). The
// services take their requests as bytes (raw_message.h), and admission comes first: a call is
// authorized before its body is parsed (ServeUnary; SubmitBenchmark, Refit and the
// SubmitBenchmarks stream do the same in model_service_impl.cc, the stream once, at its start),
// so a refused caller's bytes are never read into a message, let alone stored. Results and refits
// are then rate limited once the request has parsed: a single result per SubmitBenchmark, each
// stream chunk's results as it arrives, one refit per Refit.

// The caller of `rpc` if it may call `method` (Authorizer::Authorize, with the method's least
// role from authorization.h's table); Unauthenticated or PermissionDenied otherwise.
absl::StatusOr<Caller> AuthorizeCall(const ServiceContext& context,
                                     const grpc::ServerContextBase& rpc, RpcMethod method);

// Takes `results` from the caller's results-per-second budget, or ResourceExhausted.
absl::Status AdmitResults(const ServiceContext& context, const std::string& caller,
                          int64_t results);

// Takes one refit from the caller's refits-per-minute budget, or ResourceExhausted.
absl::Status AdmitRefit(const ServiceContext& context, const std::string& caller);

}  // namespace perfcast::server
