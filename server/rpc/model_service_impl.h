#pragma once

#include "absl/status/status.h"
#include "perfcast/v1/perfcast.grpc.pb.h"
#include "server/rpc/service_context.h"

namespace perfcast::server {

// perfcast.v1.ModelService: benchmark intake, refit and status. Store commits run on the
// BenchmarkWriter thread and training on the RetrainWorker thread; reactions only validate,
// queue and answer (docs/SERVING.md §4).
class ModelServiceImpl final : public v1::ModelService::CallbackService {
 public:
  explicit ModelServiceImpl(ServiceContext* context) : context_(context) {}

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

  static absl::Status DoGetModelStatus(const ServiceContext& context,
                                       const v1::GetModelStatusRequest& request,
                                       v1::GetModelStatusResponse* response);
  static absl::Status DoListConfigurations(const ServiceContext& context,
                                           const v1::ListConfigurationsRequest& request,
                                           v1::ListConfigurationsResponse* response);

 private:
  ServiceContext* const context_;
};

}  // namespace perfcast::server
