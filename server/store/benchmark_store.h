#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/data/benchmark_record.h"

namespace perfcast::server {

// A stored result held back from training (docs/SERVING.md §4, quarantine).
struct QuarantinedResult {
  int64_t id = 0;  // stable while the result is stored
  BenchmarkRecord record;
  std::string reason;
};

// The durable set of benchmark results. A result's key is (configuration, shape, batch size,
// source id, campaign, batch semantics); `record.source` carries the source id. Inserting a key
// that is already stored changes nothing (a duplicate), so submitters may retry freely.
//
// Implementations: SqliteBenchmarkStore (embedded, one process) and PostgresBenchmarkStore
// (shared by several server replicas).
//
// Durability: Insert returns OK only after its transaction committed durably, so an acknowledged
// result survives kill -9 of the server.
//
// Thread safety: implementations allow every method from any thread.
class BenchmarkStore {
 public:
  virtual ~BenchmarkStore() = default;

  // Stores `records` in one transaction. On OK, element i is true when records[i] was new and
  // false when it was a duplicate (of a stored result or of an earlier element). On error nothing
  // was stored. The caller validates records first. `quarantine_reasons` is empty or parallel to
  // `records`: a non-empty reason stores that record in quarantine (kept, listed, never
  // loaded for training, not counted) until ReleaseQuarantined.
  virtual absl::StatusOr<std::vector<bool>> Insert(
      absl::Span<const BenchmarkRecord> records,
      absl::Span<const std::string> quarantine_reasons) = 0;
  absl::StatusOr<std::vector<bool>> Insert(absl::Span<const BenchmarkRecord> records) {
    return Insert(records, {});
  }

  // Every stored result that is not in quarantine, in insertion order: what training reads.
  virtual absl::StatusOr<std::vector<BenchmarkRecord>> LoadAll() const = 0;

  // Up to `limit` quarantined results with ids above `after_id`, by id.
  virtual absl::StatusOr<std::vector<QuarantinedResult>> ListQuarantined(int64_t after_id,
                                                                         int limit) const = 0;
  // Results in quarantine now.
  virtual absl::StatusOr<int64_t> CountQuarantined() const = 0;
  // Takes the results with these ids out of quarantine in one transaction: they become
  // trainable and count(). Returns the ids that were released (others were not in quarantine).
  virtual absl::StatusOr<std::vector<int64_t>> ReleaseQuarantined(
      absl::Span<const int64_t> ids) = 0;
  // Deletes the quarantined results with these ids in one transaction; returns those deleted.
  virtual absl::StatusOr<std::vector<int64_t>> DropQuarantined(absl::Span<const int64_t> ids) = 0;

  // Results stored outside quarantine (the ones training reads), as last seen by this process
  // (exact for a store only this process writes).
  virtual int64_t count() const = 0;
};

}  // namespace perfcast::server
