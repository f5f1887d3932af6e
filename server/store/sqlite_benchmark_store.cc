#include "server/store/sqlite_benchmark_store.h"

#include <sqlite3.h>

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/util/status_macros.h"

namespace perfcast::server {
namespace {

// The table as this version creates it. The key is a unique index rather than a constraint, so
// that it can change without rebuilding the table. `quarantine_reason` is non-empty while a
// result is held back from training (docs/SERVING.md §4).
std::string TableDefinition(absl::string_view name) {
  return absl::StrCat("CREATE TABLE IF NOT EXISTS ", name, R"sql( (
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
  campaign TEXT NOT NULL DEFAULT '',
  batch_semantics TEXT NOT NULL DEFAULT 'static',
  submitted_by TEXT NOT NULL DEFAULT '',
  submitted_at_unix_s INTEGER NOT NULL DEFAULT 0,
  quarantine_reason TEXT NOT NULL DEFAULT '',
  p99_ttft_s REAL,
  p99_tpot_s REAL
);)sql");
}

// Columns that files written before them lack, added at open with their defaults: those rows
// are the unnamed campaign's static batches, submitted by no one known, trainable, and without
// 99th percentiles (NULL).
constexpr const char* kAddedColumns[][2] = {
    {"campaign", "TEXT NOT NULL DEFAULT ''"},
    {"batch_semantics", "TEXT NOT NULL DEFAULT 'static'"},
    {"submitted_by", "TEXT NOT NULL DEFAULT ''"},
    {"submitted_at_unix_s", "INTEGER NOT NULL DEFAULT 0"},
    {"quarantine_reason", "TEXT NOT NULL DEFAULT ''"},
    {"p99_ttft_s", "REAL"},
    {"p99_tpot_s", "REAL"},
};

// Every column but stored_unix_s, in the order of kInsert's parameters and of ReadRecord.
constexpr char kColumns[] =
    "hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size, "
    "source_id, throughput_tokens_per_s, ttft_s, itl_s, latency_s, campaign, batch_semantics, "
    "submitted_by, submitted_at_unix_s, quarantine_reason, p99_ttft_s, p99_tpot_s";

constexpr char kIndexes[] = R"sql(
CREATE UNIQUE INDEX IF NOT EXISTS benchmark_results_key ON benchmark_results
  (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size,
   source_id, campaign, batch_semantics);
CREATE INDEX IF NOT EXISTS benchmark_results_quarantined ON benchmark_results (id)
  WHERE quarantine_reason <> '';
)sql";

std::string InsertSql() {
  return absl::StrCat("INSERT OR IGNORE INTO benchmark_results (", kColumns,
                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);");
}

std::string SelectTrainableSql() {
  return absl::StrCat("SELECT id, ", kColumns,
                      " FROM benchmark_results WHERE quarantine_reason = '' ORDER BY id;");
}

std::string SelectQuarantinedSql() {
  return absl::StrCat("SELECT id, ", kColumns,
                      " FROM benchmark_results WHERE quarantine_reason <> '' AND id > ? "
                      "ORDER BY id LIMIT ?;");
}

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
  Statement(sqlite3* db, const std::string& sql) : Statement(db, sql.c_str()) {}
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

// Binds `text` as TEXT, "" included (a null data pointer would bind SQL NULL, which INSERT OR
// IGNORE would skip silently on a NOT NULL column).
void BindText(sqlite3_stmt* stmt, int index, absl::string_view text) {
  sqlite3_bind_text(stmt, index, text.data() != nullptr ? text.data() : "",
                    static_cast<int>(text.size()), SQLITE_STATIC);
}

// Reads the row of a SELECT id, kColumns. DataLoss for a batch semantics this version does not
// know (a newer server wrote it).
absl::StatusOr<QuarantinedResult> ReadRow(sqlite3_stmt* stmt) {
  QuarantinedResult row;
  row.id = sqlite3_column_int64(stmt, 0);
  BenchmarkRecord& r = row.record;
  r.configuration.hardware = ColumnText(stmt, 1);
  r.configuration.num_gpus = sqlite3_column_int(stmt, 2);
  r.configuration.framework = ColumnText(stmt, 3);
  r.configuration.model = ColumnText(stmt, 4);
  r.configuration.precision = ColumnText(stmt, 5);
  r.shape.input_tokens = sqlite3_column_int(stmt, 6);
  r.shape.output_tokens = sqlite3_column_int(stmt, 7);
  r.batch_size = sqlite3_column_int(stmt, 8);
  r.source = ColumnText(stmt, 9);
  r.throughput_tokens_per_s = sqlite3_column_double(stmt, 10);
  r.ttft_s = ColumnOptional(stmt, 11);
  r.itl_s = ColumnOptional(stmt, 12);
  r.latency_s = ColumnOptional(stmt, 13);
  r.configuration.campaign = ColumnText(stmt, 14);
  const std::string semantics = ColumnText(stmt, 15);
  std::optional<BatchSemantics> parsed = BatchSemanticsFromName(semantics);
  if (!parsed.has_value()) {
    return absl::DataLossError(absl::StrCat("benchmark_results row ", row.id,
                                            ": unknown batch_semantics '", semantics, "'"));
  }
  r.configuration.batch_semantics = *parsed;
  r.submitted_by = ColumnText(stmt, 16);
  r.submitted_at_unix_s = sqlite3_column_int64(stmt, 17);
  row.reason = ColumnText(stmt, 18);
  r.p99_ttft_s = ColumnOptional(stmt, 19);
  r.p99_tpot_s = ColumnOptional(stmt, 20);
  return row;
}

// Brings a file of any earlier version to this version's schema, in one transaction: adds the
// missing columns (ALTER TABLE ADD COLUMN, with their defaults), and where the old key was a
// UNIQUE constraint (which neither names the campaign nor the batch semantics, and which SQLite
// cannot drop) copies the table into one without it, ids and order kept. Then the key index.
absl::Status MigrateSchema(sqlite3* db) {
  PERFCAST_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE;"));
  auto body = [db]() -> absl::Status {
    PERFCAST_RETURN_IF_ERROR(Exec(db, TableDefinition("benchmark_results").c_str()));
    absl::flat_hash_set<std::string> columns;
    {
      Statement info(db, "PRAGMA table_info(benchmark_results);");
      if (info.get() == nullptr) return SqliteError(db, "prepare table_info");
      while (sqlite3_step(info.get()) == SQLITE_ROW) columns.insert(ColumnText(info.get(), 1));
    }
    for (const auto& [name, definition] : kAddedColumns) {
      if (columns.contains(name)) continue;
      PERFCAST_RETURN_IF_ERROR(Exec(
          db, absl::StrCat("ALTER TABLE benchmark_results ADD COLUMN ", name, " ", definition, ";")
                  .c_str()));
    }
    bool old_unique_constraint = false;
    {
      Statement indexes(db, "PRAGMA index_list(benchmark_results);");
      if (indexes.get() == nullptr) return SqliteError(db, "prepare index_list");
      while (sqlite3_step(indexes.get()) == SQLITE_ROW) {
        if (ColumnText(indexes.get(), 3) == "u") old_unique_constraint = true;
      }
    }
    if (old_unique_constraint) {
      PERFCAST_RETURN_IF_ERROR(Exec(db, TableDefinition("benchmark_results_migrated").c_str()));
      PERFCAST_RETURN_IF_ERROR(
          Exec(db, absl::StrCat("INSERT INTO benchmark_results_migrated (id, stored_unix_s, ",
                                kColumns, ") SELECT id, stored_unix_s, ", kColumns,
                                " FROM benchmark_results ORDER BY id;")
                       .c_str()));
      PERFCAST_RETURN_IF_ERROR(Exec(db, "DROP TABLE benchmark_results;"));
      PERFCAST_RETURN_IF_ERROR(
          Exec(db, "ALTER TABLE benchmark_results_migrated RENAME TO benchmark_results;"));
    }
    return Exec(db, kIndexes);
  };
  if (absl::Status s = body(); !s.ok()) {
    Exec(db, "ROLLBACK;").IgnoreError();
    return s;
  }
  return Exec(db, "COMMIT;");
}

// Runs `sql` (one integer parameter: an id) for each id in one transaction; returns the ids it
// changed a row for.
absl::StatusOr<std::vector<int64_t>> ChangeEach(sqlite3* db, const char* sql,
                                                absl::Span<const int64_t> ids) {
  PERFCAST_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE;"));
  auto rollback = [&](absl::Status status) {
    Exec(db, "ROLLBACK;").IgnoreError();
    return status;
  };
  Statement stmt(db, sql);
  if (stmt.get() == nullptr) return rollback(SqliteError(db, "prepare change"));
  std::vector<int64_t> changed;
  for (int64_t id : ids) {
    sqlite3_reset(stmt.get());
    sqlite3_bind_int64(stmt.get(), 1, id);
    if (sqlite3_step(stmt.get()) != SQLITE_DONE) return rollback(SqliteError(db, "change"));
    if (sqlite3_changes(db) > 0) changed.push_back(id);
  }
  if (absl::Status s = Exec(db, "COMMIT;"); !s.ok()) return rollback(s);
  return changed;
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
  if (absl::Status s = MigrateSchema(*writer); !s.ok()) {
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
    Statement stmt(*writer, "SELECT COUNT(*) FROM benchmark_results WHERE quarantine_reason = '';");
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
    absl::Span<const BenchmarkRecord> records, absl::Span<const std::string> quarantine_reasons) {
  if (!quarantine_reasons.empty() && quarantine_reasons.size() != records.size()) {
    return absl::InternalError("Insert: quarantine_reasons not parallel to records");
  }
  absl::MutexLock lock(&write_mutex_);
  if (absl::Status s = Exec(writer_, "BEGIN IMMEDIATE;"); !s.ok()) return s;
  auto rollback = [&](absl::Status status) {
    Exec(writer_, "ROLLBACK;").IgnoreError();
    return status;
  };
  Statement insert(writer_, InsertSql());
  if (insert.get() == nullptr) return rollback(SqliteError(writer_, "prepare insert"));
  std::vector<bool> inserted;
  inserted.reserve(records.size());
  int64_t added = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const BenchmarkRecord& r = records[i];
    const absl::string_view reason =
        quarantine_reasons.empty() ? absl::string_view() : quarantine_reasons[i];
    sqlite3_stmt* stmt = insert.get();
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    const Configuration& c = r.configuration;
    BindText(stmt, 1, c.hardware);
    sqlite3_bind_int(stmt, 2, c.num_gpus);
    BindText(stmt, 3, c.framework);
    BindText(stmt, 4, c.model);
    BindText(stmt, 5, c.precision);
    sqlite3_bind_int(stmt, 6, r.shape.input_tokens);
    sqlite3_bind_int(stmt, 7, r.shape.output_tokens);
    sqlite3_bind_int(stmt, 8, r.batch_size);
    BindText(stmt, 9, r.source);
    sqlite3_bind_double(stmt, 10, r.throughput_tokens_per_s);
    BindOptional(stmt, 11, r.ttft_s);
    BindOptional(stmt, 12, r.itl_s);
    BindOptional(stmt, 13, r.latency_s);
    BindText(stmt, 14, c.campaign);
    BindText(stmt, 15, BatchSemanticsName(c.batch_semantics));
    BindText(stmt, 16, r.submitted_by);
    sqlite3_bind_int64(stmt, 17, r.submitted_at_unix_s);
    BindText(stmt, 18, reason);
    BindOptional(stmt, 19, r.p99_ttft_s);
    BindOptional(stmt, 20, r.p99_tpot_s);
    if (sqlite3_step(stmt) != SQLITE_DONE) return rollback(SqliteError(writer_, "insert"));
    const bool is_new = sqlite3_changes(writer_) > 0;
    inserted.push_back(is_new);
    added += is_new && reason.empty() ? 1 : 0;
  }
  // With synchronous=FULL in WAL mode, COMMIT returns after the WAL is fsynced.
  if (absl::Status s = Exec(writer_, "COMMIT;"); !s.ok()) return rollback(s);
  count_.fetch_add(added, std::memory_order_relaxed);
  return inserted;
}

absl::StatusOr<std::vector<BenchmarkRecord>> SqliteBenchmarkStore::LoadAll() const {
  absl::MutexLock lock(&read_mutex_);
  Statement select(reader_, SelectTrainableSql());
  if (select.get() == nullptr) return SqliteError(reader_, "prepare select");
  std::vector<BenchmarkRecord> records;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    absl::StatusOr<QuarantinedResult> row = ReadRow(select.get());
    if (!row.ok()) return row.status();
    records.push_back(std::move(row->record));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, "select results");
  return records;
}

absl::StatusOr<std::vector<QuarantinedResult>> SqliteBenchmarkStore::ListQuarantined(
    int64_t after_id, int limit) const {
  absl::MutexLock lock(&read_mutex_);
  Statement select(reader_, SelectQuarantinedSql());
  if (select.get() == nullptr) return SqliteError(reader_, "prepare select quarantined");
  sqlite3_bind_int64(select.get(), 1, after_id);
  sqlite3_bind_int(select.get(), 2, limit);
  std::vector<QuarantinedResult> rows;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    absl::StatusOr<QuarantinedResult> row = ReadRow(select.get());
    if (!row.ok()) return row.status();
    rows.push_back(*std::move(row));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, "select quarantined");
  return rows;
}

absl::StatusOr<int64_t> SqliteBenchmarkStore::CountQuarantined() const {
  absl::MutexLock lock(&read_mutex_);
  Statement stmt(reader_, "SELECT COUNT(*) FROM benchmark_results WHERE quarantine_reason <> '';");
  if (stmt.get() == nullptr || sqlite3_step(stmt.get()) != SQLITE_ROW) {
    return SqliteError(reader_, "count quarantined");
  }
  return sqlite3_column_int64(stmt.get(), 0);
}

absl::StatusOr<std::vector<int64_t>> SqliteBenchmarkStore::ReleaseQuarantined(
    absl::Span<const int64_t> ids) {
  absl::MutexLock lock(&write_mutex_);
  absl::StatusOr<std::vector<int64_t>> released =
      ChangeEach(writer_,
                 "UPDATE benchmark_results SET quarantine_reason = '' "
                 "WHERE id = ? AND quarantine_reason <> '';",
                 ids);
  if (released.ok()) {
    count_.fetch_add(static_cast<int64_t>(released->size()), std::memory_order_relaxed);
  }
  return released;
}

absl::StatusOr<std::vector<int64_t>> SqliteBenchmarkStore::DropQuarantined(
    absl::Span<const int64_t> ids) {
  absl::MutexLock lock(&write_mutex_);
  return ChangeEach(writer_,
                    "DELETE FROM benchmark_results WHERE id = ? AND quarantine_reason <> '';", ids);
}

}  // namespace perfcast::server
