#include "clients/cli/prediction_printer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perfcast {

std::string FormatPredictionTable(const std::vector<PointPrediction>& points,
                                  double confidence_level) {
  std::string text = absl::StrFormat("%10s %16s %27s %14s  %s\n", "batch_size", "tokens_per_s",
                                     absl::StrFormat("%.0f%% interval", confidence_level * 100),
                                     "batch_latency_s", "case");
  for (const PointPrediction& p : points) {
    absl::StrAppend(&text, absl::StrFormat("%10d %16.1f %13.1f - %11.1f %14.3f  %s\n", p.batch_size,
                                           p.throughput_tokens_per_s, p.lower_tokens_per_s,
                                           p.upper_tokens_per_s, p.batch_latency_s,
                                           PredictionCaseName(p.prediction_case)));
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
            "\"upper_tokens_per_s\":%.6g,\"batch_latency_s\":%.6g,\"prediction_case\":\"%s\"}\n",
            p.batch_size, p.throughput_tokens_per_s, p.lower_tokens_per_s, p.upper_tokens_per_s,
            p.batch_latency_s, PredictionCaseName(p.prediction_case)));
  }
  return text;
}

}  // namespace perfcast
