#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/plan/price_list.h"
#include "proto/convert/prediction_conversion.h"
#include "server/lifecycle/retrain_worker.h"
#include "server/rpc/server_credentials.h"

namespace grpc {
class Server;
class ServerBuilder;
}  // namespace grpc
namespace perfcast::server {

class Authorizer;
class BenchmarkStore;
class CallerRateLimiter;
class BenchmarkWriter;
class LiveScoring;
class MetricsHttpServer;
class ModelRegistry;
class QuarantineGate;
class SharedStoreReplica;
class ServerMetrics;
struct ServiceContext;
struct StatusSnapshot;
class PredictionServiceImpl;
class ModelServiceImpl;

struct ServerOptions {
  // gRPC listen address; port 0 picks a free port (see PerfcastServer::port()).
  std::string listen_address = "0.0.0.0:50051";
  // Prometheus address ("0.0.0.0:9090"); empty: no metrics endpoint. Port 0 picks one.
  std::string metrics_address = "0.0.0.0:9090";
  // Where results and models live: empty for the embedded SQLite store under `data_dir` (one
  // server), or a PostgreSQL URL (`postgresql://...`) shared by several replicas.
  std::string store;
  std::string data_dir = "perfcast-data";
  std::string model_dir;  // empty: <data_dir>/models; unused with PostgreSQL
  // PostgreSQL only: the longest a replica goes without re-reading the shared state (in case a
  // notification was missed), and how often a non-leader tries to take the training lock.
  absl::Duration store_poll_interval = absl::Seconds(5);
  absl::Duration leader_retry_interval = absl::Seconds(2);
  // Who may connect and call what. Defaults here are the open server tests run in-process;
  // main.cc's flags give a deployment its defaults.
  TlsFiles tls;                                  // none: plaintext gRPC
  std::shared_ptr<const Authorizer> authorizer;  // null: every caller may call everything
  // Per caller (token name, or peer host without tokens); 0: unlimited. A caller may spend
  // `result_burst_seconds` of its results rate at once.
  double max_results_per_second = 0;
  double result_burst_seconds = 10;
  double max_refits_per_minute = 0;
  // Model versions kept in the bundle store, newest first; older ones are deleted after each
  // version this server publishes (never the serving one), not when it loads one another replica
  // published. 0: keep all.
  int keep_versions = 0;
  // CSV seeded into an empty store on first start; empty or missing: no seeding.
  std::string seed_data;
  // Start even when the benchmark store is empty while model versions exist (otherwise Start
  // fails: server/store/store_seeding.h, CheckStoreNotEmptied).
  bool allow_empty_store = false;
  RetrainWorker::Options retrain;
  // Dollars per GPU-hour for Plan (--prices); null: none, requests bring their own.
  std::shared_ptr<const PriceList> prices;
  // Threads that predict the candidates of one Plan call at once.
  int plan_threads = 2;
  RequestLimits limits;
  int64_t max_stream_results = 100000;
  int max_receive_message_bytes = 4 * 1024 * 1024;
  int64_t max_queued_results = 200000;
  int max_threads = 8;  // ResourceQuota threads for gRPC's callback executors
  bool enable_reflection = true;
  // HTTP/2 tuning. Keepalive pings find dead client connections (a load balancer that dropped
  // them silently); clients may ping without calls in flight, but not more often than
  // `min_client_ping_interval`, or the server closes the connection.
  int max_concurrent_streams = 256;  // per connection
  absl::Duration keepalive_time = absl::Seconds(60);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  bool keepalive_permit_without_calls = true;
  absl::Duration min_client_ping_interval = absl::Seconds(10);
};

// perfcast-server assembled: store, writer, registry, retrain worker, gRPC services, health,
// reflection and metrics. Start() returns once the port is bound; the model loads (or is seeded
// and trained) in the background, during which reads answer UNAVAILABLE. This class only
// creates the parts and connects them; what each does lives in its own layer.
//
// Thread safety: Start and Shutdown from one controlling thread; the rest is internal.
class PerfcastServer {
 public:
  explicit PerfcastServer(ServerOptions options);
  ~PerfcastServer();  // Shutdown(zero drain) if still running.
  PerfcastServer(const PerfcastServer&) = delete;
  PerfcastServer& operator=(const PerfcastServer&) = delete;

  absl::Status Start();
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }

  // Blocks until the background startup (load/seed/first training) is over.
  void WaitUntilStarted();

  // Graceful stop (docs/SERVING.md §9): health NOT_SERVING, drain in-flight RPCs for up to `drain`,
  // cancel the rest, commit queued writes, stop the trainer, close the store. Idempotent.
  void Shutdown(absl::Duration drain);
  // Blocks until the gRPC server has shut down.
  void Wait();

 private:
  void StartupSequence();
  void ModelSwapped(const ServingModel& serving);
  // What the status page shows now, copied from the registry, the worker, the store's count and
  // the metrics' refit history; nothing in it waits on I/O.
  StatusSnapshot TakeStatusSnapshot() const;
  grpc::ServerBuilder& ConfigureTransport(grpc::ServerBuilder& builder) const;

  ServerOptions options_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<BenchmarkStore> store_;
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<RetrainWorker> worker_;
  std::unique_ptr<LiveScoring> live_scoring_;
  std::unique_ptr<BenchmarkWriter> writer_;
  std::unique_ptr<ServiceContext> context_;
  std::unique_ptr<PredictionServiceImpl> prediction_service_;
  std::unique_ptr<ModelServiceImpl> model_service_;
  std::unique_ptr<CallerRateLimiter> result_limiter_;
  std::unique_ptr<CallerRateLimiter> refit_limiter_;
  std::unique_ptr<QuarantineGate> quarantine_gate_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsHttpServer> metrics_http_;
  std::unique_ptr<SharedStoreReplica> replica_;  // with a store shared by replicas
  std::thread startup_thread_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace perfcast::server
