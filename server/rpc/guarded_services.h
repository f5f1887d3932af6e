#pragma once

#include "perfcast/v1/perfcast.grpc.pb.h"
#include "server/rpc/model_service_impl.h"
#include "server/rpc/prediction_service_impl.h"
#include "server/rpc/service_context.h"

namespace perfcast::server {

// The services as the network sees them: every call is authorized first (call_admission.h),
// refits and single results are rate limited per caller, and only then does the service
// implementation run. A refused call never reaches it, so nothing is stored or trained for it.
// Streams are limited chunk by chunk inside ModelServiceImpl, which alone sees the chunks.
//
// Thread safety: as the implementations they wrap; they and `context` must outlive these.
class GuardedPredictionService final : public v1::PredictionService::CallbackService {
 public:
  GuardedPredictionService(ServiceContext* context, PredictionServiceImpl* impl)
      : context_(context), impl_(impl) {}

  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* rpc,
                                    const v1::PredictRequest* request,
                                    v1::PredictResponse* response) override;
  grpc::ServerUnaryReactor* Uncertainty(grpc::CallbackServerContext* rpc,
                                        const v1::UncertaintyRequest* request,
                                        v1::UncertaintyResponse* response) override;

 private:
  ServiceContext* const context_;
  PredictionServiceImpl* const impl_;
};

class GuardedModelService final : public v1::ModelService::CallbackService {
 public:
  GuardedModelService(ServiceContext* context, ModelServiceImpl* impl)
      : context_(context), impl_(impl) {}

  grpc::ServerUnaryReactor* SubmitBenchmark(grpc::CallbackServerContext* rpc,
                                            const v1::SubmitBenchmarkRequest* request,
                                            v1::SubmitBenchmarkResponse* response) override;
  grpc::ServerReadReactor<v1::SubmitBenchmarksRequest>* SubmitBenchmarks(
      grpc::CallbackServerContext* rpc, v1::SubmitBenchmarksResponse* response) override;
  grpc::ServerUnaryReactor* Refit(grpc::CallbackServerContext* rpc, const v1::RefitRequest* request,
                                  v1::RefitResponse* response) override;
  grpc::ServerUnaryReactor* GetModelStatus(grpc::CallbackServerContext* rpc,
                                           const v1::GetModelStatusRequest* request,
                                           v1::GetModelStatusResponse* response) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* rpc,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* ListConfigurations(grpc::CallbackServerContext* rpc,
                                               const v1::ListConfigurationsRequest* request,
                                               v1::ListConfigurationsResponse* response) override;

 private:
  ServiceContext* const context_;
  ModelServiceImpl* const impl_;
};

}  // namespace perfcast::server
