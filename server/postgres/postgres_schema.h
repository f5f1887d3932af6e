#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "server/postgres/pg_connection.h"

namespace perfcast::server {

// The tables, channels and lock keys that perfcast replicas share in one PostgreSQL database.
//
//   perfcast_benchmark_results  one row per result; a unique index on the result key; a non-empty
//                               quarantine_reason holds the row back from training
//   perfcast_store_state        one row: result_count (rows outside quarantine), kept in step by
//                               every insert transaction (an exact count without a table scan)
//   perfcast_models             one row per model version: the bundle bytes, their FNV-1a-64,
//                               and how many results the version was trained on
//
// NOTIFY channels (sent inside the writing transaction, so delivered only once it commits):
inline constexpr char kResultsChannel[] = "perfcast_results";  // payload: result_count
inline constexpr char kModelsChannel[] = "perfcast_models";    // payload: the new version
// Sent outside a transaction: a replica asks the one that trains for a refit.
inline constexpr char kRefitChannel[] = "perfcast_refit";  // payload: the trigger

// Session advisory lock held by the one replica that retrains ("perfcast" in ASCII).
inline constexpr int64_t kTrainingLeaderLockKey = 0x7065726663617374;

// Creates whatever is missing. Safe to run from several replicas at once: the DDL runs under a
// transaction-scoped advisory lock.
absl::Status EnsurePostgresSchema(PgConnection& connection);

}  // namespace perfcast::server
