#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/report/svg_chart.h"

namespace perfcast {

// Draws `chart` (core/report/svg_chart.h) and writes it to `path`, replacing the file. Errors
// name `flag` and the path: InvalidArgument for a chart that cannot be drawn, Unavailable for a
// file that cannot be written.
absl::Status WriteSvgFile(const std::string& path, const Chart& chart, absl::string_view flag);

}  // namespace perfcast
