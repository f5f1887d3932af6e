#include "server/perfcast_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/lifecycle/live_scoring.h"
#include "server/lifecycle/model_registry.h"
#include "server/lifecycle/shared_store_replica.h"
#include "server/observability/log_format.h"
#include "server/observability/metrics_http_server.h"
#include "server/observability/process_metrics.h"
#include "server/observability/server_metrics.h"
#include "server/observability/status_page.h"
#include "server/observability/status_snapshot.h"
#include "server/postgres/store_factory.h"
#include "server/rpc/authorization.h"
#include "server/rpc/caller_rate_limiter.h"
#include "server/rpc/model_service_impl.h"
#include "server/rpc/prediction_service_impl.h"
#include "server/rpc/quarantine_gate.h"
#include "server/rpc/service_context.h"
#include "server/store/benchmark_store.h"
#include "server/store/benchmark_writer.h"
#include "server/store/store_seeding.h"

namespace perfcast::server {
namespace {
constexpr char kPredictionServiceName[] = "perfcast.v1.PredictionService";
constexpr char kModelServiceName[] = "perfcast.v1.ModelService";

int Milliseconds(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }
}  // namespace

PerfcastServer::PerfcastServer(ServerOptions options) : options_(std::move(options)) {
  if (options_.model_dir.empty()) options_.model_dir = options_.data_dir + "/models";
}

PerfcastServer::~PerfcastServer() { Shutdown(absl::ZeroDuration()); }

absl::Status PerfcastServer::Start() {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options_.tls);
  if (!credentials.ok()) return credentials.status();
  metrics_ = std::make_unique<ServerMetrics>();
  absl::StatusOr<OpenedStores> stores =
      OpenStores({options_.store, options_.data_dir, options_.model_dir});
  if (!stores.ok()) return stores.status();
  store_ = std::move(stores->results);
  metrics_->SetStoredResults(store_->count());
  if (absl::Status emptied = CheckStoreNotEmptied(
          *store_, *stores->bundles, options_.store.empty() ? options_.data_dir : "PostgreSQL");
      !emptied.ok()) {
    if (!options_.allow_empty_store) return emptied;
    spdlog::warn("event=empty_store_allowed status=\"{}\"", emptied.message());
  }

  // A result's way to a new model: the services queue it on the writer, which commits it and
  // hands it to live scoring, which scores the serving model on it and counts it for the worker,
  // which retrains and publishes to the registry, which swaps the model in (ModelSwapped).
  // Only this replica's own Publish prunes old versions: with a shared store, a replica that
  // pruned on every swap could delete a version another one is about to load.
  registry_ = std::make_unique<ModelRegistry>(
      std::move(stores->bundles), metrics_.get(),
      [this](const ServingModel& serving) { ModelSwapped(serving); }, options_.keep_versions);
  worker_ = std::make_unique<RetrainWorker>(options_.retrain, store_.get(), registry_.get(),
                                            metrics_.get());
  // A shared store counts new results from the database instead, so that those submitted to
  // other replicas count too.
  live_scoring_ = std::make_unique<LiveScoring>(registry_.get(), worker_.get(), metrics_.get(),
                                                /*count_for_retrain=*/!stores->shared.has_value());
  writer_ = std::make_unique<BenchmarkWriter>(
      store_.get(), metrics_.get(), options_.max_queued_results,
      [scoring = live_scoring_.get()](absl::Span<const BenchmarkRecord> records) {
        scoring->Committed(records);
      });
  if (stores->shared.has_value()) {
    replica_ = std::make_unique<SharedStoreReplica>(
        SharedStoreReplica::Options{options_.store, options_.store_poll_interval,
                                    options_.leader_retry_interval},
        *stores->shared, registry_.get(), worker_.get(), metrics_.get());
  }

  context_ = std::make_unique<ServiceContext>();
  context_->store = store_.get();
  context_->writer = writer_.get();
  context_->registry = registry_.get();
  context_->worker = worker_.get();
  context_->metrics = metrics_.get();
  context_->limits = options_.limits;
  context_->max_stream_results = options_.max_stream_results;
  result_limiter_ = std::make_unique<CallerRateLimiter>(
      options_.max_results_per_second,
      options_.max_results_per_second * options_.result_burst_seconds,
      absl::StrCat(options_.max_results_per_second, " results per second"));
  refit_limiter_ = std::make_unique<CallerRateLimiter>(
      options_.max_refits_per_minute / 60.0, options_.max_refits_per_minute,
      absl::StrCat(options_.max_refits_per_minute, " refits per minute"));
  context_->authorizer = options_.authorizer.get();
  quarantine_gate_ = std::make_unique<QuarantineGate>(registry_.get());
  context_->quarantine = quarantine_gate_.get();
  context_->shared_store = stores->shared.has_value();
  context_->result_limiter = result_limiter_.get();
  context_->refit_limiter = refit_limiter_.get();
  context_->catalogue = options_.retrain.train.catalogue.get();
  context_->prices = options_.prices.get();
  context_->plan_limits.threads = options_.plan_threads;
  prediction_service_ = std::make_unique<PredictionServiceImpl>(context_.get());
  model_service_ = std::make_unique<ModelServiceImpl>(context_.get());

  grpc::EnableDefaultHealthCheckService(true);
  if (options_.enable_reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen_address, *credentials, &port_);
  builder.RegisterService(prediction_service_.get());
  builder.RegisterService(model_service_.get());
  grpc::ResourceQuota quota("perfcast-server");
  quota.SetMaxThreads(options_.max_threads);
  builder.SetResourceQuota(quota);
  server_ = ConfigureTransport(builder).BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen_address, " (port in use?)"));
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus(kModelServiceName, true);
  health->SetServingStatus(kPredictionServiceName, false);

  if (!options_.metrics_address.empty()) {
    // The status page shares the metrics port: both are for operators inside the cluster.
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> metrics_http = MetricsHttpServer::Start(
        options_.metrics_address, {metrics_->registry(), std::make_shared<ProcessMetrics>()},
        [this](absl::string_view query_string) {
          return RenderStatusPage(TakeStatusSnapshot(), query_string);
        });
    if (!metrics_http.ok()) {
      Shutdown(absl::ZeroDuration());
      return metrics_http.status();
    }
    metrics_http_ = *std::move(metrics_http);
    metrics_port_ = metrics_http_->port();
  }
  spdlog::info("event=server_listening grpc_port={} metrics_port={} model_dir={} tls={} mtls={}",
               port_, metrics_port_, options_.model_dir, options_.tls.enabled(),
               !options_.tls.client_ca_file.empty());
  if (options_.authorizer == nullptr || options_.authorizer->open()) {
    spdlog::warn(
        "event=authentication_off every caller may submit results and refit; give a token "
        "file to require bearer tokens");
  } else {
    spdlog::info("event=authentication_on tokens={}", options_.authorizer->token_count());
  }
  worker_->Start();
  if (replica_ != nullptr) replica_->Start();
  startup_thread_ = std::thread([this] { StartupSequence(); });
  return absl::OkStatus();
}

grpc::ServerBuilder& PerfcastServer::ConfigureTransport(grpc::ServerBuilder& builder) const {
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, Milliseconds(options_.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Milliseconds(options_.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             options_.keepalive_permit_without_calls ? 1 : 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             Milliseconds(options_.min_client_ping_interval));
  return builder;
}

void PerfcastServer::ModelSwapped(const ServingModel& serving) {
  spdlog::info("event=model_swapped version={}", serving.version);
  worker_->ModelServed(serving.version);
  // The first model opens the read path.
  if (server_ != nullptr && !shut_down_.load()) {
    server_->GetHealthCheckService()->SetServingStatus(kPredictionServiceName, true);
  }
}

StatusSnapshot PerfcastServer::TakeStatusSnapshot() const {
  StatusSnapshot snapshot;
  snapshot.taken_at = absl::Now();
  if (std::shared_ptr<const ServingModel> serving = registry_->Current(); serving != nullptr) {
    snapshot.serving_model = serving->model;
    snapshot.serving_version = serving->version;
  }
  for (const VersionStatus& status : registry_->Statuses()) {
    ModelVersionRow& row = snapshot.versions.emplace_back();
    row.version = status.version;
    row.serving = status.version == snapshot.serving_version;
    row.failed = status.state == VersionStatus::State::kFailed;
    row.error = std::string(status.error.message());
    row.info = status.info;
    row.prequential_count = status.prequential_count;
    row.prequential_median_relative_error = status.prequential_median_relative_error;
    row.prequential_interval_coverage = status.prequential_interval_coverage;
  }
  if (const RefitOutcome last = worker_->LastRefit(); last.refit_id != 0) {
    snapshot.latest_refit = LatestRefit{last.refit_id,
                                        last.trigger,
                                        last.running,
                                        last.status.ok(),
                                        std::string(last.status.message()),
                                        last.model_version,
                                        last.start_time,
                                        last.duration};
  }
  snapshot.refits = metrics_->refit_history().Newest();
  snapshot.stored_results = store_->count();
  snapshot.results_since_refit = worker_->results_since_refit();
  return snapshot;
}

void PerfcastServer::StartupSequence() {
  if (absl::Status loaded = registry_->LoadNewest(); !loaded.ok()) {
    spdlog::error("event=model_dir_unusable status=\"{}\"", loaded.ToString());
  }
  if (std::shared_ptr<const ServingModel> serving = registry_->Current();
      serving != nullptr && replica_ == nullptr) {
    // What the serving model has not been trained on counts towards the next retrain, as it did
    // before the restart (a shared store counts it from the database instead).
    worker_->CountUntrainedAtStart(store_->count(), serving->trained_result_count.value_or(
                                                        serving->model->info().point_count));
  }
  if (registry_->Current() == nullptr) {
    if (store_->count() == 0 && !options_.seed_data.empty()) {
      SeedStore(options_.seed_data, store_.get(), metrics_.get());
    }
    if (store_->count() > 0) {
      absl::Notification trained;
      worker_->RequestRefit(
          options_.seed_data.empty() ? RefitTrigger::kStartup : RefitTrigger::kSeed,
          [&trained](const RefitOutcome&) { trained.Notify(); });
      trained.WaitForNotification();
    }
  }
  // Reads answer from the first model; from here on the replica loads what others publish.
  if (replica_ != nullptr) replica_->StartFollowing();
  context_->starting.store(false);
  spdlog::info("event=startup_done serving_version={}",
               registry_->Current() != nullptr ? registry_->Current()->version : 0);
}

void PerfcastServer::WaitUntilStarted() {
  if (startup_thread_.joinable()) startup_thread_.join();
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
  if (replica_ != nullptr) replica_->Stop();
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
