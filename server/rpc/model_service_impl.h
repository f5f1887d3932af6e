#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/byte_buffer.h"
#include "perfcast/v1/perfcast.grpc.pb.h"
#include "server/rpc/service_context.h"

namespace perfcast::server {

// perfcast.v1.ModelService: benchmark intake, refit and status. Store commits run on the
// BenchmarkWriter thread and training on the RetrainWorker thread; reactions only validate,
// queue and answer (docs/SERVING.md §4). Its methods take their messages as bytes
// (server/rpc/raw_message.h says why) and admit the caller before parsing them
// (server/rpc/call_admission.h): a refused call stores and trains nothing.
class ModelServiceImpl final
    : public v1::ModelService::WithRawCallbackMethod_SubmitBenchmark<
          v1::ModelService::WithRawCallbackMethod_SubmitBenchmarks<
              v1::ModelService::WithRawCallbackMethod_Refit<
                  v1::ModelService::WithRawCallbackMethod_GetModelStatus<
                      v1::ModelService::WithRawCallbackMethod_ListModels<
                          v1::ModelService::WithRawCallbackMethod_ListConfigurations<
                              v1::ModelService::WithRawCallbackMethod_ListQuarantined<
                                  v1::ModelService::WithRawCallbackMethod_ReleaseQuarantined<
                                      v1::ModelService::WithRawCallbackMethod_DropQuarantined<
                                          v1::ModelService::Service>>>>>>>>> {
 public:
  explicit ModelServiceImpl(ServiceContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* SubmitBenchmark(grpc::CallbackServerContext* rpc,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* SubmitBenchmarks(grpc::CallbackServerContext* rpc,
                                                              grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Refit(grpc::CallbackServerContext* rpc, const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetModelStatus(grpc::CallbackServerContext* rpc,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* rpc,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListConfigurations(grpc::CallbackServerContext* rpc,
                                               const grpc::ByteBuffer* request,
                                               grpc::ByteBuffer* response) override;

  grpc::ServerUnaryReactor* ListQuarantined(grpc::CallbackServerContext* rpc,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ReleaseQuarantined(grpc::CallbackServerContext* rpc,
                                               const grpc::ByteBuffer* request,
                                               grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DropQuarantined(grpc::CallbackServerContext* rpc,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;

  // The quarantine (quarantine_gate.h): list oldest first (page token: the last id shown),
  // release (the results count as new for the retrain worker) and drop, by id.
  static absl::Status DoListQuarantined(const ServiceContext& context,
                                        const v1::ListQuarantinedRequest& request,
                                        v1::ListQuarantinedResponse* response);
  static absl::Status DoReleaseQuarantined(const ServiceContext& context,
                                           const v1::ReleaseQuarantinedRequest& request,
                                           v1::ReleaseQuarantinedResponse* response);
  static absl::Status DoDropQuarantined(const ServiceContext& context,
                                        const v1::DropQuarantinedRequest& request,
                                        v1::DropQuarantinedResponse* response);

  static absl::Status DoGetModelStatus(const ServiceContext& context,
                                       const v1::GetModelStatusRequest& request,
                                       v1::GetModelStatusResponse* response);
  static absl::Status DoListModels(const v1::ListModelsRequest& request,
                                   v1::ListModelsResponse* response);
  static absl::Status DoListConfigurations(const ServiceContext& context,
                                           const v1::ListConfigurationsRequest& request,
                                           v1::ListConfigurationsResponse* response);

 private:
  ServiceContext* const context_;
};

}  // namespace perfcast::server
