#include "server/store/store_seeding.h"

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/data/benchmark_csv.h"
#include "server/observability/log_format.h"

namespace perfcast::server {

void SeedStore(const std::string& csv_path, BenchmarkStore* store, ServerMetrics* metrics) {
  absl::StatusOr<CsvReadResult> seed = ReadBenchmarkCsv(csv_path, BadRowPolicy::kSkip);
  if (!seed.ok()) {
    spdlog::warn("event=seed_skipped path={} status=\"{}\"", csv_path, seed.status().ToString());
    return;
  }
  for (size_t i = 0; i < seed->records.size(); ++i) {
    BenchmarkRecord& r = seed->records[i];
    r.source = absl::StrCat("seed:", r.source.empty() ? "default" : r.source, ":", i);
  }
  absl::StatusOr<std::vector<bool>> inserted = store->Insert(seed->records);
  if (!inserted.ok()) {
    spdlog::error("event=seed_failed status=\"{}\"", inserted.status().ToString());
    return;
  }
  metrics->SetStoredResults(store->count());
  spdlog::info("event=store_seeded path={} records={} rejected_rows={} filtered_rows={}", csv_path,
               seed->records.size(), seed->rejected_rows.size(), seed->filtered_row_count);
}

}  // namespace perfcast::server
