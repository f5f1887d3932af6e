#include "server/rpc/caller_rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perfcast::server {
namespace {

// The time an empty bucket takes to refill, so a sweep finds every caller idle since the last
// one full again; at least a second, so that a fast rate does not turn Take into a scan.
absl::Duration SweepInterval(double rate_per_second, double capacity) {
  if (rate_per_second <= 0) return absl::InfiniteDuration();
  return std::max(absl::Seconds(1), absl::Seconds(capacity / rate_per_second));
}

}  // namespace

CallerRateLimiter::CallerRateLimiter(double rate_per_second, double capacity, std::string what,
                                     size_t max_callers)
    : rate_per_second_(std::max(0.0, rate_per_second)),
      capacity_(std::max(1.0, capacity)),
      what_(std::move(what)),
      max_callers_(std::max<size_t>(1, max_callers)),
      sweep_interval_(SweepInterval(rate_per_second_, capacity_)) {}

absl::Status CallerRateLimiter::Take(absl::string_view caller, double units, absl::Time now) {
  if (!enabled()) return absl::OkStatus();
  absl::MutexLock lock(&mutex_);
  if (now - last_sweep_ >= sweep_interval_) {
    ForgetFullBuckets(now);
    last_sweep_ = now;
  }
  Bucket* bucket = nullptr;
  if (auto found = index_.find(caller); found != index_.end()) {
    buckets_.splice(buckets_.begin(), buckets_, found->second);  // now the most recent
    bucket = &*found->second;
    const double refill = absl::ToDoubleSeconds(now - bucket->updated) * rate_per_second_;
    bucket->units = std::min(capacity_, bucket->units + std::max(0.0, refill));
    bucket->updated = std::max(bucket->updated, now);
  } else {
    // A caller forgotten here gets a full bucket when it comes back: more than it had, never
    // less, so the cap can only loosen the limit, never refuse anyone.
    while (buckets_.size() >= max_callers_) Forget(std::prev(buckets_.end()));
    buckets_.push_front(Bucket{std::string(caller), capacity_, now});
    index_.emplace(buckets_.front().caller, buckets_.begin());
    bucket = &buckets_.front();
  }
  const double needed = std::min(units, capacity_);
  if (bucket->units >= needed) {
    bucket->units -= units;
    return absl::OkStatus();
  }
  const double retry_seconds = (needed - bucket->units) / rate_per_second_;
  return absl::ResourceExhaustedError(
      absl::StrFormat("caller '%s' is over its limit of %s; retry in %.1f s", caller, what_,
                      std::ceil(retry_seconds * 10) / 10));
}

size_t CallerRateLimiter::caller_count() const {
  absl::MutexLock lock(&mutex_);
  return buckets_.size();
}

void CallerRateLimiter::Forget(Buckets::iterator bucket) {
  index_.erase(bucket->caller);
  buckets_.erase(bucket);
}

void CallerRateLimiter::ForgetFullBuckets(absl::Time now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const auto next = std::next(it);
    if (it->units + absl::ToDoubleSeconds(now - it->updated) * rate_per_second_ >= capacity_) {
      Forget(it);
    }
    it = next;
  }
}

}  // namespace perfcast::server
