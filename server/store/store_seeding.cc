#include "server/store/store_seeding.h"

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/data/benchmark_csv.h"
#include "server/observability/log_format.h"

namespace perfcast::server {
namespace {

// The payload type that marks CheckStoreNotEmptied's error.
constexpr char kEmptiedStorePayload[] = "type.perfcast.dev/emptied_store";

}  // namespace

void SeedStore(const std::string& csv_path, BenchmarkStore* store, ServerMetrics* metrics) {
  absl::StatusOr<CsvReadResult> seed = ReadBenchmarkCsv(csv_path, BadRowPolicy::kSkip);
  if (!seed.ok()) {
    spdlog::warn("event=seed_skipped path={} status=\"{}\"", csv_path, seed.status().ToString());
    return;
  }
  const int64_t now_unix_s = absl::ToUnixSeconds(absl::Now());
  for (size_t i = 0; i < seed->records.size(); ++i) {
    // The campaign the CSV gives (configuration.campaign) is kept as it is.
    BenchmarkRecord& r = seed->records[i];
    r.source = absl::StrCat("seed:", r.source.empty() ? "default" : r.source, ":", i);
    r.submitted_by = std::string(kSeedSubmitter);
    r.submitted_at_unix_s = now_unix_s;
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

absl::Status CheckStoreNotEmptied(const BenchmarkStore& results, ModelBundleStore& bundles,
                                  absl::string_view where) {
  if (results.count() > 0) return absl::OkStatus();
  absl::StatusOr<std::vector<int64_t>> versions = bundles.ListVersions();
  // A model store that cannot be listed is reported by the model's load, with its own reason.
  if (!versions.ok() || versions->empty()) return absl::OkStatus();
  absl::Status emptied = absl::FailedPreconditionError(absl::StrCat(
      "the benchmark store (", where, ") holds no results, yet ", versions->size(),
      " model versions exist (newest ", versions->front(), ", at ",
      bundles.Location(versions->front()),
      "): the store was probably deleted, truncated or replaced; restore it, or allow starting "
      "on an empty store on purpose (the models keep serving, and a retrain will not replace "
      "them with a model trained on far fewer results unless a Refit allows it)"));
  emptied.SetPayload(kEmptiedStorePayload, absl::Cord(where));
  return emptied;
}

bool IsEmptiedStore(const absl::Status& status) {
  return status.GetPayload(kEmptiedStorePayload).has_value();
}

}  // namespace perfcast::server
