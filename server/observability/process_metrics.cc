#include "server/observability/process_metrics.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace perfcast::server {
namespace {

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

}  // namespace

ProcessMetrics::ProcessMetrics()
    : start_time_unix_s_(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch())) {}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  const auto page_bytes = static_cast<double>(::sysconf(_SC_PAGESIZE));
  double virtual_pages = 0;
  double resident_pages = 0;
  if (std::ifstream statm("/proc/self/statm"); statm >> virtual_pages >> resident_pages) {
    families.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge, resident_pages * page_bytes));
    families.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, virtual_pages * page_bytes));
  }
  // /proc/self/stat: fields after the command name in parentheses; utime and stime are the
  // 14th and 15th fields, i.e. the 12th and 13th after the ')'.
  std::ifstream stat_file("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(stat_file)),
                         std::istreambuf_iterator<char>());
  if (const size_t paren = stat.rfind(')'); paren != std::string::npos) {
    std::istringstream fields(stat.substr(paren + 1));
    std::string field;
    double ticks = 0;
    for (int i = 1; i <= 13 && fields >> field; ++i) {
      if (i >= 12) ticks += std::stod(field);
    }
    families.push_back(Family("process_cpu_seconds_total",
                              "User and system CPU time spent in seconds.", MetricType::Counter,
                              ticks / static_cast<double>(::sysconf(_SC_CLK_TCK))));
  }
  std::error_code ec;
  double open_fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++open_fds;
  }
  if (!ec) {
    families.push_back(
        Family("process_open_fds", "Open file descriptors.", MetricType::Gauge, open_fds));
  }
  families.push_back(Family("process_start_time_seconds",
                            "Start time of the server since the Unix epoch in seconds.",
                            MetricType::Gauge, start_time_unix_s_));
  return families;
}

}  // namespace perfcast::server
