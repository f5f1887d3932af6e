#include "server/postgres/postgres_schema.h"

namespace perfcast::server {
namespace {

// CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator (it can fail on the
// catalogue's unique index), hence the lock. Its key is the leader key + 1, a different lock.
constexpr char kSchema[] = R"sql(
BEGIN;
SELECT pg_advisory_xact_lock(8099005288975266677);
CREATE TABLE IF NOT EXISTS perfcast_benchmark_results (
  id BIGSERIAL PRIMARY KEY,
  hardware TEXT NOT NULL,
  num_gpus INTEGER NOT NULL,
  framework TEXT NOT NULL,
  model TEXT NOT NULL,
  precision TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  batch_size INTEGER NOT NULL,
  source_id TEXT NOT NULL,
  throughput_tokens_per_s DOUBLE PRECISION NOT NULL,
  ttft_s DOUBLE PRECISION,
  itl_s DOUBLE PRECISION,
  latency_s DOUBLE PRECISION,
  stored_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens,
          batch_size, source_id)
);
CREATE TABLE IF NOT EXISTS perfcast_store_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  result_count BIGINT NOT NULL
);
INSERT INTO perfcast_store_state (id, result_count)
  SELECT 1, count(*) FROM perfcast_benchmark_results
  ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS perfcast_models (
  version BIGINT PRIMARY KEY CHECK (version > 0),
  bundle BYTEA NOT NULL,
  bundle_fnv1a64 BIGINT NOT NULL,
  trained_result_count BIGINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMIT;
)sql";

static_assert(kTrainingLeaderLockKey + 1 == 8099005288975266677);

}  // namespace

absl::Status EnsurePostgresSchema(PgConnection& connection) {
  absl::Status status = connection.Run(kSchema);
  if (!status.ok()) connection.Run("ROLLBACK;").IgnoreError();
  return status;
}

}  // namespace perfcast::server
