#include "server/observability/refit_history.h"

namespace perfcast::server {

void RefitHistory::Add(const RefitRecord& record) {
  absl::MutexLock lock(&mutex_);
  records_.push_front(record);
  if (records_.size() > capacity_) records_.pop_back();
}

std::vector<RefitRecord> RefitHistory::Newest() const {
  absl::MutexLock lock(&mutex_);
  return {records_.begin(), records_.end()};
}

}  // namespace perfcast::server
