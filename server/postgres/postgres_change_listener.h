#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/postgres/pg_connection.h"

namespace perfcast::server {

// What the shared database holds now, as far as a replica cares.
struct SharedStoreState {
  int64_t stored_results = 0;
  int64_t trained_results = 0;  // results the newest model was trained on
  int64_t newest_version = 0;   // 0: no model yet
};

// Tells a replica what the others wrote. On a connection of its own it LISTENs on
// kResultsChannel and kModelsChannel and reads the SharedStoreState whenever a notification
// arrives, and at least every `poll_interval` in case notifications were missed (they are lost
// while the connection is down, and a reconnect re-reads at once). It also LISTENs on
// kRefitChannel and reports the refit requests of other replicas.
//
// Thread safety: Start and Stop from one controlling thread. `on_change` runs on the listener's
// thread, one call at a time, and may block it (for a model load) but must not call Stop; so
// does `on_refit_request`.
class PostgresChangeListener {
 public:
  using Callback = std::function<void(const SharedStoreState&)>;
  PostgresChangeListener(std::string url, absl::Duration poll_interval, Callback on_change,
                         std::function<void()> on_refit_request);
  ~PostgresChangeListener();  // Stop()s.
  PostgresChangeListener(const PostgresChangeListener&) = delete;
  PostgresChangeListener& operator=(const PostgresChangeListener&) = delete;

  void Start();
  void Stop();  // Idempotent.

 private:
  void Run();
  bool stopping() const;
  // Connects and LISTENs when needed.
  absl::Status EnsureListening();
  absl::StatusOr<SharedStoreState> ReadState();

  const std::string url_;
  const absl::Duration poll_interval_;
  const Callback on_change_;
  const std::function<void()> on_refit_request_;

  std::unique_ptr<PgConnection> connection_;  // the thread's only
  mutable absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace perfcast::server
