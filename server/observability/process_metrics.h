#pragma once

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace perfcast::server {

// The standard process series, read from /proc at each scrape (prometheus-cpp 1.0 has no
// process collector): process_resident_memory_bytes, process_virtual_memory_bytes,
// process_cpu_seconds_total, process_open_fds and process_start_time_seconds (when this object
// was made, i.e. server start).
//
// Thread safety: immutable after construction; Collect may run on any thread.
class ProcessMetrics final : public prometheus::Collectable {
 public:
  ProcessMetrics();
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const double start_time_unix_s_;
};

}  // namespace perfcast::server
