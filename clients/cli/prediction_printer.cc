#include "clients/cli/prediction_printer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perfcast {
namespace {

// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, absl::StrFormat("\\u%04x", static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// JSON's `fits`: true, false, or null when unknown.
absl::string_view FitsJson(MemoryVerdict verdict) {
  switch (verdict) {
    case MemoryVerdict::kFits:
      return "true";
    case MemoryVerdict::kDoesNotFit:
      return "false";
    case MemoryVerdict::kUnknown:
      break;
  }
  return "null";
}

}  // namespace

std::string FormatPredictionTable(const std::vector<PointPrediction>& points,
                                  double confidence_level) {
  std::string text =
      absl::StrFormat("%10s %16s %27s %14s  %-18s %s\n", "batch_size", "tokens_per_s",
                      absl::StrFormat("%.0f%% interval", confidence_level * 100), "batch_latency_s",
                      "case", "fits");
  for (const PointPrediction& p : points) {
    absl::StrAppend(&text, absl::StrFormat("%10d %16.1f %13.1f - %11.1f %14.3f  %-18s %s\n",
                                           p.batch_size, p.throughput_tokens_per_s,
                                           p.lower_tokens_per_s, p.upper_tokens_per_s,
                                           p.batch_latency_s, PredictionCaseName(p.prediction_case),
                                           MemoryVerdictName(p.memory.verdict)));
  }
  // Under the table: why each point does not fit, why the fit is unknown (once per reason: it
  // names the configuration, not the batch), and the largest batch of the shape that fits.
  std::vector<absl::string_view> unknown_reasons;
  for (const PointPrediction& p : points) {
    if (p.memory.verdict == MemoryVerdict::kDoesNotFit) {
      absl::StrAppend(
          &text, absl::StrFormat("batch %d does not fit: %s\n", p.batch_size, p.memory.reason));
    } else if (p.memory.verdict == MemoryVerdict::kUnknown &&
               std::find(unknown_reasons.begin(), unknown_reasons.end(), p.memory.reason) ==
                   unknown_reasons.end()) {
      unknown_reasons.push_back(p.memory.reason);
      absl::StrAppend(&text, absl::StrFormat("memory fit unknown: %s\n", p.memory.reason));
    }
  }
  if (!points.empty() && points.front().memory.verdict != MemoryVerdict::kUnknown) {
    const int largest = points.front().memory.largest_fitting_batch_size;
    absl::StrAppend(&text, largest > 0 ? absl::StrFormat("largest batch whose sequences all fit "
                                                         "in memory at once: %d\n",
                                                         largest)
                                       : std::string("not one sequence of this shape fits in "
                                                     "memory\n"));
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
            "\"upper_tokens_per_s\":%.6g,\"batch_latency_s\":%.6g,\"prediction_case\":\"%s\","
            "\"fits\":%s,\"memory_fit\":\"%s\",\"memory_fit_reason\":%s,"
            "\"memory_required_gib_per_gpu\":%.6g,\"memory_available_gib_per_gpu\":%.6g,"
            "\"largest_fitting_batch_size\":%d}\n",
            p.batch_size, p.throughput_tokens_per_s, p.lower_tokens_per_s, p.upper_tokens_per_s,
            p.batch_latency_s, PredictionCaseName(p.prediction_case), FitsJson(p.memory.verdict),
            MemoryVerdictName(p.memory.verdict), JsonString(p.memory.reason),
            p.memory.required_gib_per_gpu, p.memory.available_gib_per_gpu,
            p.memory.largest_fitting_batch_size));
  }
  return text;
}

}  // namespace perfcast
