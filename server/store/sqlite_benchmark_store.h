#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/store/benchmark_store.h"

struct sqlite3;

namespace perfcast::server {

// The embedded BenchmarkStore: one SQLite database (WAL journal, synchronous=FULL) with one
// table, for a single server process. Insert's COMMIT returns after a full fsync of the WAL.
//
// Thread safety: every method may be called from any thread. Writes are serialised on one
// connection; reads use a second connection and run beside writes (WAL readers do not block).
class SqliteBenchmarkStore : public BenchmarkStore {
 public:
  // Opens or creates the database at `path` (its directory must exist). DataLoss when the
  // integrity check (PRAGMA quick_check) finds the file damaged.
  static absl::StatusOr<std::unique_ptr<SqliteBenchmarkStore>> Open(const std::string& path);
  ~SqliteBenchmarkStore() override;
  SqliteBenchmarkStore(const SqliteBenchmarkStore&) = delete;
  SqliteBenchmarkStore& operator=(const SqliteBenchmarkStore&) = delete;

  using BenchmarkStore::Insert;
  absl::StatusOr<std::vector<bool>> Insert(
      absl::Span<const BenchmarkRecord> records,
      absl::Span<const std::string> quarantine_reasons) override;
  absl::StatusOr<std::vector<BenchmarkRecord>> LoadAll() const override;
  absl::StatusOr<std::vector<QuarantinedResult>> ListQuarantined(int64_t after_id,
                                                                 int limit) const override;
  absl::StatusOr<int64_t> CountQuarantined() const override;
  absl::StatusOr<std::vector<int64_t>> ReleaseQuarantined(absl::Span<const int64_t> ids) override;
  absl::StatusOr<std::vector<int64_t>> DropQuarantined(absl::Span<const int64_t> ids) override;
  int64_t count() const override { return count_.load(std::memory_order_relaxed); }

 private:
  SqliteBenchmarkStore(sqlite3* writer, sqlite3* reader, int64_t count);

  mutable absl::Mutex write_mutex_;
  sqlite3* writer_ ABSL_GUARDED_BY(write_mutex_);
  mutable absl::Mutex read_mutex_;
  sqlite3* reader_ ABSL_GUARDED_BY(read_mutex_);
  std::atomic<int64_t> count_;
};

}  // namespace perfcast::server
