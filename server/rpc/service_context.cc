#include "server/rpc/service_context.h"

#include "absl/strings/str_cat.h"
#include "proto/convert/model_version_conversion.h"
#include "server/observability/log_format.h"
#include "server/rpc/grpc_status.h"

namespace perfcast::server {

std::string SubmitterName(const ServiceContext& context, const Caller& caller) {
  if (context.authorizer == nullptr || context.authorizer->open()) return "";
  return caller.name;
}

absl::StatusOr<std::shared_ptr<const ServingModel>> ResolveModel(const ServiceContext& context,
                                                                 const v1::ModelSpec& spec) {
  absl::StatusOr<ModelSelection> selection = ModelSelectionFromProto(spec);
  if (!selection.ok()) return selection.status();
  std::shared_ptr<const ServingModel> current = context.registry->Current();
  if (current == nullptr) {
    if (context.starting.load()) {
      return absl::UnavailableError("the model is still loading; retry shortly");
    }
    if (context.store->count() == 0) {
      return absl::FailedPreconditionError(
          "no benchmark data yet: submit results with ModelService.SubmitBenchmarks first");
    }
    return absl::UnavailableError(
        "no model trained yet: the first training is pending (see GetModelStatus)");
  }
  if (selection->version.has_value() && *selection->version != current->version) {
    return absl::NotFoundError(absl::StrCat("model_spec.version=", *selection->version,
                                            ": not served (serving version ", current->version,
                                            ")"));
  }
  return current;
}

RejectionReason RejectionReasonOf(const FieldError& error) {
  // Validation only reports names of the enum; a name it might add before the enum learns it
  // counts as out of range rather than being lost.
  return RejectionReasonNamed(error.reason).value_or(RejectionReason::kOutOfRange);
}

void LogFailure(RpcMethod method, const absl::Status& status) {
  if (!status.ok()) {
    spdlog::debug("event=rpc_failed method={} code={} message=\"{}\"", RpcMethodName(method),
                  absl::StatusCodeToString(status.code()), status.message());
  }
}

void FinishUnary(ServiceContext* context, grpc::ServerUnaryReactor* reactor,
                 const ServerMetrics::RpcTimer& timer, const absl::Status& status) {
  LogFailure(timer.method(), status);
  context->metrics->FinishRpc(timer, status.code());
  reactor->Finish(ToGrpcStatus(status));
}

}  // namespace perfcast::server
