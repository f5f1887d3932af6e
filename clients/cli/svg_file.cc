#include "clients/cli/svg_file.h"

#include <fstream>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace perfcast {

absl::Status WriteSvgFile(const std::string& path, const Chart& chart, absl::string_view flag) {
  const absl::StatusOr<std::string> svg = RenderSvg(chart);
  if (!svg.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, "=", path, ": cannot draw '", chart.title,
                                                   "': ", svg.status().message()));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << *svg;
  out.flush();
  if (!out) {
    return absl::UnavailableError(absl::StrCat(flag, "=", path, ": cannot write the file"));
  }
  return absl::OkStatus();
}

}  // namespace perfcast
