#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/model/prediction.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/observability/load_failure_reason.h"
#include "server/observability/refit_history.h"
#include "server/observability/refit_trigger.h"
#include "server/observability/rejection_reason.h"

namespace perfcast::server {

// The RPCs the server counts, one entry per method of perfcast.v1.
enum class RpcMethod {
  kPredict,
  kUncertainty,
  kSubmitBenchmark,
  kSubmitBenchmarks,
  kRefit,
  kGetModelStatus,
  kListModels,
  kListConfigurations,
  kListQuarantined,
  kReleaseQuarantined,
  kDropQuarantined,
  kPlan,
};
inline constexpr int kRpcMethodCount = 12;

// Every metric perfcast-server exports (docs/SERVING.md §7). All series are created in
// the constructor, so every known series is present (zero) from the first scrape and the hot
// path never takes prometheus-cpp's family mutex.
//
// Thread safety: every method may be called from any thread.
class ServerMetrics {
 public:
  ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // One RPC, from its start to its status: grpc_server_started_total, _handled_total,
  // _handling_seconds, _msg_received_total, _msg_sent_total.
  class RpcTimer {
   public:
    RpcMethod method() const { return method_; }

   private:
    friend class ServerMetrics;
    RpcTimer(RpcMethod method, std::chrono::steady_clock::time_point start)
        : method_(method), start_(start) {}
    RpcMethod method_;
    std::chrono::steady_clock::time_point start_;
  };
  RpcTimer StartRpc(RpcMethod method);
  void MessageReceived(RpcMethod method);
  void FinishRpc(const RpcTimer& timer, absl::StatusCode code);

  // Predict: one query answered, by its (least supported) prediction case.
  void QueryAnswered(PredictionCase prediction_case);

  // Benchmark intake.
  void ResultsAccepted(int64_t count);
  void ResultsDuplicate(int64_t count);
  // Stored in quarantine (outcome="quarantined"): kept, never trained on until released.
  void ResultsQuarantined(int64_t count);
  void ResultRejected(RejectionReason reason);
  void SetStoredResults(int64_t count);
  void SetResultsSinceRefit(int64_t count);
  void ObserveCommitSeconds(double seconds);

  // Prequential accuracy: the serving model's error on a result before it absorbs it.
  void ObservePrequential(double relative_error, bool inside_interval);

  // Model lifecycle.
  void ModelLoaded(int64_t version, double unix_seconds);
  void ModelLoadFailed(LoadFailureReason reason);
  void RefitStarted();
  void RefitFinished(RefitTrigger trigger, bool success, double seconds, double unix_seconds);

  // Whether this process may retrain: always with a store of its own; with a shared store, while
  // it holds the training lock. 1 until told otherwise.
  void SetTrainingLeader(bool leader);

  // The latest finished refits (RefitFinished), for the status page.
  const RefitHistory& refit_history() const { return refit_history_; }

 private:
  struct MethodSeries {
    prometheus::Counter* started = nullptr;
    std::array<prometheus::Counter*, 17> handled{};
    prometheus::Histogram* handling_seconds = nullptr;
    prometheus::Counter* msg_received = nullptr;
    prometheus::Counter* msg_sent = nullptr;
  };

  std::shared_ptr<prometheus::Registry> registry_;
  std::array<MethodSeries, kRpcMethodCount> rpc_{};

  std::array<prometheus::Counter*, 5> queries_by_case_{};
  prometheus::Counter* results_accepted_ = nullptr;
  prometheus::Counter* results_duplicate_ = nullptr;
  prometheus::Counter* results_quarantined_ = nullptr;
  prometheus::Counter* results_rejected_ = nullptr;
  std::array<prometheus::Counter*, kRejectionReasons.size()> rejections_by_reason_{};
  prometheus::Gauge* stored_results_ = nullptr;
  prometheus::Gauge* results_since_refit_ = nullptr;
  prometheus::Histogram* commit_seconds_ = nullptr;
  prometheus::Histogram* prequential_error_ = nullptr;
  prometheus::Counter* interval_checks_ = nullptr;
  prometheus::Counter* interval_hits_ = nullptr;
  prometheus::Gauge* model_version_ = nullptr;
  prometheus::Gauge* model_load_timestamp_ = nullptr;
  std::array<prometheus::Counter*, kLoadFailureReasons.size()> load_failures_{};
  // Indexed by 2 * trigger + (0 success, 1 failure).
  std::array<prometheus::Counter*, 2 * kRefitTriggers.size()> refits_{};
  prometheus::Histogram* refit_seconds_ = nullptr;
  prometheus::Gauge* refit_in_progress_ = nullptr;
  prometheus::Gauge* last_refit_success_ = nullptr;
  prometheus::Gauge* training_leader_ = nullptr;
  RefitHistory refit_history_;
};

// The gRPC names of a method, as go-grpc-prometheus labels them.
absl::string_view RpcServiceName(RpcMethod method);
absl::string_view RpcMethodName(RpcMethod method);

}  // namespace perfcast::server
