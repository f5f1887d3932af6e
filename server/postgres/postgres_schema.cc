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
  stored_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Columns that tables made before them lack: those rows are the unnamed campaign's static
-- batches, submitted by no one known, trainable, and without 99th percentiles (NULL).
ALTER TABLE perfcast_benchmark_results
  ADD COLUMN IF NOT EXISTS campaign TEXT NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS batch_semantics TEXT NOT NULL DEFAULT 'static',
  ADD COLUMN IF NOT EXISTS submitted_by TEXT NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS submitted_at_unix_s BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS quarantine_reason TEXT NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS p99_ttft_s DOUBLE PRECISION,
  ADD COLUMN IF NOT EXISTS p99_tpot_s DOUBLE PRECISION;
-- The key names the campaign and the batch semantics: the old UNIQUE constraint, which did not,
-- is dropped for a unique index that does.
DO $$
DECLARE old_key TEXT;
BEGIN
  FOR old_key IN SELECT conname FROM pg_constraint
      WHERE conrelid = 'perfcast_benchmark_results'::regclass AND contype = 'u' LOOP
    EXECUTE format('ALTER TABLE perfcast_benchmark_results DROP CONSTRAINT %I', old_key);
  END LOOP;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS perfcast_benchmark_results_key ON perfcast_benchmark_results
  (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size,
   source_id, campaign, batch_semantics);
CREATE INDEX IF NOT EXISTS perfcast_benchmark_results_quarantined
  ON perfcast_benchmark_results (id) WHERE quarantine_reason <> '';
-- result_count counts the results outside quarantine: those training reads.
CREATE TABLE IF NOT EXISTS perfcast_store_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  result_count BIGINT NOT NULL
);
INSERT INTO perfcast_store_state (id, result_count)
  SELECT 1, count(*) FROM perfcast_benchmark_results WHERE quarantine_reason = ''
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
