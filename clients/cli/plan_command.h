#pragma once

#include <optional>
#include <ostream>

#include "absl/status/status.h"
#include "clients/cli/command_line.h"
#include "clients/remote/remote_commands.h"

namespace perfcast {

extern const char kPlanHelp[];

// `perfcast plan`: builds a PlanRequest from the flags and asks `server`, or plans offline from
// --bundle when `server` is nullopt; prints the table, or the answer as JSON with --json.
absl::Status RunPlan(const CommandLine& line, const std::optional<RemoteTarget>& server,
                     std::ostream& out);

}  // namespace perfcast
