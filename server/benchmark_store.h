#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "core/benchmark_record.h"

struct sqlite3;

namespace perfcast::server {

// The durable set of benchmark results: one SQLite database (WAL journal, synchronous=FULL) with
// one table. A result's key is (configuration, shape, batch size, source id); `record.source`
// carries the source id. Inserting a key that is already stored changes nothing (a duplicate),
// so submitters may retry freely.
//
// Durability: Insert returns OK only after its transaction committed with a full fsync, so an
// acknowledged result survives kill -9 and power loss.
//
// Thread safety: every method may be called from any thread. Writes are serialised on one
// connection; reads use a second connection and run beside writes (WAL readers do not block).
class BenchmarkStore {
 public:
  // Opens or creates the database at `path` (its directory must exist).
  static absl::StatusOr<std::unique_ptr<BenchmarkStore>> Open(const std::string& path);
  ~BenchmarkStore();
  BenchmarkStore(const BenchmarkStore&) = delete;
  BenchmarkStore& operator=(const BenchmarkStore&) = delete;

  // Stores `records` in one transaction. On OK, element i is true when records[i] was new and
  // false when it was a duplicate (of a stored result or of an earlier element). On error nothing
  // was stored. The caller validates records first.
  absl::StatusOr<std::vector<bool>> Insert(absl::Span<const BenchmarkRecord> records);

  // Every stored result, in insertion order.
  absl::StatusOr<std::vector<BenchmarkRecord>> LoadAll() const;

  // Results stored (kept in memory; exact).
  int64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  BenchmarkStore(sqlite3* writer, sqlite3* reader, int64_t count);

  mutable absl::Mutex write_mutex_;
  sqlite3* writer_ ABSL_GUARDED_BY(write_mutex_);
  mutable absl::Mutex read_mutex_;
  sqlite3* reader_ ABSL_GUARDED_BY(read_mutex_);
  std::atomic<int64_t> count_;
};

}  // namespace perfcast::server
