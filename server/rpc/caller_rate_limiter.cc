#include "server/rpc/caller_rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perfcast::server {
namespace {
// Past this many callers the full buckets are dropped: a full bucket is the state of a caller
// never seen, so forgetting it changes nothing but memory.
constexpr size_t kForgetAboveCallers = 1024;
}  // namespace

CallerRateLimiter::CallerRateLimiter(double rate_per_second, double capacity, std::string what)
    : rate_per_second_(std::max(0.0, rate_per_second)),
      capacity_(std::max(1.0, capacity)),
      what_(std::move(what)) {}

absl::Status CallerRateLimiter::Take(absl::string_view caller, double units, absl::Time now) {
  if (!enabled()) return absl::OkStatus();
  absl::MutexLock lock(&mutex_);
  if (buckets_.size() > kForgetAboveCallers) ForgetFullBuckets(now);
  auto [it, inserted] = buckets_.try_emplace(caller, Bucket{capacity_, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    const double refill = absl::ToDoubleSeconds(now - bucket.updated) * rate_per_second_;
    bucket.units = std::min(capacity_, bucket.units + std::max(0.0, refill));
    bucket.updated = std::max(bucket.updated, now);
  }
  const double needed = std::min(units, capacity_);
  if (bucket.units >= needed) {
    bucket.units -= units;
    return absl::OkStatus();
  }
  const double retry_seconds = (needed - bucket.units) / rate_per_second_;
  return absl::ResourceExhaustedError(
      absl::StrFormat("caller '%s' is over its limit of %s; retry in %.1f s", caller, what_,
                      std::ceil(retry_seconds * 10) / 10));
}

void CallerRateLimiter::ForgetFullBuckets(absl::Time now) {
  absl::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& b = entry.second;
    return b.units + absl::ToDoubleSeconds(now - b.updated) * rate_per_second_ >= capacity_;
  });
}

}  // namespace perfcast::server
