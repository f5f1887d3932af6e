#include "server/postgres/postgres_benchmark_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/postgres/postgres_schema.h"

namespace perfcast::server {
namespace {

constexpr char kInsert[] = R"sql(
INSERT INTO perfcast_benchmark_results
  (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size,
   source_id, throughput_tokens_per_s, ttft_s, itl_s, latency_s, campaign, batch_semantics,
   submitted_by, submitted_at_unix_s, quarantine_reason, p99_ttft_s, p99_tpot_s)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20)
ON CONFLICT DO NOTHING
RETURNING id
)sql";

// The count and the notification commit (or not) with the rows they describe.
constexpr char kBumpCount[] = R"sql(
WITH state AS (
  UPDATE perfcast_store_state SET result_count = result_count + $1 WHERE id = 1
  RETURNING result_count)
SELECT result_count, pg_notify($2, result_count::text) FROM state
)sql";

// The columns ReadRow reads, in its order.
#define PERFCAST_RESULT_COLUMNS                                                                \
  "hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size, " \
  "source_id, throughput_tokens_per_s, ttft_s, itl_s, latency_s, campaign, batch_semantics, "  \
  "submitted_by, submitted_at_unix_s, quarantine_reason, id, p99_ttft_s, p99_tpot_s"

constexpr char kSelectAll[] = "SELECT " PERFCAST_RESULT_COLUMNS
                              " FROM perfcast_benchmark_results WHERE quarantine_reason = ''"
                              " ORDER BY id";
constexpr char kSelectQuarantined[] =
    "SELECT " PERFCAST_RESULT_COLUMNS
    " FROM perfcast_benchmark_results WHERE quarantine_reason <> '' AND id > $1"
    " ORDER BY id LIMIT $2";
#undef PERFCAST_RESULT_COLUMNS

// %.17g round-trips every double through float8's text input.
PgParam DoubleParam(double value) { return PgParam::Text(absl::StrFormat("%.17g", value)); }

PgParam OptionalParam(const std::optional<double>& value) {
  return value ? DoubleParam(*value) : PgParam::Null();
}

absl::StatusOr<std::optional<double>> OptionalColumn(const PgResult& rows, int row, int column) {
  if (rows.IsNull(row, column)) return std::nullopt;
  absl::StatusOr<double> value = rows.Double(row, column);
  if (!value.ok()) return value.status();
  return *value;
}

// Inserts sent per pipeline: results come back only after the whole chunk is sent, so a chunk's
// results (~100 bytes each) must fit the socket buffers while the server waits to write them.
constexpr size_t kPipelineStatements = 500;

std::vector<PgParam> InsertParams(const BenchmarkRecord& r, absl::string_view quarantine_reason) {
  const Configuration& c = r.configuration;
  return {
      PgParam::Text(c.hardware),
      PgParam::Text(absl::StrCat(c.num_gpus)),
      PgParam::Text(c.framework),
      PgParam::Text(c.model),
      PgParam::Text(c.precision),
      PgParam::Text(absl::StrCat(r.shape.input_tokens)),
      PgParam::Text(absl::StrCat(r.shape.output_tokens)),
      PgParam::Text(absl::StrCat(r.batch_size)),
      PgParam::Text(r.source),
      DoubleParam(r.throughput_tokens_per_s),
      OptionalParam(r.ttft_s),
      OptionalParam(r.itl_s),
      OptionalParam(r.latency_s),
      PgParam::Text(c.campaign),
      PgParam::Text(std::string(BatchSemanticsName(c.batch_semantics))),
      PgParam::Text(r.submitted_by),
      PgParam::Text(absl::StrCat(r.submitted_at_unix_s)),
      PgParam::Text(std::string(quarantine_reason)),
      OptionalParam(r.p99_ttft_s),
      OptionalParam(r.p99_tpot_s),
  };
}

// One row of a SELECT of PERFCAST_RESULT_COLUMNS.
absl::StatusOr<QuarantinedResult> ReadRow(const PgResult& rows, int i) {
  QuarantinedResult row;
  BenchmarkRecord& r = row.record;
  r.configuration.hardware = std::string(rows.Value(i, 0));
  r.configuration.framework = std::string(rows.Value(i, 2));
  r.configuration.model = std::string(rows.Value(i, 3));
  r.configuration.precision = std::string(rows.Value(i, 4));
  r.source = std::string(rows.Value(i, 8));
  r.configuration.campaign = std::string(rows.Value(i, 13));
  r.submitted_by = std::string(rows.Value(i, 15));
  row.reason = std::string(rows.Value(i, 17));
  absl::StatusOr<int64_t> ints[] = {rows.Int64(i, 1), rows.Int64(i, 5),  rows.Int64(i, 6),
                                    rows.Int64(i, 7), rows.Int64(i, 16), rows.Int64(i, 18)};
  for (const auto& v : ints) {
    if (!v.ok())
      return absl::DataLossError(absl::StrCat("result row ", i, ": ", v.status().message()));
  }
  r.configuration.num_gpus = static_cast<int>(*ints[0]);
  r.shape.input_tokens = static_cast<int>(*ints[1]);
  r.shape.output_tokens = static_cast<int>(*ints[2]);
  r.batch_size = static_cast<int>(*ints[3]);
  r.submitted_at_unix_s = *ints[4];
  row.id = *ints[5];
  std::optional<BatchSemantics> semantics = BatchSemanticsFromName(rows.Value(i, 14));
  if (!semantics.has_value()) {
    return absl::DataLossError(
        absl::StrCat("result id ", row.id, ": unknown batch_semantics '", rows.Value(i, 14), "'"));
  }
  r.configuration.batch_semantics = *semantics;
  absl::StatusOr<double> throughput = rows.Double(i, 9);
  absl::StatusOr<std::optional<double>> ttft = OptionalColumn(rows, i, 10);
  absl::StatusOr<std::optional<double>> itl = OptionalColumn(rows, i, 11);
  absl::StatusOr<std::optional<double>> latency = OptionalColumn(rows, i, 12);
  absl::StatusOr<std::optional<double>> p99_ttft = OptionalColumn(rows, i, 19);
  absl::StatusOr<std::optional<double>> p99_tpot = OptionalColumn(rows, i, 20);
  for (const absl::Status& s : {throughput.status(), ttft.status(), itl.status(), latency.status(),
                                p99_ttft.status(), p99_tpot.status()}) {
    if (!s.ok()) return absl::DataLossError(absl::StrCat("result row ", i, ": ", s.message()));
  }
  r.throughput_tokens_per_s = *throughput;
  r.ttft_s = *ttft;
  r.itl_s = *itl;
  r.latency_s = *latency;
  r.p99_ttft_s = *p99_ttft;
  r.p99_tpot_s = *p99_tpot;
  return row;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresBenchmarkStore>> PostgresBenchmarkStore::Open(
    const std::string& url) {
  absl::StatusOr<std::unique_ptr<PgConnection>> writer = PgConnection::Connect(url);
  if (!writer.ok()) return writer.status();
  if (absl::Status s = EnsurePostgresSchema(**writer); !s.ok()) return s;
  absl::StatusOr<PgResult> count =
      (*writer)->Exec("SELECT result_count FROM perfcast_store_state WHERE id = 1");
  if (!count.ok()) return count.status();
  if (count->rows() != 1) return absl::DataLossError("perfcast_store_state has no row");
  absl::StatusOr<int64_t> stored = count->Int64(0, 0);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<std::unique_ptr<PgConnection>> reader = PgConnection::Connect(url);
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<PostgresBenchmarkStore>(
      new PostgresBenchmarkStore(*std::move(writer), *std::move(reader), *stored));
}

PostgresBenchmarkStore::PostgresBenchmarkStore(std::unique_ptr<PgConnection> writer,
                                               std::unique_ptr<PgConnection> reader, int64_t count)
    : writer_(std::move(writer)), reader_(std::move(reader)), count_(count) {}

void PostgresBenchmarkStore::ObserveCount(int64_t count) {
  int64_t seen = count_.load(std::memory_order_relaxed);
  while (count > seen && !count_.compare_exchange_weak(seen, count, std::memory_order_relaxed)) {
  }
}

absl::StatusOr<std::vector<bool>> PostgresBenchmarkStore::Insert(
    absl::Span<const BenchmarkRecord> records, absl::Span<const std::string> quarantine_reasons) {
  if (!quarantine_reasons.empty() && quarantine_reasons.size() != records.size()) {
    return absl::InternalError("Insert: quarantine_reasons not parallel to records");
  }
  absl::MutexLock lock(&write_mutex_);
  if (absl::Status s = writer_->EnsureConnected(); !s.ok()) return s;
  if (absl::Status s = writer_->Run("BEGIN"); !s.ok()) return s;
  auto rollback = [&](absl::Status status) {
    if (writer_->ok()) writer_->Run("ROLLBACK").IgnoreError();
    return status;
  };
  std::vector<bool> inserted;
  inserted.reserve(records.size());
  int64_t added = 0;
  for (size_t first = 0; first < records.size(); first += kPipelineStatements) {
    const absl::Span<const BenchmarkRecord> chunk = records.subspan(first, kPipelineStatements);
    std::vector<std::vector<PgParam>> param_sets;
    param_sets.reserve(chunk.size());
    for (size_t i = 0; i < chunk.size(); ++i) {
      param_sets.push_back(
          InsertParams(chunk[i], quarantine_reasons.empty() ? "" : quarantine_reasons[first + i]));
    }
    absl::StatusOr<std::vector<PgResult>> rows = writer_->ExecPipelined(kInsert, param_sets);
    if (!rows.ok()) return rollback(rows.status());
    for (size_t i = 0; i < rows->size(); ++i) {
      const bool is_new = (*rows)[i].rows() == 1;  // RETURNING yields nothing on conflict
      inserted.push_back(is_new);
      const bool quarantined =
          !quarantine_reasons.empty() && !quarantine_reasons[first + i].empty();
      added += is_new && !quarantined ? 1 : 0;
    }
  }
  absl::StatusOr<int64_t> count = BumpCount(added);
  if (!count.ok()) return rollback(count.status());
  if (absl::Status s = writer_->Run("COMMIT"); !s.ok()) return rollback(s);
  if (*count >= 0) ObserveCount(*count);
  return inserted;
}

absl::StatusOr<int64_t> PostgresBenchmarkStore::BumpCount(int64_t added) {
  if (added == 0) return -1;
  const PgParam params[] = {PgParam::Text(absl::StrCat(added)), PgParam::Text(kResultsChannel)};
  absl::StatusOr<PgResult> state = writer_->Exec(kBumpCount, params);
  if (!state.ok()) return state.status();
  if (state->rows() != 1) return absl::DataLossError("perfcast_store_state has no row");
  return state->Int64(0, 0);
}

absl::StatusOr<std::vector<int64_t>> PostgresBenchmarkStore::ChangeQuarantined(
    absl::string_view sql, absl::Span<const int64_t> ids, bool trainable_after) {
  absl::MutexLock lock(&write_mutex_);
  if (absl::Status s = writer_->EnsureConnected(); !s.ok()) return s;
  if (absl::Status s = writer_->Run("BEGIN"); !s.ok()) return s;
  auto rollback = [&](absl::Status status) {
    if (writer_->ok()) writer_->Run("ROLLBACK").IgnoreError();
    return status;
  };
  std::vector<int64_t> changed;
  for (int64_t id : ids) {
    const PgParam params[] = {PgParam::Text(absl::StrCat(id))};
    absl::StatusOr<PgResult> rows = writer_->Exec(sql, params);
    if (!rows.ok()) return rollback(rows.status());
    if (rows->rows() == 1) changed.push_back(id);
  }
  absl::StatusOr<int64_t> count =
      BumpCount(trainable_after ? static_cast<int64_t>(changed.size()) : 0);
  if (!count.ok()) return rollback(count.status());
  if (absl::Status s = writer_->Run("COMMIT"); !s.ok()) return rollback(s);
  if (*count >= 0) ObserveCount(*count);
  return changed;
}

absl::StatusOr<std::vector<int64_t>> PostgresBenchmarkStore::ReleaseQuarantined(
    absl::Span<const int64_t> ids) {
  return ChangeQuarantined(
      "UPDATE perfcast_benchmark_results SET quarantine_reason = '' "
      "WHERE id = $1 AND quarantine_reason <> '' RETURNING id",
      ids, /*trainable_after=*/true);
}

absl::StatusOr<std::vector<int64_t>> PostgresBenchmarkStore::DropQuarantined(
    absl::Span<const int64_t> ids) {
  return ChangeQuarantined(
      "DELETE FROM perfcast_benchmark_results WHERE id = $1 AND quarantine_reason <> '' "
      "RETURNING id",
      ids, /*trainable_after=*/false);
}

absl::StatusOr<std::vector<QuarantinedResult>> PostgresBenchmarkStore::ListQuarantined(
    int64_t after_id, int limit) const {
  absl::MutexLock lock(&read_mutex_);
  if (absl::Status s = reader_->EnsureConnected(); !s.ok()) return s;
  const PgParam params[] = {PgParam::Text(absl::StrCat(after_id)),
                            PgParam::Text(absl::StrCat(limit))};
  absl::StatusOr<PgResult> rows = reader_->Exec(kSelectQuarantined, params);
  if (!rows.ok()) return rows.status();
  std::vector<QuarantinedResult> results;
  for (int i = 0; i < rows->rows(); ++i) {
    absl::StatusOr<QuarantinedResult> row = ReadRow(*rows, i);
    if (!row.ok()) return row.status();
    results.push_back(*std::move(row));
  }
  return results;
}

absl::StatusOr<int64_t> PostgresBenchmarkStore::CountQuarantined() const {
  absl::MutexLock lock(&read_mutex_);
  if (absl::Status s = reader_->EnsureConnected(); !s.ok()) return s;
  absl::StatusOr<PgResult> rows = reader_->Exec(
      "SELECT count(*) FROM perfcast_benchmark_results WHERE quarantine_reason <> ''");
  if (!rows.ok()) return rows.status();
  return rows->Int64(0, 0);
}

absl::StatusOr<std::vector<BenchmarkRecord>> PostgresBenchmarkStore::LoadAll() const {
  absl::MutexLock lock(&read_mutex_);
  if (absl::Status s = reader_->EnsureConnected(); !s.ok()) return s;
  absl::StatusOr<PgResult> rows = reader_->Exec(kSelectAll);
  if (!rows.ok()) return rows.status();
  std::vector<BenchmarkRecord> records;
  records.reserve(static_cast<size_t>(rows->rows()));
  for (int i = 0; i < rows->rows(); ++i) {
    absl::StatusOr<QuarantinedResult> row = ReadRow(*rows, i);
    if (!row.ok()) return row.status();
    records.push_back(std::move(row->record));
  }
  return records;
}

}  // namespace perfcast::server
