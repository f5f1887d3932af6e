#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/observability/refit_trigger.h"

namespace perfcast::server {

// One finished retrain, as the status page lists it.
struct RefitRecord {
  absl::Time finished_at;
  RefitTrigger trigger = RefitTrigger::kRpc;
  bool success = false;
  absl::Duration duration;
};

// The latest retrains of this process, newest first, at most `capacity` of them: the metrics
// count refits but keep no sequence, and an operator asking why a prediction moved wants to see
// when the model last changed and whether the refits before it failed.
//
// Thread safety: every method may be called from any thread (one mutex).
class RefitHistory {
 public:
  explicit RefitHistory(size_t capacity = 20) : capacity_(capacity) {}

  void Add(const RefitRecord& record);
  std::vector<RefitRecord> Newest() const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mutex_;
  std::deque<RefitRecord> records_ ABSL_GUARDED_BY(mutex_);  // newest first
};

}  // namespace perfcast::server
