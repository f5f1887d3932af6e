#include "server/rpc/call_admission.h"

#include "server/rpc/caller_rate_limiter.h"

namespace perfcast::server {

absl::StatusOr<Caller> AuthorizeCall(const ServiceContext& context,
                                     const grpc::ServerContextBase& rpc, RpcMethod method) {
  if (context.authorizer == nullptr) return Caller{PeerHost(rpc.peer()), Role::kAdmin};
  return context.authorizer->Authorize(rpc, method);
}

absl::Status AdmitResults(const ServiceContext& context, const std::string& caller,
                          int64_t results) {
  if (context.result_limiter == nullptr) return absl::OkStatus();
  return context.result_limiter->Take(caller, static_cast<double>(results));
}

absl::Status AdmitRefit(const ServiceContext& context, const std::string& caller) {
  if (context.refit_limiter == nullptr) return absl::OkStatus();
  return context.refit_limiter->Take(caller, 1);
}

}  // namespace perfcast::server
