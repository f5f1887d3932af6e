#include "server/postgres/pg_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/observability/log_format.h"

namespace perfcast::server {
namespace {

absl::Status ErrorFor(absl::string_view sqlstate, std::string message) {
  if (absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "40") ||
      absl::StartsWith(sqlstate, "57P")) {
    return absl::UnavailableError(std::move(message));
  }
  if (absl::StartsWith(sqlstate, "53")) return absl::ResourceExhaustedError(std::move(message));
  if (sqlstate == "XX001" || sqlstate == "XX002") return absl::DataLossError(std::move(message));
  return absl::InternalError(std::move(message));
}

std::string ConnectionMessage(PGconn* conn) {
  return std::string(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
}

// libpq's parallel parameter arrays for one statement; points into the PgParams.
struct ParamArrays {
  explicit ParamArrays(absl::Span<const PgParam> params) {
    for (const PgParam& p : params) {
      values.push_back(p.value ? p.value->data() : nullptr);
      lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
      formats.push_back(p.binary ? 1 : 0);
    }
  }
  int count() const { return static_cast<int>(values.size()); }

  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

}  // namespace

bool IsPostgresUrl(absl::string_view store) {
  return absl::StartsWith(store, "postgresql://") || absl::StartsWith(store, "postgres://");
}

PgResult::PgResult(PGresult* result) : result_(result) {}

void PgResult::Deleter::operator()(PGresult* r) const { PQclear(r); }

int PgResult::rows() const { return PQntuples(result_.get()); }

bool PgResult::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

absl::string_view PgResult::Value(int row, int column) const {
  return absl::string_view(PQgetvalue(result_.get(), row, column),
                           static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

absl::StatusOr<int64_t> PgResult::Int64(int row, int column) const {
  int64_t value = 0;
  if (!absl::SimpleAtoi(Value(row, column), &value)) {
    return absl::InvalidArgumentError(absl::StrCat("not an integer: '", Value(row, column), "'"));
  }
  return value;
}

absl::StatusOr<double> PgResult::Double(int row, int column) const {
  // float8 text is the shortest exact round-trip form (extra_float_digits defaults to 1).
  const std::string text(Value(row, column));
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0) {
    return absl::InvalidArgumentError(absl::StrCat("not a number: '", text, "'"));
  }
  return value;
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& url) {
  // Later keywords override earlier ones and `dbname` expands the URL, so the URL's own settings
  // win over these defaults.
  const char* keywords[] = {
      "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
      "keepalives_count", "application_name", "dbname",          nullptr};
  const char* values[] = {"10", "1", "10", "5", "3", "perfcast-server", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status status =
        absl::UnavailableError(absl::StrCat("connect to PostgreSQL: ", ConnectionMessage(conn)));
    PQfinish(conn);
    return status;
  }
  // Server notices ("relation already exists, skipping") are chatter, not errors.
  PQsetNoticeProcessor(
      conn,
      [](void*, const char* message) {
        spdlog::debug("event=postgres_notice message=\"{}\"",
                      absl::StripTrailingAsciiWhitespace(message));
      },
      nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

absl::Status PgConnection::ResultStatus(PGresult* result, absl::string_view what) const {
  const ExecStatusType type = PQresultStatus(result);
  if (type == PGRES_COMMAND_OK || type == PGRES_TUPLES_OK) return absl::OkStatus();
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = absl::StrCat(what.substr(0, 60), ": ", ConnectionMessage(conn_));
  if (sqlstate == nullptr) {
    // No server error: the connection itself failed (or libpq ran out of memory).
    return PQstatus(conn_) == CONNECTION_BAD ? absl::UnavailableError(std::move(message))
                                             : absl::InternalError(std::move(message));
  }
  return ErrorFor(sqlstate, absl::StrCat(message, " (sqlstate ", sqlstate, ")"));
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql, absl::Span<const PgParam> params,
                                            bool binary_results) {
  const ParamArrays arrays(params);
  const std::string statement(sql);
  PGresult* raw = PQexecParams(conn_, statement.c_str(), arrays.count(), /*paramTypes=*/nullptr,
                               arrays.values.data(), arrays.lengths.data(), arrays.formats.data(),
                               binary_results ? 1 : 0);
  PgResult result(raw);
  if (absl::Status s = ResultStatus(raw, sql); !s.ok()) return s;
  return result;
}

absl::StatusOr<std::vector<PgResult>> PgConnection::ExecPipelined(
    absl::string_view sql, absl::Span<const std::vector<PgParam>> param_sets) {
  const std::string statement(sql);
  if (PQenterPipelineMode(conn_) != 1) {
    return absl::InternalError(absl::StrCat("enter pipeline mode: ", ConnectionMessage(conn_)));
  }
  absl::Status status;
  size_t sent = 0;
  for (const std::vector<PgParam>& params : param_sets) {
    const ParamArrays arrays(params);
    if (PQsendQueryParams(conn_, statement.c_str(), arrays.count(), /*paramTypes=*/nullptr,
                          arrays.values.data(), arrays.lengths.data(), arrays.formats.data(),
                          /*resultFormat=*/0) != 1) {
      status = absl::UnavailableError(absl::StrCat("send: ", ConnectionMessage(conn_)));
      break;
    }
    ++sent;
  }
  const bool sync_sent = PQpipelineSync(conn_) == 1;
  if (!sync_sent && status.ok()) {
    status = absl::UnavailableError(absl::StrCat("pipeline sync: ", ConnectionMessage(conn_)));
  }
  // Every statement sent yields its result and then a null; the sync point ends the pipeline.
  std::vector<PgResult> results;
  results.reserve(sent);
  for (size_t i = 0; i < sent && PQstatus(conn_) == CONNECTION_OK; ++i) {
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) break;
    PgResult result(raw);
    if (PQresultStatus(raw) != PGRES_PIPELINE_ABORTED) {
      if (absl::Status s = ResultStatus(raw, sql); !s.ok() && status.ok()) status = s;
    }
    results.push_back(std::move(result));
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  while (sync_sent && PQstatus(conn_) == CONNECTION_OK) {
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) continue;  // the end of an aborted statement's results
    const bool synced = PQresultStatus(raw) == PGRES_PIPELINE_SYNC;
    PQclear(raw);
    if (synced) break;
  }
  if (PQexitPipelineMode(conn_) != 1 && status.ok()) {
    status = absl::InternalError(absl::StrCat("exit pipeline mode: ", ConnectionMessage(conn_)));
  }
  if (!status.ok()) return status;
  if (PQstatus(conn_) != CONNECTION_OK || results.size() != param_sets.size()) {
    return absl::UnavailableError(absl::StrCat("pipeline: ", ConnectionMessage(conn_)));
  }
  return results;
}

absl::Status PgConnection::Run(absl::string_view sql) {
  const std::string statements(sql);
  PGresult* raw = PQexec(conn_, statements.c_str());
  PgResult result(raw);
  return ResultStatus(raw, sql);
}

bool PgConnection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

absl::Status PgConnection::Reconnect() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("reconnect to PostgreSQL: ", ConnectionMessage(conn_)));
  }
  return absl::OkStatus();
}

absl::Status PgConnection::EnsureConnected() { return ok() ? absl::OkStatus() : Reconnect(); }

absl::StatusOr<std::vector<PgNotification>> PgConnection::WaitForNotifications(
    absl::Duration timeout) {
  pollfd fd{PQsocket(conn_), POLLIN, 0};
  if (fd.fd < 0) return absl::UnavailableError("PostgreSQL connection lost");
  const int ready = ::poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ready < 0 && errno != EINTR) {
    return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
  }
  // Reading also notices a closed connection, which a quiet LISTEN would otherwise never see.
  if (ready > 0 && PQconsumeInput(conn_) == 0) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL connection lost: ", ConnectionMessage(conn_)));
  }
  std::vector<PgNotification> notifications;
  while (PGnotify* n = PQnotifies(conn_)) {
    notifications.push_back({n->relname, n->extra});
    PQfreemem(n);
  }
  return notifications;
}

}  // namespace perfcast::server
