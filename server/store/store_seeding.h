#pragma once

#include <string>

#include "server/observability/server_metrics.h"
#include "server/store/benchmark_store.h"

namespace perfcast::server {

// Fills `store` from the benchmark CSV at `csv_path` (rows that do not parse are skipped), so
// that a new server can train before anyone submits a result. Each row is stored under a source
// of its own ("seed:<source>:<row>"), so repeated measurements of one point are all kept. A CSV
// that cannot be read, or an insert that fails, is logged and leaves the store as it was: the
// server still starts, with no model until results arrive.
void SeedStore(const std::string& csv_path, BenchmarkStore* store, ServerMetrics* metrics);

}  // namespace perfcast::server
