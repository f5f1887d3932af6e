#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/postgres/pg_connection.h"

namespace perfcast::server {

// Elects the one replica that retrains: whoever holds the session advisory lock
// kTrainingLeaderLockKey (pg_try_advisory_lock) on a connection of its own. The lock lives as
// long as that session, so a leader that dies (kill -9, lost node) frees it as soon as PostgreSQL
// sees the connection close: at once for a dead process, and for a vanished host once the
// server's keepalive probes on that session fail (set to 10 s idle + 3 probes 5 s apart, ~25 s).
// The others try every `retry_interval`, so a takeover takes at most that long once the lock is
// free. A leader checks its session at the same interval and steps down when it is lost.
//
// Thread safety: Start and Stop from one controlling thread; is_leader from any. `on_change`
// runs on the election thread (or in Start), without locks held.
class PostgresLeaderElection {
 public:
  using Listener = std::function<void(bool leader)>;
  PostgresLeaderElection(std::string url, absl::Duration retry_interval, Listener on_change);
  ~PostgresLeaderElection();  // Stop()s.
  PostgresLeaderElection(const PostgresLeaderElection&) = delete;
  PostgresLeaderElection& operator=(const PostgresLeaderElection&) = delete;

  // Tries once right away (so that startup knows whether it leads), then keeps trying on a
  // thread. `on_change(false)` is reported first, so the listener starts from a known state.
  void Start();
  // Ends the session, which releases the lock. Idempotent.
  void Stop();

  bool is_leader() const;

 private:
  void Run();
  // One election round: connect if needed, then try the lock or check the session.
  void Step();
  void SetLeader(bool leader);

  const std::string url_;
  const absl::Duration retry_interval_;
  const Listener on_change_;

  std::unique_ptr<PgConnection> connection_;  // used by Step only (Start, then the thread)
  mutable absl::Mutex mutex_;
  bool leader_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace perfcast::server
