#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace perfcast::server {

// One statement parameter: text (the default) or binary (bytea), or SQL NULL.
struct PgParam {
  std::optional<std::string> value;
  bool binary = false;

  static PgParam Text(std::string v) { return {std::move(v), false}; }
  static PgParam Bytes(std::string v) { return {std::move(v), true}; }
  static PgParam Null() { return {std::nullopt, false}; }
};

// A query's rows. Columns come back in text form unless the query asked for binary results.
class PgResult {
 public:
  explicit PgResult(PGresult* result);
  int rows() const;
  bool IsNull(int row, int column) const;
  absl::string_view Value(int row, int column) const;  // text, or raw bytes in binary form
  // Text-form accessors; InvalidArgument when the text does not parse.
  absl::StatusOr<int64_t> Int64(int row, int column) const;
  absl::StatusOr<double> Double(int row, int column) const;

 private:
  struct Deleter {
    void operator()(PGresult* r) const;
  };
  std::unique_ptr<PGresult, Deleter> result_;
};

// A NOTIFY received on a LISTENing connection.
struct PgNotification {
  std::string channel;
  std::string payload;
};

// One libpq connection. Errors map SQLSTATE classes to absl codes: connection trouble (08),
// serialization failures and deadlocks (40) and shutdowns (57P) are Unavailable (retry), lack of
// resources (53) is ResourceExhausted, data corruption (XX001, XX002) is DataLoss, the rest is
// Internal.
//
// Thread safety: none; the owner serialises every call (a libpq connection is one session).
class PgConnection {
 public:
  // `url`: a libpq connection URI or keyword string. TCP keepalives default to on (10 s idle,
  // 5 s interval, 3 probes) so that a vanished peer is noticed in ~25 s; the URL may override.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const std::string& url);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement (PQexecParams). `binary_results` asks for every column in binary form.
  absl::StatusOr<PgResult> Exec(absl::string_view sql, absl::Span<const PgParam> params = {},
                                bool binary_results = false);
  // Runs `sql` once per parameter set, pipelined (libpq pipeline mode): every statement is sent
  // before the first result is read, so a batch costs about one round trip instead of one per
  // statement. Results in order. After a failed statement the rest are skipped and its error is
  // returned; inside a transaction, the transaction is then aborted.
  absl::StatusOr<std::vector<PgResult>> ExecPipelined(
      absl::string_view sql, absl::Span<const std::vector<PgParam>> param_sets);
  // Runs statements that return no rows (may hold several separated by ';', no parameters).
  absl::Status Run(absl::string_view sql);

  // False once the server connection is lost; Reconnect() then opens a new session (losing
  // session state: LISTENs, advisory locks, prepared statements).
  bool ok() const;
  absl::Status Reconnect();
  // Reconnect() when the session was lost; OK at once when it is alive.
  absl::Status EnsureConnected();

  // Waits up to `timeout` for the socket to become readable, reads what arrived and returns the
  // notifications received (maybe none). Unavailable when the connection is lost.
  absl::StatusOr<std::vector<PgNotification>> WaitForNotifications(absl::Duration timeout);

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  absl::Status ResultStatus(PGresult* result, absl::string_view what) const;

  PGconn* conn_;
};

// True for a libpq connection URI (`postgresql://` or `postgres://`), which selects the
// PostgreSQL store.
bool IsPostgresUrl(absl::string_view store);

}  // namespace perfcast::server
