#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/observability/server_metrics.h"
#include "server/store/benchmark_store.h"
#include "server/store/model_bundle_store.h"

namespace perfcast::server {

// What seeded rows record as their submitter (BenchmarkRecord::submitted_by).
inline constexpr absl::string_view kSeedSubmitter = "seed";

// Fills `store` from the benchmark CSV at `csv_path` (rows that do not parse are skipped), so
// that a new server can train before anyone submits a result. Each row is stored under a source
// of its own ("seed:<source>:<row>"), so repeated measurements of one point are all kept; it keeps
// the CSV's campaign and batch semantics, and records kSeedSubmitter and the time. A CSV
// that cannot be read, or an insert that fails, is logged and leaves the store as it was: the
// server still starts, with no model until results arrive.
void SeedStore(const std::string& csv_path, BenchmarkStore* store, ServerMetrics* metrics);

// FailedPrecondition, marked so that IsEmptiedStore() recognises it, when `results` holds nothing
// while `bundles` holds model versions: the benchmark store was most likely deleted, truncated or
// pointed elsewhere, and starting on it would neither re-seed (a model exists) nor keep what the
// models were trained on. `where` names the store in the message. The caller decides whether an
// operator allowed that on purpose.
absl::Status CheckStoreNotEmptied(const BenchmarkStore& results, ModelBundleStore& bundles,
                                  absl::string_view where);

// Whether `status` came from CheckStoreNotEmptied.
bool IsEmptiedStore(const absl::Status& status);

}  // namespace perfcast::server
