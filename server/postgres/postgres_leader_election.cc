#include "server/postgres/postgres_leader_election.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/observability/log_format.h"
#include "server/postgres/postgres_schema.h"

namespace perfcast::server {

PostgresLeaderElection::PostgresLeaderElection(std::string url, absl::Duration retry_interval,
                                               Listener on_change)
    : url_(std::move(url)), retry_interval_(retry_interval), on_change_(std::move(on_change)) {}

PostgresLeaderElection::~PostgresLeaderElection() { Stop(); }

void PostgresLeaderElection::Start() {
  on_change_(false);
  Step();
  thread_ = std::thread([this] { Run(); });
}

void PostgresLeaderElection::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  const bool was_leader = is_leader();
  connection_.reset();  // closing the session releases the lock
  if (was_leader) spdlog::info("event=training_leadership_released");
}

bool PostgresLeaderElection::is_leader() const {
  absl::MutexLock lock(&mutex_);
  return leader_;
}

void PostgresLeaderElection::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mutex_);
      auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return stopping_; };
      if (mutex_.AwaitWithTimeout(absl::Condition(&stopping), retry_interval_)) return;
    }
    Step();
  }
}

void PostgresLeaderElection::Step() {
  if (connection_ == nullptr || !connection_->ok()) {
    SetLeader(false);  // a lost session has lost the lock with it
    absl::StatusOr<std::unique_ptr<PgConnection>> connection = PgConnection::Connect(url_);
    if (!connection.ok()) {
      spdlog::warn("event=leader_election_connect_failed status=\"{}\"",
                   connection.status().ToString());
      return;
    }
    // The server must notice a vanished leader host to free the lock: probe this session's
    // socket from the server side too (its defaults wait two hours; ignored on Unix sockets).
    if (absl::Status s = (*connection)
                             ->Run("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; "
                                   "SET tcp_keepalives_count = 3;");
        !s.ok()) {
      spdlog::warn("event=leader_election_keepalives_failed status=\"{}\"", s.ToString());
    }
    connection_ = *std::move(connection);
  }
  if (is_leader()) {
    if (absl::StatusOr<PgResult> alive = connection_->Exec("SELECT 1"); !alive.ok()) {
      spdlog::warn("event=training_leadership_lost status=\"{}\"", alive.status().ToString());
      SetLeader(false);
    }
    return;
  }
  const PgParam params[] = {PgParam::Text(absl::StrCat(kTrainingLeaderLockKey))};
  absl::StatusOr<PgResult> acquired =
      connection_->Exec("SELECT pg_try_advisory_lock($1::bigint)", params);
  if (!acquired.ok()) {
    spdlog::warn("event=leader_election_failed status=\"{}\"", acquired.status().ToString());
    return;
  }
  if (acquired->rows() == 1 && acquired->Value(0, 0) == "t") {
    spdlog::info("event=training_leadership_acquired");
    SetLeader(true);
  }
}

void PostgresLeaderElection::SetLeader(bool leader) {
  {
    absl::MutexLock lock(&mutex_);
    if (leader_ == leader) return;
    leader_ = leader;
  }
  on_change_(leader);
}

}  // namespace perfcast::server
