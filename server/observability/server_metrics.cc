#include "server/observability/server_metrics.h"

#include "absl/time/time.h"
#include "prometheus/family.h"

namespace perfcast::server {
namespace {

constexpr std::array<absl::string_view, 17> kGrpcCodeNames = {
    "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated"};

// The label lists are in declaration order, so a value's index is the enum's own.
template <typename Enum>
size_t IndexOf(Enum value) {
  return static_cast<size_t>(value);
}

bool IsStreaming(RpcMethod method) { return method == RpcMethod::kSubmitBenchmarks; }

}  // namespace

absl::string_view RpcServiceName(RpcMethod method) {
  switch (method) {
    case RpcMethod::kPredict:
    case RpcMethod::kUncertainty:
    case RpcMethod::kPlan:
      return "perfcast.v1.PredictionService";
    default:
      return "perfcast.v1.ModelService";
  }
}

absl::string_view RpcMethodName(RpcMethod method) {
  switch (method) {
    case RpcMethod::kPredict:
      return "Predict";
    case RpcMethod::kUncertainty:
      return "Uncertainty";
    case RpcMethod::kSubmitBenchmark:
      return "SubmitBenchmark";
    case RpcMethod::kSubmitBenchmarks:
      return "SubmitBenchmarks";
    case RpcMethod::kRefit:
      return "Refit";
    case RpcMethod::kGetModelStatus:
      return "GetModelStatus";
    case RpcMethod::kListModels:
      return "ListModels";
    case RpcMethod::kListConfigurations:
      return "ListConfigurations";
    case RpcMethod::kListQuarantined:
      return "ListQuarantined";
    case RpcMethod::kReleaseQuarantined:
      return "ReleaseQuarantined";
    case RpcMethod::kDropQuarantined:
      return "DropQuarantined";
    case RpcMethod::kPlan:
      return "Plan";
  }
  return "Unknown";
}

ServerMetrics::ServerMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  auto& started = BuildCounter()
                      .Name("grpc_server_started_total")
                      .Help("RPCs started on the server.")
                      .Register(*registry_);
  auto& handled = BuildCounter()
                      .Name("grpc_server_handled_total")
                      .Help("RPCs completed on the server, by status code.")
                      .Register(*registry_);
  auto& handling = BuildHistogram()
                       .Name("grpc_server_handling_seconds")
                       .Help("Time from the start of an RPC to its status.")
                       .Register(*registry_);
  auto& received = BuildCounter()
                       .Name("grpc_server_msg_received_total")
                       .Help("Request messages received.")
                       .Register(*registry_);
  auto& sent = BuildCounter()
                   .Name("grpc_server_msg_sent_total")
                   .Help("Response messages sent.")
                   .Register(*registry_);
  const prometheus::Histogram::BucketBoundaries rpc_buckets = {5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2e-3,
                                                               5e-3, 1e-2, 0.1,    1,    10};
  for (int m = 0; m < kRpcMethodCount; ++m) {
    const auto method = static_cast<RpcMethod>(m);
    prometheus::Labels labels = {{"grpc_type", IsStreaming(method) ? "client_stream" : "unary"},
                                 {"grpc_service", std::string(RpcServiceName(method))},
                                 {"grpc_method", std::string(RpcMethodName(method))}};
    MethodSeries& series = rpc_[m];
    series.started = &started.Add(labels);
    series.handling_seconds = &handling.Add(labels, rpc_buckets);
    series.msg_received = &received.Add(labels);
    series.msg_sent = &sent.Add(labels);
    for (size_t c = 0; c < kGrpcCodeNames.size(); ++c) {
      prometheus::Labels code_labels = labels;
      code_labels["grpc_code"] = std::string(kGrpcCodeNames[c]);
      series.handled[c] = &handled.Add(code_labels);
    }
  }

  auto& build_info = BuildGauge()
                         .Name("perfcast_build_info")
                         .Help("Always 1; labels name the build.")
                         .Register(*registry_);
  build_info.Add({{"version", "0.1.0"}, {"git_commit", "unknown"}}).Set(1);

  auto& queries = BuildCounter()
                      .Name("perfcast_predict_queries_total")
                      .Help("Queries answered by Predict, by prediction case.")
                      .Register(*registry_);
  // In PredictionCase order: QueryAnswered indexes by the enum.
  for (PredictionCase c : kPredictionCases) {
    queries_by_case_[IndexOf(c)] =
        &queries.Add({{"prediction_case", std::string(PredictionCaseName(c))}});
  }

  auto& results = BuildCounter()
                      .Name("perfcast_benchmark_results_total")
                      .Help("Submitted benchmark results, by outcome.")
                      .Register(*registry_);
  results_accepted_ = &results.Add({{"outcome", "accepted"}});
  results_duplicate_ = &results.Add({{"outcome", "duplicate"}});
  results_quarantined_ = &results.Add({{"outcome", "quarantined"}});
  results_rejected_ = &results.Add({{"outcome", "rejected"}});
  auto& rejections = BuildCounter()
                         .Name("perfcast_benchmark_rejections_total")
                         .Help("Rejected benchmark results, by reason.")
                         .Register(*registry_);
  for (RejectionReason reason : kRejectionReasons) {
    rejections_by_reason_[IndexOf(reason)] =
        &rejections.Add({{"reason", std::string(RejectionReasonName(reason))}});
  }
  stored_results_ = &BuildGauge()
                         .Name("perfcast_store_results")
                         .Help("Benchmark results in the store.")
                         .Register(*registry_)
                         .Add({});
  results_since_refit_ = &BuildGauge()
                              .Name("perfcast_results_since_refit")
                              .Help("Results stored since the last retrain started.")
                              .Register(*registry_)
                              .Add({});
  commit_seconds_ =
      &BuildHistogram()
           .Name("perfcast_store_commit_duration_seconds")
           .Help("Duration of one durable store transaction (fsync included).")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
                                                            2.5e-2, 5e-2, 0.1, 0.5, 1});
  prequential_error_ = &BuildHistogram()
                            .Name("perfcast_prequential_relative_error_ratio")
                            .Help(
                                "Serving model's relative throughput error on each new "
                                "result, measured before the result is absorbed.")
                            .Register(*registry_)
                            .Add({}, prometheus::Histogram::BucketBoundaries{
                                         0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2});
  interval_checks_ = &BuildCounter()
                          .Name("perfcast_interval_checks_total")
                          .Help("New results compared with the serving model's interval.")
                          .Register(*registry_)
                          .Add({{"confidence_level", "0.9"}});
  interval_hits_ = &BuildCounter()
                        .Name("perfcast_interval_hits_total")
                        .Help("New results that fell inside the serving model's interval.")
                        .Register(*registry_)
                        .Add({{"confidence_level", "0.9"}});
  model_version_ = &BuildGauge()
                        .Name("perfcast_model_version")
                        .Help("Model version answering now (0: none).")
                        .Register(*registry_)
                        .Add({});
  model_load_timestamp_ = &BuildGauge()
                               .Name("perfcast_model_load_timestamp_seconds")
                               .Help("Unix time of the last model swap.")
                               .Register(*registry_)
                               .Add({});
  auto& load_failures = BuildCounter()
                            .Name("perfcast_model_load_failures_total")
                            .Help("Model versions on disk that could not be loaded.")
                            .Register(*registry_);
  for (LoadFailureReason reason : kLoadFailureReasons) {
    load_failures_[IndexOf(reason)] =
        &load_failures.Add({{"reason", std::string(LoadFailureReasonName(reason))}});
  }
  auto& refits = BuildCounter()
                     .Name("perfcast_refits_total")
                     .Help("Completed retrains, by trigger and outcome.")
                     .Register(*registry_);
  for (RefitTrigger trigger : kRefitTriggers) {
    const std::string name(RefitTriggerName(trigger));
    refits_[2 * IndexOf(trigger)] = &refits.Add({{"trigger", name}, {"outcome", "success"}});
    refits_[2 * IndexOf(trigger) + 1] = &refits.Add({{"trigger", name}, {"outcome", "failure"}});
  }
  refit_seconds_ = &BuildHistogram()
                        .Name("perfcast_refit_duration_seconds")
                        .Help("Duration of one retrain (load, train, save).")
                        .Register(*registry_)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600});
  refit_in_progress_ = &BuildGauge()
                            .Name("perfcast_refit_in_progress")
                            .Help("1 while a retrain runs.")
                            .Register(*registry_)
                            .Add({});
  last_refit_success_ = &BuildGauge()
                             .Name("perfcast_last_refit_success_timestamp_seconds")
                             .Help("Unix time of the last successful retrain (0: none).")
                             .Register(*registry_)
                             .Add({});
  // For dashboards of several replicas: which one trains.
  training_leader_ =
      &BuildGauge()
           .Name("perfcast_training_leader")
           .Help("1 while this process may retrain (holds the training lock of a shared store)")
           .Register(*registry_)
           .Add({});
  training_leader_->Set(1);
}

ServerMetrics::RpcTimer ServerMetrics::StartRpc(RpcMethod method) {
  MethodSeries& series = rpc_[static_cast<int>(method)];
  series.started->Increment();
  if (!IsStreaming(method)) series.msg_received->Increment();
  return RpcTimer(method, std::chrono::steady_clock::now());
}

void ServerMetrics::MessageReceived(RpcMethod method) {
  rpc_[static_cast<int>(method)].msg_received->Increment();
}

void ServerMetrics::FinishRpc(const RpcTimer& timer, absl::StatusCode code) {
  MethodSeries& series = rpc_[static_cast<int>(timer.method_)];
  const auto elapsed = std::chrono::steady_clock::now() - timer.start_;
  series.handling_seconds->Observe(std::chrono::duration<double>(elapsed).count());
  const int c = static_cast<int>(code);
  series.handled[(c >= 0 && c < 17) ? c : 2]->Increment();
  if (code == absl::StatusCode::kOk) series.msg_sent->Increment();
}

void ServerMetrics::QueryAnswered(PredictionCase prediction_case) {
  queries_by_case_[static_cast<size_t>(prediction_case)]->Increment();
}

void ServerMetrics::ResultsAccepted(int64_t count) {
  results_accepted_->Increment(static_cast<double>(count));
}
void ServerMetrics::ResultsDuplicate(int64_t count) {
  results_duplicate_->Increment(static_cast<double>(count));
}
void ServerMetrics::ResultsQuarantined(int64_t count) {
  results_quarantined_->Increment(static_cast<double>(count));
}
void ServerMetrics::ResultRejected(RejectionReason reason) {
  results_rejected_->Increment();
  rejections_by_reason_[IndexOf(reason)]->Increment();
}
void ServerMetrics::SetStoredResults(int64_t count) {
  stored_results_->Set(static_cast<double>(count));
}
void ServerMetrics::SetResultsSinceRefit(int64_t count) {
  results_since_refit_->Set(static_cast<double>(count));
}
void ServerMetrics::ObserveCommitSeconds(double seconds) { commit_seconds_->Observe(seconds); }

void ServerMetrics::ObservePrequential(double relative_error, bool inside_interval) {
  prequential_error_->Observe(relative_error);
  interval_checks_->Increment();
  if (inside_interval) interval_hits_->Increment();
}

void ServerMetrics::ModelLoaded(int64_t version, double unix_seconds) {
  model_version_->Set(static_cast<double>(version));
  model_load_timestamp_->Set(unix_seconds);
}
void ServerMetrics::ModelLoadFailed(LoadFailureReason reason) {
  load_failures_[IndexOf(reason)]->Increment();
}
void ServerMetrics::RefitStarted() { refit_in_progress_->Set(1); }
void ServerMetrics::RefitFinished(RefitTrigger trigger, bool success, double seconds,
                                  double unix_seconds) {
  refit_in_progress_->Set(0);
  refits_[2 * IndexOf(trigger) + (success ? 0 : 1)]->Increment();
  refit_seconds_->Observe(seconds);
  if (success) last_refit_success_->Set(unix_seconds);
  refit_history_.Add(
      {absl::UnixEpoch() + absl::Seconds(unix_seconds), trigger, success, absl::Seconds(seconds)});
}
void ServerMetrics::SetTrainingLeader(bool leader) { training_leader_->Set(leader ? 1 : 0); }

}  // namespace perfcast::server
