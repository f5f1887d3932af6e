#include "server/store/sqlite_benchmark_store.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace perfcast::server {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS benchmark_results (
  id INTEGER PRIMARY KEY,
  hardware TEXT NOT NULL,
  num_gpus INTEGER NOT NULL,
  framework TEXT NOT NULL,
  model TEXT NOT NULL,
  precision TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  batch_size INTEGER NOT NULL,
  source_id TEXT NOT NULL,
  throughput_tokens_per_s REAL NOT NULL,
  ttft_s REAL,
  itl_s REAL,
  latency_s REAL,
  stored_unix_s INTEGER NOT NULL DEFAULT (unixepoch()),
  UNIQUE (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens,
          batch_size, source_id)
);
)sql";

constexpr char kInsert[] = R"sql(
INSERT OR IGNORE INTO benchmark_results
  (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size,
   source_id, throughput_tokens_per_s, ttft_s, itl_s, latency_s)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
)sql";

constexpr char kSelectAll[] = R"sql(
SELECT hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size,
       source_id, throughput_tokens_per_s, ttft_s, itl_s, latency_s
FROM benchmark_results ORDER BY id;
)sql";

absl::Status SqliteError(sqlite3* db, absl::string_view what) {
  const int code = sqlite3_extended_errcode(db);
  std::string message = absl::StrCat(what, ": ", sqlite3_errmsg(db), " (sqlite ", code, ")");
  const int primary = code & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return absl::DataLossError(message);
  if (primary == SQLITE_FULL || primary == SQLITE_NOMEM) {
    return absl::ResourceExhaustedError(message);
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

absl::Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    sqlite3_free(error);
    return SqliteError(db, absl::StrCat("exec '", absl::string_view(sql).substr(0, 40), "'"));
  }
  return absl::OkStatus();
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    absl::Status status = db != nullptr ? SqliteError(db, absl::StrCat("open ", path))
                                        : absl::InternalError("sqlite3_open_v2: out of memory");
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

void BindOptional(sqlite3_stmt* stmt, int index, const std::optional<double>& value) {
  if (value.has_value()) {
    sqlite3_bind_double(stmt, index, *value);
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

std::optional<double> ColumnOptional(sqlite3_stmt* stmt, int index) {
  if (sqlite3_column_type(stmt, index) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_double(stmt, index);
}

std::string ColumnText(sqlite3_stmt* stmt, int index) {
  const unsigned char* text = sqlite3_column_text(stmt, index);
  return text == nullptr ? std::string()
                         : std::string(reinterpret_cast<const char*>(text),
                                       static_cast<size_t>(sqlite3_column_bytes(stmt, index)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteBenchmarkStore>> SqliteBenchmarkStore::Open(
    const std::string& path) {
  absl::StatusOr<sqlite3*> writer = OpenConnection(path, /*create=*/true);
  if (!writer.ok()) return writer.status();
  auto close_writer = [&] { sqlite3_close(*writer); };
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;", "PRAGMA foreign_keys=ON;"}) {
    if (absl::Status s = Exec(*writer, pragma); !s.ok()) {
      close_writer();
      return s;
    }
  }
  // journal_mode=WAL silently stays on another mode on file systems without shared memory.
  {
    Statement mode(*writer, "PRAGMA journal_mode;");
    if (mode.get() == nullptr || sqlite3_step(mode.get()) != SQLITE_ROW ||
        ColumnText(mode.get(), 0) != "wal") {
      close_writer();
      return absl::FailedPreconditionError(absl::StrCat(path, ": cannot enable WAL journal"));
    }
  }
  if (absl::Status s = Exec(*writer, kSchema); !s.ok()) {
    close_writer();
    return s;
  }
  // quick_check reports damage as result rows ("ok" alone when sound), not as an error code.
  {
    Statement check(*writer, "PRAGMA quick_check;");
    if (check.get() == nullptr) {
      absl::Status s = SqliteError(*writer, "prepare quick_check");
      close_writer();
      return s;
    }
    std::vector<std::string> problems;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(check.get())) == SQLITE_ROW) {
      std::string row = ColumnText(check.get(), 0);
      if (row != "ok" && problems.size() < 5) problems.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE || !problems.empty()) {
      absl::Status s =
          rc != SQLITE_DONE
              ? SqliteError(*writer, "quick_check")
              : absl::DataLossError(absl::StrCat(
                    path, ": integrity check failed: ", absl::StrJoin(problems, "; ")));
      close_writer();
      return s;
    }
  }
  int64_t count = 0;
  {
    Statement stmt(*writer, "SELECT COUNT(*) FROM benchmark_results;");
    if (stmt.get() == nullptr || sqlite3_step(stmt.get()) != SQLITE_ROW) {
      absl::Status s = SqliteError(*writer, "count results");
      close_writer();
      return s;
    }
    count = sqlite3_column_int64(stmt.get(), 0);
  }
  absl::StatusOr<sqlite3*> reader = OpenConnection(path, /*create=*/false);
  if (!reader.ok()) {
    close_writer();
    return reader.status();
  }
  return std::unique_ptr<SqliteBenchmarkStore>(new SqliteBenchmarkStore(*writer, *reader, count));
}

SqliteBenchmarkStore::SqliteBenchmarkStore(sqlite3* writer, sqlite3* reader, int64_t count)
    : writer_(writer), reader_(reader), count_(count) {}

SqliteBenchmarkStore::~SqliteBenchmarkStore() {
  {
    absl::MutexLock lock(&read_mutex_);
    sqlite3_close(reader_);
  }
  absl::MutexLock lock(&write_mutex_);
  sqlite3_close(writer_);
}

absl::StatusOr<std::vector<bool>> SqliteBenchmarkStore::Insert(
    absl::Span<const BenchmarkRecord> records) {
  absl::MutexLock lock(&write_mutex_);
  if (absl::Status s = Exec(writer_, "BEGIN IMMEDIATE;"); !s.ok()) return s;
  auto rollback = [&](absl::Status status) {
    Exec(writer_, "ROLLBACK;").IgnoreError();
    return status;
  };
  Statement insert(writer_, kInsert);
  if (insert.get() == nullptr) return rollback(SqliteError(writer_, "prepare insert"));
  std::vector<bool> inserted;
  inserted.reserve(records.size());
  int64_t added = 0;
  for (const BenchmarkRecord& r : records) {
    sqlite3_stmt* stmt = insert.get();
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    const Configuration& c = r.configuration;
    sqlite3_bind_text(stmt, 1, c.hardware.data(), static_cast<int>(c.hardware.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, c.num_gpus);
    sqlite3_bind_text(stmt, 3, c.framework.data(), static_cast<int>(c.framework.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, c.model.data(), static_cast<int>(c.model.size()), SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, c.precision.data(), static_cast<int>(c.precision.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int(stmt, 6, r.shape.input_tokens);
    sqlite3_bind_int(stmt, 7, r.shape.output_tokens);
    sqlite3_bind_int(stmt, 8, r.batch_size);
    sqlite3_bind_text(stmt, 9, r.source.data(), static_cast<int>(r.source.size()), SQLITE_STATIC);
    sqlite3_bind_double(stmt, 10, r.throughput_tokens_per_s);
    BindOptional(stmt, 11, r.ttft_s);
    BindOptional(stmt, 12, r.itl_s);
    BindOptional(stmt, 13, r.latency_s);
    if (sqlite3_step(stmt) != SQLITE_DONE) return rollback(SqliteError(writer_, "insert"));
    const bool is_new = sqlite3_changes(writer_) > 0;
    inserted.push_back(is_new);
    added += is_new ? 1 : 0;
  }
  // With synchronous=FULL in WAL mode, COMMIT returns after the WAL is fsynced.
  if (absl::Status s = Exec(writer_, "COMMIT;"); !s.ok()) return rollback(s);
  count_.fetch_add(added, std::memory_order_relaxed);
  return inserted;
}

absl::StatusOr<std::vector<BenchmarkRecord>> SqliteBenchmarkStore::LoadAll() const {
  absl::MutexLock lock(&read_mutex_);
  Statement select(reader_, kSelectAll);
  if (select.get() == nullptr) return SqliteError(reader_, "prepare select");
  std::vector<BenchmarkRecord> records;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    sqlite3_stmt* stmt = select.get();
    BenchmarkRecord r;
    r.configuration.hardware = ColumnText(stmt, 0);
    r.configuration.num_gpus = sqlite3_column_int(stmt, 1);
    r.configuration.framework = ColumnText(stmt, 2);
    r.configuration.model = ColumnText(stmt, 3);
    r.configuration.precision = ColumnText(stmt, 4);
    r.shape.input_tokens = sqlite3_column_int(stmt, 5);
    r.shape.output_tokens = sqlite3_column_int(stmt, 6);
    r.batch_size = sqlite3_column_int(stmt, 7);
    r.source = ColumnText(stmt, 8);
    r.throughput_tokens_per_s = sqlite3_column_double(stmt, 9);
    r.ttft_s = ColumnOptional(stmt, 10);
    r.itl_s = ColumnOptional(stmt, 11);
    r.latency_s = ColumnOptional(stmt, 12);
    records.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, "select results");
  return records;
}

}  // namespace perfcast::server
