#include "clients/cli/prediction_printer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perfcast {
namespace {

// The latency fields of a point's JSON line, or nothing where the model has no latency answer.
std::string LatencyJson(const PointPrediction& p) {
  if (p.latency_statistic == LatencyStatistic::kUnavailable) return "";
  return absl::StrFormat(
      ",\"ttft_s\":%.6g,\"ttft_lower_s\":%.6g,\"ttft_upper_s\":%.6g,\"itl_s\":%.6g,"
      "\"itl_lower_s\":%.6g,\"itl_upper_s\":%.6g,\"latency_statistic\":\"mean\"",
      p.ttft_s, p.ttft_lower_s, p.ttft_upper_s, p.itl_s, p.itl_lower_s, p.itl_upper_s);
}

}  // namespace

std::string FormatPredictionTable(const std::vector<PointPrediction>& points,
                                  double confidence_level) {
  const std::string interval = absl::StrFormat("%.0f%% interval", confidence_level * 100);
  // The latency columns only when the model answers latencies; then "-" on a point without.
  const bool any_latency = std::any_of(points.begin(), points.end(), [](const PointPrediction& p) {
    return p.latency_statistic != LatencyStatistic::kUnavailable;
  });
  std::string text = absl::StrFormat("%10s %16s %27s %14s", "batch_size", "tokens_per_s", interval,
                                     "batch_latency_s");
  if (any_latency) {
    absl::StrAppend(&text,
                    absl::StrFormat(" %10s %23s %10s %23s", "ttft_s", interval, "itl_s", interval));
  }
  absl::StrAppend(&text, "  case\n");
  for (const PointPrediction& p : points) {
    // The latencies are means.
    const bool latency = p.latency_statistic != LatencyStatistic::kUnavailable;
    auto seconds = [latency](double value, double lower, double upper) {
      if (!latency) return absl::StrFormat(" %10s %23s", "-", "-");
      return absl::StrFormat(" %10.4g %10.4g - %10.4g", value, lower, upper);
    };
    absl::StrAppend(&text, absl::StrFormat("%10d %16.1f %13.1f - %11.1f %14.3f", p.batch_size,
                                           p.throughput_tokens_per_s, p.lower_tokens_per_s,
                                           p.upper_tokens_per_s, p.batch_latency_s));
    if (any_latency) {
      absl::StrAppend(&text, seconds(p.ttft_s, p.ttft_lower_s, p.ttft_upper_s),
                      seconds(p.itl_s, p.itl_lower_s, p.itl_upper_s));
    }
    absl::StrAppend(&text, "  ", PredictionCaseName(p.prediction_case), "\n");
  }
  return text;
}

std::string FormatPredictionJsonLines(const std::vector<PointPrediction>& points) {
  std::string text;
  for (const PointPrediction& p : points) {
    absl::StrAppend(
        &text,
        absl::StrFormat(
            "{\"batch_size\":%d,\"throughput_tokens_per_s\":%.6g,\"lower_tokens_per_s\":%.6g,"
            "\"upper_tokens_per_s\":%.6g,\"batch_latency_s\":%.6g,\"prediction_case\":\"%s\"%s}\n",
            p.batch_size, p.throughput_tokens_per_s, p.lower_tokens_per_s, p.upper_tokens_per_s,
            p.batch_latency_s, PredictionCaseName(p.prediction_case), LatencyJson(p)));
  }
  return text;
}

}  // namespace perfcast
