#include "server/rpc/guarded_services.h"

#include "server/rpc/call_admission.h"
#include "server/rpc/grpc_status.h"

namespace perfcast::server {
namespace {

// Ends a refused unary call as the services end theirs: counted by method and code.
grpc::ServerUnaryReactor* Refuse(ServiceContext* context, grpc::CallbackServerContext* rpc,
                                 RpcMethod method, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = rpc->DefaultReactor();
  FinishUnary(context, reactor, context->metrics->StartRpc(method), status);
  return reactor;
}

// A refused stream: finished before its first read, so no chunk is ever taken in.
class RefusedStream final : public grpc::ServerReadReactor<v1::SubmitBenchmarksRequest> {
 public:
  RefusedStream(ServiceContext* context, const absl::Status& status) {
    const ServerMetrics::RpcTimer timer = context->metrics->StartRpc(RpcMethod::kSubmitBenchmarks);
    LogFailure(RpcMethod::kSubmitBenchmarks, status);
    context->metrics->FinishRpc(timer, status.code());
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerUnaryReactor* GuardedPredictionService::Predict(grpc::CallbackServerContext* rpc,
                                                            const v1::PredictRequest* request,
                                                            v1::PredictResponse* response) {
  absl::StatusOr<Caller> caller = AuthorizeCall(*context_, *rpc, RpcMethod::kPredict);
  if (!caller.ok()) return Refuse(context_, rpc, RpcMethod::kPredict, caller.status());
  return impl_->Predict(rpc, request, response);
}

grpc::ServerUnaryReactor* GuardedPredictionService::Uncertainty(
    grpc::CallbackServerContext* rpc, const v1::UncertaintyRequest* request,
    v1::UncertaintyResponse* response) {
  absl::StatusOr<Caller> caller = AuthorizeCall(*context_, *rpc, RpcMethod::kUncertainty);
  if (!caller.ok()) return Refuse(context_, rpc, RpcMethod::kUncertainty, caller.status());
  return impl_->Uncertainty(rpc, request, response);
}

grpc::ServerUnaryReactor* GuardedModelService::SubmitBenchmark(
    grpc::CallbackServerContext* rpc, const v1::SubmitBenchmarkRequest* request,
    v1::SubmitBenchmarkResponse* response) {
  absl::StatusOr<Caller> caller = AuthorizeCall(*context_, *rpc, RpcMethod::kSubmitBenchmark);
  if (!caller.ok()) return Refuse(context_, rpc, RpcMethod::kSubmitBenchmark, caller.status());
  if (absl::Status admitted = AdmitResults(*context_, caller->name, 1); !admitted.ok()) {
    return Refuse(context_, rpc, RpcMethod::kSubmitBenchmark, admitted);
  }
  return impl_->SubmitBenchmark(rpc, request, response);
}

grpc::ServerReadReactor<v1::SubmitBenchmarksRequest>* GuardedModelService::SubmitBenchmarks(
    grpc::CallbackServerContext* rpc, v1::SubmitBenchmarksResponse* response) {
  absl::StatusOr<Caller> caller = AuthorizeCall(*context_, *rpc, RpcMethod::kSubmitBenchmarks);
  if (!caller.ok()) return new RefusedStream(context_, caller.status());
  return impl_->SubmitBenchmarks(rpc, response);
}

grpc::ServerUnaryReactor* GuardedModelService::Refit(grpc::CallbackServerContext* rpc,
                                                     const v1::RefitRequest* request,
                                                     v1::RefitResponse* response) {
  absl::StatusOr<Caller> caller = AuthorizeCall(*context_, *rpc, RpcMethod::kRefit);
  if (!caller.ok()) return Refuse(context_, rpc, RpcMethod::kRefit, caller.status());
  if (absl::Status admitted = AdmitRefit(*context_, caller->name); !admitted.ok()) {
    return Refuse(context_, rpc, RpcMethod::kRefit, admitted);
  }
  return impl_->Refit(rpc, request, response);
}

grpc::ServerUnaryReactor* GuardedModelService::GetModelStatus(
    grpc::CallbackServerContext* rpc, const v1::GetModelStatusRequest* request,
    v1::GetModelStatusResponse* response) {
  absl::StatusOr<Caller> caller = AuthorizeCall(*context_, *rpc, RpcMethod::kGetModelStatus);
  if (!caller.ok()) return Refuse(context_, rpc, RpcMethod::kGetModelStatus, caller.status());
  return impl_->GetModelStatus(rpc, request, response);
}

grpc::ServerUnaryReactor* GuardedModelService::ListModels(grpc::CallbackServerContext* rpc,
                                                          const v1::ListModelsRequest* request,
                                                          v1::ListModelsResponse* response) {
  absl::StatusOr<Caller> caller = AuthorizeCall(*context_, *rpc, RpcMethod::kListModels);
  if (!caller.ok()) return Refuse(context_, rpc, RpcMethod::kListModels, caller.status());
  return impl_->ListModels(rpc, request, response);
}

grpc::ServerUnaryReactor* GuardedModelService::ListConfigurations(
    grpc::CallbackServerContext* rpc, const v1::ListConfigurationsRequest* request,
    v1::ListConfigurationsResponse* response) {
  absl::StatusOr<Caller> caller = AuthorizeCall(*context_, *rpc, RpcMethod::kListConfigurations);
  if (!caller.ok()) return Refuse(context_, rpc, RpcMethod::kListConfigurations, caller.status());
  return impl_->ListConfigurations(rpc, request, response);
}

}  // namespace perfcast::server
