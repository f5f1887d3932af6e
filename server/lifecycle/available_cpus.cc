#include "server/lifecycle/available_cpus.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace perfcast::server {

std::optional<int> CpusOfCpuMax(absl::string_view line) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::StripAsciiWhitespace(line), ' ', absl::SkipEmpty());
  if (fields.size() != 2) return std::nullopt;
  double quota = 0, period = 0;
  if (!absl::SimpleAtod(fields[0], &quota) || !absl::SimpleAtod(fields[1], &period) ||
      !(quota > 0) || !(period > 0) || !std::isfinite(quota / period)) {
    return std::nullopt;
  }
  return std::max(1, static_cast<int>(std::ceil(quota / period)));
}

int AvailableCpus() {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) cpus = CPU_COUNT(&mask);
  std::ifstream cpu_max("/sys/fs/cgroup/cpu.max");
  std::string line;
  if (cpu_max && std::getline(cpu_max, line)) {
    if (const std::optional<int> quota = CpusOfCpuMax(line)) cpus = std::min(cpus, *quota);
  }
  return std::max(1, cpus);
}

}  // namespace perfcast::server
