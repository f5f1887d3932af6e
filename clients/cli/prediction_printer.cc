#include "clients/cli/prediction_printer.h"

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
  // The reasons under the table: one per point that does not fit or is unknown, and the largest
  // batch of the shape that fits.
  for (const PointPrediction& p : points) {
    if (p.memory.verdict != MemoryVerdict::kFits) {
      absl::StrAppend(&text, absl::StrFormat("batch %d %s: %s\n", p.batch_size,
                                             MemoryVerdictName(p.memory.verdict), p.memory.reason));
    }
  }
  if (!points.empty()) {
    const PointPrediction& first = points.front();
    if (first.memory.verdict == MemoryVerdict::kUnknown) {
      // Said above, once per point.
    } else if (first.memory.largest_fitting_batch_size > 0) {
      absl::StrAppend(&text, absl::StrFormat("largest batch that fits this shape: %d\n",
                                             first.memory.largest_fitting_batch_size));
    } else {
      absl::StrAppend(&text, "no batch of this shape fits in memory\n");
    }
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
