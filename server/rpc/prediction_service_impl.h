#pragma once

#include <functional>

#include "absl/status/status.h"
#include "grpcpp/support/byte_buffer.h"
#include "perfcast/v1/perfcast.grpc.pb.h"
#include "server/rpc/service_context.h"

namespace perfcast::server {

// perfcast.v1.PredictionService: validates, picks the serving model snapshot once per call and
// answers from it. Never blocks: prediction is pure computation on an immutable model. Its methods
// take their messages as bytes (server/rpc/raw_message.h says why), and ServeUnary authorizes the
// caller before parsing them (server/rpc/call_admission.h).
class PredictionServiceImpl final
    : public v1::PredictionService::WithRawCallbackMethod_Predict<
          v1::PredictionService::WithRawCallbackMethod_Uncertainty<
              v1::PredictionService::WithRawCallbackMethod_Plan<v1::PredictionService::Service>>> {
 public:
  explicit PredictionServiceImpl(ServiceContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* rpc,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Uncertainty(grpc::CallbackServerContext* rpc,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Plan(grpc::CallbackServerContext* rpc, const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* response) override;

  // The logic, without gRPC plumbing (also used by tests).
  static absl::Status DoPredict(const ServiceContext& context, const v1::PredictRequest& request,
                                v1::PredictResponse* response);
  static absl::Status DoUncertainty(const ServiceContext& context,
                                    const v1::UncertaintyRequest& request,
                                    v1::UncertaintyResponse* response);
  // `should_stop` (may be empty) is asked between candidates: a cancelled call stops there.
  static absl::Status DoPlan(const ServiceContext& context, const v1::PlanRequest& request,
                             v1::PlanResponse* response, std::function<bool()> should_stop = {});

 private:
  ServiceContext* const context_;
};

}  // namespace perfcast::server
