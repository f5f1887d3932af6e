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
// sees it, through ServiceContext's authorizer and limiters (null: open, unlimited).

// The caller of `rpc` if it may call `method` (Authorizer::Authorize).
absl::StatusOr<Caller> AuthorizeCall(const ServiceContext& context,
                                     const grpc::ServerContextBase& rpc, RpcMethod method);

// The name results and refits are counted under; the peer host when the caller is unknown.
std::string CallerName(const ServiceContext& context, const grpc::ServerContextBase& rpc);

// Takes `results` from the caller's results-per-second budget, or ResourceExhausted.
absl::Status AdmitResults(const ServiceContext& context, const std::string& caller,
                          int64_t results);

// Takes one refit from the caller's refits-per-minute budget, or ResourceExhausted.
absl::Status AdmitRefit(const ServiceContext& context, const std::string& caller);

}  // namespace perfcast::server
