#include "server/lifecycle/available_cpus.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace perfcast::server {
namespace {

std::optional<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace

std::optional<int> CpusOfCpuMax(absl::string_view line) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::StripAsciiWhitespace(line), absl::ByAnyChar(" \n"), absl::SkipEmpty());
  if (fields.size() != 2) return std::nullopt;
  double quota = 0, period = 0;
  if (!absl::SimpleAtod(fields[0], &quota) || !absl::SimpleAtod(fields[1], &period) ||
      !(quota > 0) || !(period > 0) || !std::isfinite(quota / period)) {
    return std::nullopt;
  }
  // No machine has a million CPUs; the cap keeps the cast defined.
  return static_cast<int>(std::clamp(std::ceil(quota / period), 1.0, 1e6));
}

std::optional<std::string> CgroupV2PathOf(absl::string_view proc_self_cgroup) {
  for (absl::string_view line : absl::StrSplit(proc_self_cgroup, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, "0::")) return std::string(absl::StripAsciiWhitespace(line));
  }
  return std::nullopt;
}

int AvailableCpus() {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) cpus = CPU_COUNT(&mask);
  const auto limit_by = [&cpus](const std::optional<std::string>& line) {
    if (!line) return;
    if (const std::optional<int> quota = CpusOfCpuMax(*line)) cpus = std::min(cpus, *quota);
  };
  // cgroup v2: a quota on any group above the process's binds it too.
  const std::filesystem::path root = "/sys/fs/cgroup";
  if (const std::optional<std::string> self = ReadFile("/proc/self/cgroup")) {
    if (const std::optional<std::string> path = CgroupV2PathOf(*self)) {
      std::filesystem::path group = root / std::filesystem::path(*path).relative_path();
      for (int depth = 0; depth < 64; ++depth) {
        limit_by(ReadFile(group / "cpu.max"));
        if (group == root || !group.has_relative_path() || group == group.parent_path()) break;
        group = group.parent_path();
      }
    }
  }
  // cgroup v1, as a container sees its own group.
  const std::optional<std::string> v1_quota = ReadFile(root / "cpu/cpu.cfs_quota_us");
  const std::optional<std::string> v1_period = ReadFile(root / "cpu/cpu.cfs_period_us");
  if (v1_quota && v1_period) limit_by(absl::StrCat(*v1_quota, " ", *v1_period));
  return std::max(1, cpus);
}

}  // namespace perfcast::server
