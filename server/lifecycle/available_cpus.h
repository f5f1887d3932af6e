#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace perfcast::server {

// The CPUs this process may run on: those of its affinity mask, at most the CPU quota of its
// cgroup (v2 `cpu.max` of its own group and of each group above it; v1 `cpu.cfs_quota_us`),
// rounded up. A container sees every core of its node through std::thread::hardware_concurrency()
// even when its quota allows two. At least 1.
int AvailableCpus();

// The CPUs a quota of `quota` over `period` (cgroup v2 `cpu.max`'s "QUOTA PERIOD", or v1's two
// files joined by a space) allows, rounded up; nullopt for "max" or a negative quota (none) or a
// line it cannot read.
std::optional<int> CpusOfCpuMax(absl::string_view line);

// The process's cgroup v2 path ("/kubepods/pod1/abc") from the contents of /proc/self/cgroup
// (its "0::PATH" line); nullopt without one (cgroup v1 only).
std::optional<std::string> CgroupV2PathOf(absl::string_view proc_self_cgroup);

}  // namespace perfcast::server
