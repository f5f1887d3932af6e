#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/postgres/pg_connection.h"
#include "server/store/benchmark_store.h"

namespace perfcast::server {

// The shared BenchmarkStore: results in PostgreSQL (schema in postgres_schema.h), written and read
// by every replica. Insert commits with the server's synchronous_commit (on by default: the
// commit returns once its WAL is flushed) and, in the same transaction, bumps the stored count
// and NOTIFYs kResultsChannel with it, so other replicas learn of new results. The inserts are
// pipelined (PgConnection::ExecPipelined), so a batch costs round trips per 500 results, not per
// result.
//
// A lost connection fails the call in progress (Unavailable) and is re-opened by the next one.
// A commit that fails with a lost connection may still have committed: submitters retry, and the
// result key makes the retry a duplicate.
//
// Thread safety: every method may be called from any thread. Writes are serialised on one
// connection; reads use a second connection and run beside writes.
class PostgresBenchmarkStore : public BenchmarkStore {
 public:
  // Connects (libpq URL), creates missing tables and reads the count.
  static absl::StatusOr<std::unique_ptr<PostgresBenchmarkStore>> Open(const std::string& url);
  PostgresBenchmarkStore(const PostgresBenchmarkStore&) = delete;
  PostgresBenchmarkStore& operator=(const PostgresBenchmarkStore&) = delete;

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
  // The largest count seen: by our own commits or reported by ObserveCount.
  int64_t count() const override { return count_.load(std::memory_order_relaxed); }

  // Another replica's commit left `count` results in the store.
  void ObserveCount(int64_t count);

 private:
  PostgresBenchmarkStore(std::unique_ptr<PgConnection> writer, std::unique_ptr<PgConnection> reader,
                         int64_t count);

  // Adds `added` to the stored count in the open transaction and notifies it; -1 when
  // `added` is 0 (nothing to tell). REQUIRES: write_mutex_ held, a transaction open.
  absl::StatusOr<int64_t> BumpCount(int64_t added) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mutex_);
  // Runs `sql` (one parameter, an id; RETURNING a row when it changed one) for each id in one
  // transaction; `trainable_after`: the changed rows now count.
  absl::StatusOr<std::vector<int64_t>> ChangeQuarantined(absl::string_view sql,
                                                         absl::Span<const int64_t> ids,
                                                         bool trainable_after);

  mutable absl::Mutex write_mutex_;
  const std::unique_ptr<PgConnection> writer_ ABSL_PT_GUARDED_BY(write_mutex_);
  mutable absl::Mutex read_mutex_;
  const std::unique_ptr<PgConnection> reader_ ABSL_PT_GUARDED_BY(read_mutex_);
  std::atomic<int64_t> count_;
};

}  // namespace perfcast::server
