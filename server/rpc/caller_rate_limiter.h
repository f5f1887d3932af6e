#pragma once

#include <cstddef>
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
// Callers are counted by name (a token's name, or the peer host without tokens); the map
// forgets callers whose bucket has refilled, so it holds only recent callers.
//
// Thread safety: thread-safe.
class CallerRateLimiter {
 public:
  // `what` states the limit in messages: "1000 results per second".
  CallerRateLimiter(double rate_per_second, double capacity, std::string what);

  bool enabled() const { return rate_per_second_ > 0; }

  absl::Status Take(absl::string_view caller, double units, absl::Time now);
  absl::Status Take(absl::string_view caller, double units) {
    return Take(caller, units, absl::Now());
  }

 private:
  struct Bucket {
    double units = 0;
    absl::Time updated;
  };
  // REQUIRES: mutex_ held.
  void ForgetFullBuckets(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const double rate_per_second_;
  const double capacity_;
  const std::string what_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace perfcast::server
