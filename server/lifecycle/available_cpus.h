#pragma once

#include <optional>

#include "absl/strings/string_view.h"

namespace perfcast::server {

// The CPUs this process may run on: those of its affinity mask, at most the cgroup's CPU quota
// (cgroup v2 `cpu.max`, rounded up). A container sees every core of its node through
// std::thread::hardware_concurrency() even when its quota allows two, and each training thread
// holds its own rows and histograms. At least 1.
int AvailableCpus();

// The CPUs a cgroup v2 `cpu.max` line ("QUOTA PERIOD" in microseconds) allows, rounded up;
// nullopt for "max" (no quota) or a line it cannot read.
std::optional<int> CpusOfCpuMax(absl::string_view line);

}  // namespace perfcast::server
