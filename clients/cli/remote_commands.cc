#include "clients/cli/remote_commands.h"

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "perfcast/v1/perfcast.grpc.pb.h"

namespace perfcast {
namespace {

absl::Status FromGrpc(const grpc::Status& status, const std::string& server_address) {
  if (status.ok()) return absl::OkStatus();
  std::string message = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    message = absl::StrCat(server_address, ": ", message);
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), message);
}

void SetDeadline(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(timeout));
}

absl::Status PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (auto s = google::protobuf::util::MessageToJsonString(message, &json, options); !s.ok()) {
    return absl::InternalError(absl::StrCat("cannot print JSON: ", s.ToString()));
  }
  out << json;
  if (json.empty() || json.back() != '\n') out << '\n';
  return absl::OkStatus();
}

absl::string_view CaseName(v1::PredictionCase prediction_case) {
  switch (prediction_case) {
    case v1::PREDICTION_CASE_MEASURED:
      return "measured";
    case v1::PREDICTION_CASE_INTERPOLATED:
      return "interpolated";
    case v1::PREDICTION_CASE_EXTRAPOLATED_SHAPE:
      return "extrapolated_shape";
    case v1::PREDICTION_CASE_EXTRAPOLATED_BATCH:
      return "extrapolated_batch";
    case v1::PREDICTION_CASE_NEW_CONFIGURATION:
      return "new_configuration";
    default:
      return "unspecified";
  }
}

std::string StateName(v1::ModelVersionStatus::State state) {
  switch (state) {
    case v1::ModelVersionStatus::STATE_AVAILABLE:
      return "AVAILABLE";
    case v1::ModelVersionStatus::STATE_FAILED:
      return "FAILED";
    case v1::ModelVersionStatus::STATE_END:
      return "END";
    case v1::ModelVersionStatus::STATE_LOADING:
      return "LOADING";
    default:
      return "UNSPECIFIED";
  }
}

}  // namespace

absl::Status RemotePredict(const std::string& server_address, const PredictionQuery& query,
                           const std::vector<int>& batch_sizes, double confidence_level,
                           bool json, std::ostream& out, absl::Duration timeout) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(server_address, grpc::InsecureChannelCredentials());
  std::unique_ptr<v1::PredictionService::Stub> stub = v1::PredictionService::NewStub(channel);

  v1::PredictRequest request;
  v1::Query* q = request.add_queries();
  v1::Configuration* c = q->mutable_configuration();
  c->set_hardware(query.configuration.hardware);
  c->set_gpu_count(query.configuration.num_gpus);
  c->set_framework(query.configuration.framework);
  c->set_model(query.configuration.model);
  c->set_precision(query.configuration.precision);
  q->set_input_tokens(query.shape.input_tokens);
  q->set_output_tokens(query.shape.output_tokens);
  for (int b : batch_sizes) q->add_batch_sizes(b);
  q->set_confidence_level(confidence_level);

  v1::PredictResponse response;
  grpc::ClientContext context;
  SetDeadline(&context, timeout);
  if (absl::Status s = FromGrpc(stub->Predict(&context, request, &response), server_address);
      !s.ok()) {
    return s;
  }
  if (json) return PrintJson(response, out);
  if (response.predictions_size() != 1) {
    return absl::InternalError(absl::StrCat("server answered ", response.predictions_size(),
                                            " predictions for 1 query"));
  }
  const v1::Prediction& p = response.predictions(0);
  out << absl::StrFormat("%s  in=%d out=%d  model_version=%d  case=%s  interval=%.0f%%\n",
                         query.configuration.ToString(), query.shape.input_tokens,
                         query.shape.output_tokens, response.model_version(),
                         CaseName(p.prediction_case()), 100 * p.confidence_level());
  out << absl::StrFormat("%10s %16s %16s %16s %16s  %s\n", "batch", "tokens_per_s", "lower",
                         "upper", "batch_latency_s", "case");
  for (const v1::CurvePoint& point : p.points()) {
    out << absl::StrFormat("%10d %16.1f %16.1f %16.1f %16.3f  %s\n", point.batch_size(),
                           point.throughput_tokens_per_second(),
                           point.throughput_lower_tokens_per_second(),
                           point.throughput_upper_tokens_per_second(),
                           point.batch_latency_seconds(), CaseName(point.prediction_case()));
  }
  return absl::OkStatus();
}

absl::Status RemoteModelStatus(const std::string& server_address, bool json, std::ostream& out,
                               absl::Duration timeout) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(server_address, grpc::InsecureChannelCredentials());
  std::unique_ptr<v1::ModelService::Stub> stub = v1::ModelService::NewStub(channel);
  v1::GetModelStatusRequest request;
  v1::GetModelStatusResponse response;
  grpc::ClientContext context;
  SetDeadline(&context, timeout);
  if (absl::Status s =
          FromGrpc(stub->GetModelStatus(&context, request, &response), server_address);
      !s.ok()) {
    return s;
  }
  if (json) return PrintJson(response, out);
  out << absl::StrFormat("stored results: %d (since last refit: %d)\n",
                         response.stored_result_count(), response.results_since_refit_count());
  out << absl::StrFormat("%8s %10s %10s %8s %12s %14s\n", "version", "state", "points",
                         "configs", "train_s", "live_median_err");
  for (const v1::ModelVersionStatus& v : response.model_version_statuses()) {
    out << absl::StrFormat("%8d %10s %10d %8d %12.2f %14.3f%s\n", v.version(),
                           StateName(v.state()), v.training_point_count(),
                           v.configuration_count(),
                           static_cast<double>(v.training_duration().seconds()) +
                               1e-9 * v.training_duration().nanos(),
                           v.holdout_median_relative_error(),
                           v.error_message().empty() ? "" : "  " + v.error_message());
  }
  return absl::OkStatus();
}

}  // namespace perfcast
