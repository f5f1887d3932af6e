#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/data/benchmark_record.h"

namespace perfcast::server {

// The durable set of benchmark results. A result's key is (configuration, shape, batch size,
// source id); `record.source` carries the source id. Inserting a key that is already stored
// changes nothing (a duplicate), so submitters may retry freely.
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
  // was stored. The caller validates records first.
  virtual absl::StatusOr<std::vector<bool>> Insert(absl::Span<const BenchmarkRecord> records) = 0;

  // Every stored result, in insertion order.
  virtual absl::StatusOr<std::vector<BenchmarkRecord>> LoadAll() const = 0;

  // Results stored, as last seen by this process (exact for a store only this process writes).
  virtual int64_t count() const = 0;
};

}  // namespace perfcast::server
