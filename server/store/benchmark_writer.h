#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "core/data/benchmark_record.h"
#include "server/observability/server_metrics.h"
#include "server/store/benchmark_store.h"

namespace perfcast::server {

// Moves store commits (and their fsync) off gRPC's callback threads: submissions queue here and
// one thread commits them, several submissions per transaction when they pile up (group commit).
//
// Thread safety: Submit may be called from any thread. `done` and the after-commit hook run on
// the writer thread, `done` first (the acknowledgement), then the hook.
class BenchmarkWriter {
 public:
  // inserted[i]: records[i] was new (false: duplicate).
  using Done = std::function<void(absl::StatusOr<std::vector<bool>> inserted)>;
  // Runs after each successful commit with the records that were new and trainable (not in
  // quarantine).
  using AfterCommit = std::function<void(absl::Span<const BenchmarkRecord> new_records)>;

  // `max_queued_records` bounds memory: Submit turns work away beyond it.
  BenchmarkWriter(BenchmarkStore* store, ServerMetrics* metrics, int64_t max_queued_records,
                  AfterCommit after_commit);
  ~BenchmarkWriter();  // Stop()s.
  BenchmarkWriter(const BenchmarkWriter&) = delete;
  BenchmarkWriter& operator=(const BenchmarkWriter&) = delete;

  // Queues `records` (validated) for one durable commit; `done` runs exactly once when the
  // returned status is OK, never otherwise. `quarantine_reasons`: empty, or parallel to
  // `records` (BenchmarkStore::Insert). ResourceExhausted when the queue is full, Unavailable
  // after Stop().
  absl::Status Submit(std::vector<BenchmarkRecord> records, Done done,
                      std::vector<std::string> quarantine_reasons = {});

  // Commits everything queued, then stops the thread. Idempotent.
  void Stop();

 private:
  struct Job {
    std::vector<BenchmarkRecord> records;
    Done done;
    std::vector<std::string> quarantine_reasons;
  };
  void Run();

  BenchmarkStore* const store_;
  ServerMetrics* const metrics_;
  const int64_t max_queued_records_;
  const AfterCommit after_commit_;

  absl::Mutex mutex_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mutex_);
  int64_t queued_records_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace perfcast::server
