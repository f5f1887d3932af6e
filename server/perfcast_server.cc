#include "server/perfcast_server.h"

#include <cmath>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/data/benchmark_csv.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "prometheus/gauge.h"
#include "server/lifecycle/model_registry.h"
#include "server/observability/log_format.h"
#include "server/observability/metrics_http_server.h"
#include "server/observability/process_metrics.h"
#include "server/observability/server_metrics.h"
#include "server/postgres/pg_connection.h"
#include "server/postgres/postgres_benchmark_store.h"
#include "server/postgres/postgres_change_listener.h"
#include "server/postgres/postgres_leader_election.h"
#include "server/postgres/postgres_model_bundle_store.h"
#include "server/rpc/model_service_impl.h"
#include "server/rpc/prediction_service_impl.h"
#include "server/rpc/service_context.h"
#include "server/store/benchmark_store.h"
#include "server/store/benchmark_writer.h"
#include "server/store/local_model_bundle_store.h"
#include "server/store/sqlite_benchmark_store.h"

namespace perfcast::server {
namespace fs = std::filesystem;
namespace {
constexpr char kPredictionServiceName[] = "perfcast.v1.PredictionService";
constexpr char kModelServiceName[] = "perfcast.v1.ModelService";
constexpr double kPrequentialConfidence = 0.9;
}  // namespace

PerfcastServer::PerfcastServer(ServerOptions options) : options_(std::move(options)) {
  if (options_.model_dir.empty()) options_.model_dir = options_.data_dir + "/models";
}

PerfcastServer::~PerfcastServer() { Shutdown(absl::ZeroDuration()); }

absl::Status PerfcastServer::Start() {
  metrics_ = std::make_unique<ServerMetrics>();
  if (absl::Status opened = OpenStores(); !opened.ok()) return opened;
  metrics_->SetStoredResults(store_->count());

  // The first model (loaded, seeded or trained later from submissions) opens the read path.
  registry_ = std::make_unique<ModelRegistry>(
      std::move(bundles_), metrics_.get(), [this](const ServingModel& serving) {
        spdlog::info("event=model_swapped version={}", serving.version);
        worker_->ModelServed(serving.version);
        if (server_ != nullptr && !shut_down_.load()) {
          server_->GetHealthCheckService()->SetServingStatus(kPredictionServiceName, true);
        }
      });
  worker_ = std::make_unique<RetrainWorker>(options_.retrain, store_.get(), registry_.get(),
                                            metrics_.get());
  writer_ = std::make_unique<BenchmarkWriter>(
      store_.get(), metrics_.get(), options_.max_queued_results,
      [this](absl::Span<const BenchmarkRecord> records) { AfterCommit(records); });

  context_ = std::make_unique<ServiceContext>();
  context_->store = store_.get();
  context_->writer = writer_.get();
  context_->registry = registry_.get();
  context_->worker = worker_.get();
  context_->metrics = metrics_.get();
  context_->limits = options_.limits;
  context_->max_stream_results = options_.max_stream_results;
  prediction_service_ = std::make_unique<PredictionServiceImpl>(context_.get());
  model_service_ = std::make_unique<ModelServiceImpl>(context_.get());

  grpc::EnableDefaultHealthCheckService(true);
  if (options_.enable_reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen_address, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(prediction_service_.get());
  builder.RegisterService(model_service_.get());
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  grpc::ResourceQuota quota("perfcast-server");
  quota.SetMaxThreads(options_.max_threads);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 256);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen_address, " (port in use?)"));
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus(kModelServiceName, true);
  health->SetServingStatus(kPredictionServiceName, false);

  if (!options_.metrics_address.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> metrics_http = MetricsHttpServer::Start(
        options_.metrics_address, {metrics_->registry(), std::make_shared<ProcessMetrics>()});
    if (!metrics_http.ok()) {
      Shutdown(absl::ZeroDuration());
      return metrics_http.status();
    }
    metrics_http_ = *std::move(metrics_http);
    metrics_port_ = metrics_http_->port();
  }
  spdlog::info("event=server_listening grpc_port={} metrics_port={} model_dir={}", port_,
               metrics_port_, options_.model_dir);
  // Which replica trains, for dashboards; a single server always does. Our own series on the
  // shared registry: it belongs to the replica setup, not to the RPC metrics.
  prometheus::Gauge& training_leader =
      prometheus::BuildGauge()
          .Name("perfcast_training_leader")
          .Help("1 while this process may retrain (holds the training lock of a shared store)")
          .Register(*metrics_->registry())
          .Add({});
  training_leader.Set(1);
  worker_->Start();
  if (shared_store_ != nullptr) {
    election_ = std::make_unique<PostgresLeaderElection>(
        options_.store, options_.leader_retry_interval, [this, &training_leader](bool leader) {
          training_leader.Set(leader ? 1 : 0);
          worker_->SetTrainingAllowed(leader);
        });
    election_->Start();
    worker_->SetRefitForwarder([bundles = shared_bundles_](const std::string& trigger) {
      return bundles->RequestNewVersion(trigger);
    });
    listener_ = std::make_unique<PostgresChangeListener>(
        options_.store, options_.store_poll_interval,
        [this](const SharedStoreState& state) { OnSharedStoreChange(state); },
        [this] { worker_->AcceptForwardedRefit(); });
  }
  startup_thread_ = std::thread([this] { StartupSequence(); });
  return absl::OkStatus();
}

absl::Status PerfcastServer::OpenStores() {
  if (IsPostgresUrl(options_.store)) {
    absl::StatusOr<std::unique_ptr<PostgresBenchmarkStore>> store =
        PostgresBenchmarkStore::Open(options_.store);
    if (!store.ok()) return store.status();
    absl::StatusOr<std::unique_ptr<PostgresModelBundleStore>> bundles =
        PostgresModelBundleStore::Open(options_.store);
    if (!bundles.ok()) return bundles.status();
    shared_store_ = store->get();
    shared_bundles_ = bundles->get();
    store_ = *std::move(store);
    bundles_ = *std::move(bundles);
    // The URL may hold a password: log only that it is PostgreSQL.
    spdlog::info("event=store_opened store=postgresql results={}", store_->count());
    return absl::OkStatus();
  }
  if (!options_.store.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--store=", options_.store, ": must be empty (SQLite under --data-dir) or postgresql://"));
  }
  std::error_code ec;
  fs::create_directories(options_.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create --data-dir ", options_.data_dir, ": ", ec.message()));
  }
  const std::string path = options_.data_dir + "/benchmarks.sqlite3";
  absl::StatusOr<std::unique_ptr<SqliteBenchmarkStore>> store = SqliteBenchmarkStore::Open(path);
  if (!store.ok()) return store.status();
  store_ = *std::move(store);
  bundles_ = std::make_unique<LocalModelBundleStore>(options_.model_dir);
  spdlog::info("event=store_opened path={} results={}", path, store_->count());
  return absl::OkStatus();
}

void PerfcastServer::OnSharedStoreChange(const SharedStoreState& state) {
  shared_store_->ObserveCount(state.stored_results);
  metrics_->SetStoredResults(store_->count());
  worker_->ObserveSharedStore(state.stored_results, state.trained_results);
  std::shared_ptr<const ServingModel> serving = registry_->Current();
  if (state.newest_version > (serving != nullptr ? serving->version : 0)) {
    if (absl::Status loaded = registry_->LoadNewest(); !loaded.ok()) {
      spdlog::warn("event=shared_model_load_deferred status=\"{}\"", loaded.ToString());
    }
  }
}

void PerfcastServer::StartupSequence() {
  if (absl::Status loaded = registry_->LoadNewest(); !loaded.ok()) {
    spdlog::error("event=model_dir_unusable status=\"{}\"", loaded.ToString());
  }
  if (registry_->Current() == nullptr) {
    if (store_->count() == 0 && !options_.seed_data.empty()) {
      absl::StatusOr<CsvReadResult> seed =
          ReadBenchmarkCsv(options_.seed_data, BadRowPolicy::kSkip);
      if (!seed.ok()) {
        spdlog::warn("event=seed_skipped path={} status=\"{}\"", options_.seed_data,
                     seed.status().ToString());
      } else {
        // Each seed row keeps its own key, so repeated points are all stored.
        for (size_t i = 0; i < seed->records.size(); ++i) {
          BenchmarkRecord& r = seed->records[i];
          r.source = absl::StrCat("seed:", r.source.empty() ? "default" : r.source, ":", i);
        }
        absl::StatusOr<std::vector<bool>> inserted = store_->Insert(seed->records);
        if (inserted.ok()) {
          metrics_->SetStoredResults(store_->count());
          spdlog::info("event=store_seeded path={} records={} rejected_rows={} filtered_rows={}",
                       options_.seed_data, seed->records.size(), seed->rejected_rows.size(),
                       seed->filtered_row_count);
        } else {
          spdlog::error("event=seed_failed status=\"{}\"", inserted.status().ToString());
        }
      }
    }
    if (store_->count() > 0) {
      absl::Notification trained;
      worker_->RequestRefit(options_.seed_data.empty() ? "startup" : "seed",
                            [&trained](const RefitOutcome&) { trained.Notify(); });
      trained.WaitForNotification();
    }
  }
  // Reads answer from the first model; from here on the listener loads what others publish.
  if (listener_ != nullptr) listener_->Start();
  context_->starting.store(false);
  spdlog::info("event=startup_done serving_version={}",
               registry_->Current() != nullptr ? registry_->Current()->version : 0);
}

void PerfcastServer::WaitUntilStarted() {
  if (startup_thread_.joinable()) startup_thread_.join();
}

void PerfcastServer::AfterCommit(absl::Span<const BenchmarkRecord> new_records) {
  // Prequential evaluation: the serving model has not seen these results yet.
  std::shared_ptr<const ServingModel> serving = registry_->Current();
  if (serving != nullptr) {
    for (const BenchmarkRecord& r : new_records) {
      PredictionQuery query{r.configuration, r.shape};
      const int batch[] = {r.batch_size};
      absl::StatusOr<std::vector<PointPrediction>> p =
          serving->model->Predict(query, batch, kPrequentialConfidence);
      if (!p.ok() || p->empty()) continue;
      const PointPrediction& point = p->front();
      const double error = std::abs(point.throughput_tokens_per_s - r.throughput_tokens_per_s) /
                           r.throughput_tokens_per_s;
      const bool inside = r.throughput_tokens_per_s >= point.lower_tokens_per_s &&
                          r.throughput_tokens_per_s <= point.upper_tokens_per_s;
      metrics_->ObservePrequential(error, inside);
      registry_->RecordPrequential(serving->version, error, inside);
    }
  }
  // A shared store counts results from the database instead (OnSharedStoreChange), so that
  // those submitted to other replicas count too.
  if (shared_store_ == nullptr) worker_->NotifyResults(static_cast<int64_t>(new_records.size()));
}

void PerfcastServer::Shutdown(absl::Duration drain) {
  if (shut_down_.exchange(true)) return;
  const absl::Time start = absl::Now();
  spdlog::info("event=shutdown_started drain_seconds={}", absl::ToDoubleSeconds(drain));
  if (server_ != nullptr) {
    // Probes see NOT_SERVING first; then in-flight RPCs get up to `drain` before cancellation.
    // Shutdown returns once every callback reactor has finished.
    server_->GetHealthCheckService()->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(drain));
    spdlog::info("event=rpcs_drained seconds={:.3f}", absl::ToDoubleSeconds(absl::Now() - start));
  }
  if (worker_ != nullptr) {
    if (worker_->LastRefit().running) spdlog::info("event=shutdown_waiting_for_refit");
    worker_->Stop();  // lets a running refit finish; unblocks a startup waiting on training
  }
  if (startup_thread_.joinable()) startup_thread_.join();
  // After the worker: the training lock is released only once no refit of ours runs.
  if (listener_ != nullptr) listener_->Stop();
  if (election_ != nullptr) election_->Stop();
  if (writer_ != nullptr) {
    writer_->Stop();  // commits everything still queued
    spdlog::info("event=store_writes_flushed results={}", store_->count());
  }
  metrics_http_.reset();
  if (server_ != nullptr) server_->Wait();
  store_.reset();
  spdlog::info("event=shutdown_done seconds={:.3f}", absl::ToDoubleSeconds(absl::Now() - start));
  spdlog::default_logger()->flush();
}

void PerfcastServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace perfcast::server
