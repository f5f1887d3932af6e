#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "server/lifecycle/model_registry.h"
#include "server/lifecycle/retrain_worker.h"
#include "server/observability/server_metrics.h"
#include "server/postgres/postgres_change_listener.h"
#include "server/postgres/postgres_leader_election.h"
#include "server/postgres/store_factory.h"

namespace perfcast::server {

// What one replica of a store shared through PostgreSQL does besides serving: it competes for
// the training lock (only the holder retrains; perfcast_training_leader says who), passes refit
// requests to the holder, counts results from the database so that those submitted to any
// replica count, and serves the models other replicas publish.
//
// Thread safety: Start, StartFollowing and Stop from one controlling thread. The pointers must
// outlive this object.
class SharedStoreReplica {
 public:
  struct Options {
    std::string url;
    // The longest the replica goes without re-reading the shared state (in case a notification
    // was missed), and how often a non-leader tries to take the training lock.
    absl::Duration poll_interval = absl::Seconds(5);
    absl::Duration leader_retry_interval = absl::Seconds(2);
  };

  SharedStoreReplica(Options options, OpenedStores::Shared stores, ModelRegistry* registry,
                     RetrainWorker* worker, ServerMetrics* metrics);
  ~SharedStoreReplica();  // Stop()s.
  SharedStoreReplica(const SharedStoreReplica&) = delete;
  SharedStoreReplica& operator=(const SharedStoreReplica&) = delete;

  // Joins the election (its first round runs here, so the worker knows whether it may train)
  // and hands the worker the forwarder for refit requests.
  void Start();
  // Follows what other replicas write. After the first model is served, so that startup loads
  // or trains it alone.
  void StartFollowing();
  // Stops following, then leaves the election, which releases the training lock: call after the
  // worker has stopped, so that no refit of this replica runs without it. Idempotent.
  void Stop();

 private:
  void OnStateChange(const SharedStoreState& state);

  const Options options_;
  const OpenedStores::Shared stores_;
  ModelRegistry* const registry_;
  RetrainWorker* const worker_;
  ServerMetrics* const metrics_;
  std::unique_ptr<PostgresLeaderElection> election_;
  std::unique_ptr<PostgresChangeListener> listener_;
};

}  // namespace perfcast::server
