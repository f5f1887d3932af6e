#include "server/postgres/postgres_change_listener.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/observability/log_format.h"
#include "server/postgres/postgres_schema.h"

namespace perfcast::server {
namespace {

// How often the thread looks at the stop flag while it waits for notifications.
constexpr absl::Duration kStopCheckInterval = absl::Milliseconds(100);

constexpr char kReadState[] = R"sql(
SELECT (SELECT result_count FROM perfcast_store_state WHERE id = 1),
       (SELECT COALESCE(max(trained_result_count), 0) FROM perfcast_models),
       (SELECT COALESCE(max(version), 0) FROM perfcast_models)
)sql";

}  // namespace

PostgresChangeListener::PostgresChangeListener(std::string url, absl::Duration poll_interval,
                                               Callback on_change,
                                               std::function<void()> on_refit_request)
    : url_(std::move(url)),
      poll_interval_(poll_interval),
      on_change_(std::move(on_change)),
      on_refit_request_(std::move(on_refit_request)) {}

PostgresChangeListener::~PostgresChangeListener() { Stop(); }

void PostgresChangeListener::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PostgresChangeListener::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool PostgresChangeListener::stopping() const {
  absl::MutexLock lock(&mutex_);
  return stopping_;
}

absl::Status PostgresChangeListener::EnsureListening() {
  if (connection_ != nullptr && connection_->ok()) return absl::OkStatus();
  connection_.reset();
  absl::StatusOr<std::unique_ptr<PgConnection>> connection = PgConnection::Connect(url_);
  if (!connection.ok()) return connection.status();
  if (absl::Status s = (*connection)
                           ->Run(absl::StrCat("LISTEN ", kResultsChannel, "; LISTEN ",
                                              kModelsChannel, "; LISTEN ", kRefitChannel, ";"));
      !s.ok()) {
    return s;
  }
  connection_ = *std::move(connection);
  return absl::OkStatus();
}

absl::StatusOr<SharedStoreState> PostgresChangeListener::ReadState() {
  absl::StatusOr<PgResult> row = connection_->Exec(kReadState);
  if (!row.ok()) return row.status();
  SharedStoreState state;
  absl::StatusOr<int64_t> values[] = {row->Int64(0, 0), row->Int64(0, 1), row->Int64(0, 2)};
  for (const auto& v : values) {
    if (!v.ok()) return v.status();
  }
  state.stored_results = *values[0];
  state.trained_results = *values[1];
  state.newest_version = *values[2];
  return state;
}

void PostgresChangeListener::Run() {
  bool read_now = true;
  absl::Time next_poll = absl::Now();
  while (!stopping()) {
    if (absl::Status s = EnsureListening(); !s.ok()) {
      spdlog::warn("event=store_listener_unavailable status=\"{}\"", s.ToString());
      read_now = true;  // notifications were missed while disconnected
    } else if (read_now || absl::Now() >= next_poll) {
      absl::StatusOr<SharedStoreState> state = ReadState();
      if (state.ok()) {
        on_change_(*state);
        read_now = false;
      } else {
        spdlog::warn("event=store_state_read_failed status=\"{}\"", state.status().ToString());
      }
      next_poll = absl::Now() + poll_interval_;
    }
    if (connection_ == nullptr || !connection_->ok()) {
      absl::SleepFor(std::min(poll_interval_, absl::Seconds(1)));
      continue;
    }
    absl::StatusOr<std::vector<PgNotification>> notifications = connection_->WaitForNotifications(
        std::clamp(next_poll - absl::Now(), absl::ZeroDuration(), kStopCheckInterval));
    if (!notifications.ok()) {
      spdlog::warn("event=store_listener_lost status=\"{}\"", notifications.status().ToString());
      continue;
    }
    bool refit_requested = false;
    for (const PgNotification& n : *notifications) {
      (n.channel == kRefitChannel ? refit_requested : read_now) = true;
    }
    if (refit_requested) on_refit_request_();
  }
}

}  // namespace perfcast::server
