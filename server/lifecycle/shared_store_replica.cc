#include "server/lifecycle/shared_store_replica.h"

#include <utility>

#include "server/observability/log_format.h"

namespace perfcast::server {

SharedStoreReplica::SharedStoreReplica(Options options, OpenedStores::Shared stores,
                                       ModelRegistry* registry, RetrainWorker* worker,
                                       ServerMetrics* metrics)
    : options_(std::move(options)),
      stores_(stores),
      registry_(registry),
      worker_(worker),
      metrics_(metrics) {}

SharedStoreReplica::~SharedStoreReplica() { Stop(); }

void SharedStoreReplica::Start() {
  election_ = std::make_unique<PostgresLeaderElection>(options_.url, options_.leader_retry_interval,
                                                       [this](bool leader) {
                                                         metrics_->SetTrainingLeader(leader);
                                                         worker_->SetTrainingAllowed(leader);
                                                       });
  election_->Start();
  worker_->SetRefitForwarder([bundles = stores_.bundles](RefitTrigger trigger) {
    return bundles->RequestNewVersion(std::string(RefitTriggerName(trigger)));
  });
  listener_ = std::make_unique<PostgresChangeListener>(
      options_.url, options_.poll_interval,
      [this](const SharedStoreState& state) { OnStateChange(state); },
      [this] { worker_->AcceptForwardedRefit(); });
}

void SharedStoreReplica::StartFollowing() {
  if (listener_ != nullptr) listener_->Start();
}

void SharedStoreReplica::Stop() {
  if (listener_ != nullptr) listener_->Stop();
  if (election_ != nullptr) election_->Stop();
}

void SharedStoreReplica::OnStateChange(const SharedStoreState& state) {
  stores_.results->ObserveCount(state.stored_results);
  metrics_->SetStoredResults(stores_.results->count());
  worker_->ObserveSharedStore(state.stored_results, state.trained_results);
  std::shared_ptr<const ServingModel> serving = registry_->Current();
  if (state.newest_version > (serving != nullptr ? serving->version : 0)) {
    if (absl::Status loaded = registry_->LoadNewest(); !loaded.ok()) {
      spdlog::warn("event=shared_model_load_deferred status=\"{}\"", loaded.ToString());
    }
  }
}

}  // namespace perfcast::server
