#include "clients/cli/evaluation_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cli/svg_file.h"
#include "core/report/svg_chart.h"

namespace perfcast {
namespace {

// A CDF is drawn through at most this many quantiles per method: enough for a smooth curve,
// small files whatever the number of held-out points.
constexpr int kCdfQuantiles = 200;

std::string RunName(absl::string_view protocol, std::optional<double> shots) {
  return shots.has_value() ? absl::StrFormat("%s_shots-%g", protocol, *shots)
                           : std::string(protocol);
}

std::string RunTitle(absl::string_view protocol, std::optional<double> shots) {
  return shots.has_value() ? absl::StrFormat("%s, shots %g", protocol, *shots)
                           : std::string(protocol);
}

ChartLine Cdf(const std::string& method, std::vector<double> errors) {
  std::sort(errors.begin(), errors.end());
  ChartLine line{absl::StrCat(method, " (", errors.size(), " points)"), {{0, 0}}, false};
  const size_t n = errors.size();
  const size_t steps = std::min<size_t>(n, kCdfQuantiles);
  for (size_t i = 1; i <= steps; ++i) {
    const size_t index = (i * n + steps - 1) / steps - 1;  // the last point of the i-th share
    line.points.push_back({errors[index], static_cast<double>(index + 1) / static_cast<double>(n)});
  }
  return line;
}

}  // namespace

absl::StatusOr<EvaluationReport> EvaluationReport::Create(const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (!std::filesystem::is_directory(directory)) {
    return absl::UnavailableError(
        absl::StrCat("--report=", directory, ": cannot make the directory",
                     error ? absl::StrCat(" (", error.message(), ")") : std::string()));
  }
  return EvaluationReport(directory);
}

void EvaluationReport::AddPoint(absl::string_view method, const HeldOutPoint& point,
                                const MethodPrediction& prediction) {
  if (!prediction.throughput_tokens_per_s.has_value() || !(point.throughput_tokens_per_s > 0)) {
    return;  // declined: the figures count it; an error distribution has nothing to add
  }
  auto [entry, added] = errors_percent_.try_emplace(std::string(method));
  if (added) methods_.emplace_back(method);
  entry->second.push_back(
      100 * std::abs(*prediction.throughput_tokens_per_s - point.throughput_tokens_per_s) /
      point.throughput_tokens_per_s);
}

absl::StatusOr<std::vector<std::string>> EvaluationReport::WriteRun(
    absl::string_view protocol, std::optional<double> shots,
    absl::Span<const EvaluationFigures> figures) {
  std::vector<std::string> written;
  const std::string run = RunName(protocol, shots);

  Chart errors;
  errors.title = absl::StrCat("Error distribution, ", RunTitle(protocol, shots));
  errors.subtitle =
      "throughput of the held-out points; the x axis ends at twice the largest p90 error";
  errors.y_axis = {"share of held-out points", AxisScale::kLinear, 0.0, 1.0};
  errors.legend = LegendCorner::kBottomRight;
  double largest_p90 = 0;
  for (const std::string& method : methods_) {
    std::vector<double>& values = errors_percent_[method];
    if (values.empty()) continue;
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    largest_p90 = std::max(largest_p90, sorted[static_cast<size_t>(0.9 * (sorted.size() - 1))]);
    errors.lines.push_back(Cdf(method, std::move(values)));
  }
  errors.x_axis = {"absolute percentage error (%)", AxisScale::kLinear, 0.0,
                   largest_p90 > 0 ? 2 * largest_p90 : 1.0};
  if (!errors.lines.empty()) {
    const std::string path = absl::StrCat(directory_, "/ape_", run, ".svg");
    if (absl::Status s = WriteSvgFile(path, errors, "--report"); !s.ok()) return s;
    written.push_back(path);
  }
  methods_.clear();
  errors_percent_.clear();

  Chart reliability;
  reliability.title = absl::StrCat("Reliability, ", RunTitle(protocol, shots));
  reliability.subtitle =
      "observed coverage of the throughput interval at each nominal level; on the dashed line "
      "they agree";
  reliability.x_axis = {"nominal level", AxisScale::kLinear, 0.0, 1.0};
  reliability.y_axis = {"observed coverage", AxisScale::kLinear, 0.0, 1.0};
  reliability.legend = LegendCorner::kBottomRight;
  for (const EvaluationFigures& f : figures) {
    // new-campaign's line over every held-out campaign stands for the run.
    if (f.target != EvaluationTarget::kThroughput || f.reliability.empty() ||
        (f.campaign.has_value() && *f.campaign != kAllCampaigns)) {
      continue;
    }
    ChartLine line{f.method, {}, false, /*dots=*/true};
    for (const LevelCoverage& level : f.reliability) {
      line.points.push_back({level.confidence_level, level.coverage});
    }
    reliability.lines.push_back(std::move(line));
  }
  if (!reliability.lines.empty()) {
    // Last, so that the methods keep the first colours.
    reliability.lines.push_back({"ideal", {{0, 0}, {1, 1}}, true});
    const std::string path = absl::StrCat(directory_, "/reliability_", run, ".svg");
    if (absl::Status s = WriteSvgFile(path, reliability, "--report"); !s.ok()) return s;
    written.push_back(path);
  }
  return written;
}

}  // namespace perfcast
