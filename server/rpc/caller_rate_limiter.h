#pragma once

#include <cstddef>
#include <list>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace perfcast::server {

// A token bucket per caller: `rate_per_second` units refill it, up to `capacity`. A request
// for more units than the bucket holds is admitted when the bucket holds at least
// min(units, capacity), and leaves it in debt, so a large stream chunk is not refused forever
// and the average stays at the rate. A refused request gets ResourceExhausted that says when to
// retry. Rate 0: off, everything admitted.
//
// Callers are counted by name (a token's name, or the peer host without tokens). Memory is
// bounded: at most once per refill time (capacity / rate, at least a second) the callers whose
// buckets have refilled are forgotten, which changes nothing since a full bucket is the state of
// a caller never seen; and beyond `max_callers` the least recently seen caller is forgotten even
// if its bucket is not full, which only ever admits more. Take is O(1) but for those sweeps.
//
// Thread safety: thread-safe.
class CallerRateLimiter {
 public:
  static constexpr size_t kDefaultMaxCallers = 10000;

  // `what` states the limit in messages: "1000 results per second".
  CallerRateLimiter(double rate_per_second, double capacity, std::string what,
                    size_t max_callers = kDefaultMaxCallers);

  bool enabled() const { return rate_per_second_ > 0; }

  absl::Status Take(absl::string_view caller, double units, absl::Time now);
  absl::Status Take(absl::string_view caller, double units) {
    return Take(caller, units, absl::Now());
  }

  // Callers remembered now (for tests).
  size_t caller_count() const;

 private:
  struct Bucket {
    std::string caller;
    double units = 0;
    absl::Time updated;
  };
  using Buckets = std::list<Bucket>;  // most recently seen first

  void ForgetFullBuckets(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Forget(Buckets::iterator bucket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const double rate_per_second_;
  const double capacity_;
  const std::string what_;
  const size_t max_callers_;
  const absl::Duration sweep_interval_;
  mutable absl::Mutex mutex_;
  Buckets buckets_ ABSL_GUARDED_BY(mutex_);
  // Keys view the `caller` of their bucket, whose node never moves.
  absl::flat_hash_map<absl::string_view, Buckets::iterator> index_ ABSL_GUARDED_BY(mutex_);
  absl::Time last_sweep_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
};

}  // namespace perfcast::server
