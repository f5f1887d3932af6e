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
   source_id, throughput_tokens_per_s, ttft_s, itl_s, latency_s)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
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

constexpr char kSelectAll[] = R"sql(
SELECT hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size,
       source_id, throughput_tokens_per_s, ttft_s, itl_s, latency_s
FROM perfcast_benchmark_results ORDER BY id
)sql";

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

std::vector<PgParam> InsertParams(const BenchmarkRecord& r) {
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
  };
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
    absl::Span<const BenchmarkRecord> records) {
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
    for (const BenchmarkRecord& r : chunk) param_sets.push_back(InsertParams(r));
    absl::StatusOr<std::vector<PgResult>> rows = writer_->ExecPipelined(kInsert, param_sets);
    if (!rows.ok()) return rollback(rows.status());
    for (const PgResult& row : *rows) {
      const bool is_new = row.rows() == 1;  // RETURNING yields nothing on conflict
      inserted.push_back(is_new);
      added += is_new ? 1 : 0;
    }
  }
  int64_t count = -1;
  if (added > 0) {
    const PgParam params[] = {PgParam::Text(absl::StrCat(added)), PgParam::Text(kResultsChannel)};
    absl::StatusOr<PgResult> state = writer_->Exec(kBumpCount, params);
    if (!state.ok()) return rollback(state.status());
    if (state->rows() != 1) return rollback(absl::DataLossError("perfcast_store_state has no row"));
    absl::StatusOr<int64_t> stored = state->Int64(0, 0);
    if (!stored.ok()) return rollback(stored.status());
    count = *stored;
  }
  if (absl::Status s = writer_->Run("COMMIT"); !s.ok()) return rollback(s);
  if (count >= 0) ObserveCount(count);
  return inserted;
}

absl::StatusOr<std::vector<BenchmarkRecord>> PostgresBenchmarkStore::LoadAll() const {
  absl::MutexLock lock(&read_mutex_);
  if (absl::Status s = reader_->EnsureConnected(); !s.ok()) return s;
  absl::StatusOr<PgResult> rows = reader_->Exec(kSelectAll);
  if (!rows.ok()) return rows.status();
  std::vector<BenchmarkRecord> records;
  records.reserve(static_cast<size_t>(rows->rows()));
  for (int i = 0; i < rows->rows(); ++i) {
    BenchmarkRecord r;
    r.configuration.hardware = std::string(rows->Value(i, 0));
    r.configuration.framework = std::string(rows->Value(i, 2));
    r.configuration.model = std::string(rows->Value(i, 3));
    r.configuration.precision = std::string(rows->Value(i, 4));
    r.source = std::string(rows->Value(i, 8));
    absl::StatusOr<int64_t> ints[] = {rows->Int64(i, 1), rows->Int64(i, 5), rows->Int64(i, 6),
                                      rows->Int64(i, 7)};
    for (const auto& v : ints) {
      if (!v.ok())
        return absl::DataLossError(absl::StrCat("result row ", i, ": ", v.status().message()));
    }
    r.configuration.num_gpus = static_cast<int>(*ints[0]);
    r.shape.input_tokens = static_cast<int>(*ints[1]);
    r.shape.output_tokens = static_cast<int>(*ints[2]);
    r.batch_size = static_cast<int>(*ints[3]);
    absl::StatusOr<double> throughput = rows->Double(i, 9);
    absl::StatusOr<std::optional<double>> ttft = OptionalColumn(*rows, i, 10);
    absl::StatusOr<std::optional<double>> itl = OptionalColumn(*rows, i, 11);
    absl::StatusOr<std::optional<double>> latency = OptionalColumn(*rows, i, 12);
    for (const absl::Status& s :
         {throughput.status(), ttft.status(), itl.status(), latency.status()}) {
      if (!s.ok()) return absl::DataLossError(absl::StrCat("result row ", i, ": ", s.message()));
    }
    r.throughput_tokens_per_s = *throughput;
    r.ttft_s = *ttft;
    r.itl_s = *itl;
    r.latency_s = *latency;
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace perfcast::server
