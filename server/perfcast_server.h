#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/convert/prediction_conversion.h"
#include "server/lifecycle/retrain_worker.h"

namespace grpc {
class Server;
}
namespace perfcast::server {

class BenchmarkStore;
class BenchmarkWriter;
class ModelBundleStore;
class MetricsHttpServer;
class ModelRegistry;
class PostgresBenchmarkStore;
class PostgresChangeListener;
class PostgresModelBundleStore;
class PostgresLeaderElection;
struct SharedStoreState;
class ServerMetrics;
struct ServiceContext;
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
  // CSV seeded into an empty store on first start; empty or missing: no seeding.
  std::string seed_data;
  RetrainWorker::Options retrain;
  RequestLimits limits;
  int64_t max_stream_results = 100000;
  int max_receive_message_bytes = 4 * 1024 * 1024;
  int64_t max_queued_results = 200000;
  int max_threads = 8;  // ResourceQuota threads for gRPC's callback executors
  bool enable_reflection = true;
};

// perfcast-server assembled: store, writer, registry, retrain worker, gRPC services, health,
// reflection and metrics. Start() returns once the port is bound; the model loads (or is seeded
// and trained) in the background, during which reads answer UNAVAILABLE.
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

  // Graceful stop (SERVING.md G7): health NOT_SERVING, drain in-flight RPCs for up to `drain`,
  // cancel the rest, commit queued writes, stop the trainer, close the store. Idempotent.
  void Shutdown(absl::Duration drain);
  // Blocks until the gRPC server has shut down.
  void Wait();

 private:
  void StartupSequence();
  void AfterCommit(absl::Span<const BenchmarkRecord> new_records);
  absl::Status OpenStores();
  void OnSharedStoreChange(const SharedStoreState& state);

  ServerOptions options_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<BenchmarkStore> store_;
  PostgresBenchmarkStore* shared_store_ = nullptr;      // store_, when it is PostgreSQL
  PostgresModelBundleStore* shared_bundles_ = nullptr;  // the registry's, when PostgreSQL
  std::unique_ptr<ModelBundleStore> bundles_;           // until the registry takes it
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<RetrainWorker> worker_;
  std::unique_ptr<BenchmarkWriter> writer_;
  std::unique_ptr<ServiceContext> context_;
  std::unique_ptr<PredictionServiceImpl> prediction_service_;
  std::unique_ptr<ModelServiceImpl> model_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsHttpServer> metrics_http_;
  std::unique_ptr<PostgresLeaderElection> election_;
  std::unique_ptr<PostgresChangeListener> listener_;
  std::thread startup_thread_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace perfcast::server
