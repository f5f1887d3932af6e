#include "clients/cli/prediction_printer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perfcast {

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

namespace {

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

// A 99th percentile's fields, or nothing where the model gave none (0).
std::string TailJson(absl::string_view name, double value, double lower, double upper) {
  if (!(value > 0)) return "";
  return absl::StrFormat(",\"%s_s\":%.6g,\"%s_lower_s\":%.6g,\"%s_upper_s\":%.6g", name, value,
                         name, lower, name, upper);
}

// The latency fields of a point's JSON line, or nothing where the model has no latency answer.
std::string LatencyJson(const PointPrediction& p) {
  if (p.latency_statistic == LatencyStatistic::kUnavailable) return "";
  return absl::StrFormat(
             ",\"ttft_s\":%.6g,\"ttft_lower_s\":%.6g,\"ttft_upper_s\":%.6g,\"itl_s\":%.6g,"
             "\"itl_lower_s\":%.6g,\"itl_upper_s\":%.6g,\"latency_statistic\":\"mean\"",
             p.ttft_s, p.ttft_lower_s, p.ttft_upper_s, p.itl_s, p.itl_lower_s, p.itl_upper_s) +
         TailJson("p99_ttft", p.p99_ttft_s, p.p99_ttft_lower_s, p.p99_ttft_upper_s) +
         TailJson("p99_tpot", p.p99_tpot_s, p.p99_tpot_lower_s, p.p99_tpot_upper_s);
}

bool HasTails(const PointPrediction& p) { return p.p99_ttft_s > 0 || p.p99_tpot_s > 0; }

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
  const bool any_tail = std::any_of(points.begin(), points.end(), HasTails);
  if (any_latency) {
    absl::StrAppend(&text,
                    absl::StrFormat(" %10s %23s %10s %23s", "ttft_s", interval, "itl_s", interval));
  }
  if (any_tail) {
    absl::StrAppend(&text, absl::StrFormat(" %10s %23s %10s %23s", "p99_ttft_s", interval,
                                           "p99_tpot_s", interval));
  }
  absl::StrAppend(&text, absl::StrFormat("  %-18s %s\n", "case", "fits"));
  for (const PointPrediction& p : points) {
    // The latencies are means.
    const bool latency = p.latency_statistic != LatencyStatistic::kUnavailable;
    auto seconds = [latency](double value, double lower, double upper) {
      if (!latency) return absl::StrFormat(" %10s %23s", "-", "-");
      return absl::StrFormat(" %10.4g %10.4g - %10.4g", value, lower, upper);
    };
    // A 99th percentile is 0 where the model answered none.
    auto tail = [&seconds](double value, double lower, double upper) {
      return value > 0 ? seconds(value, lower, upper) : absl::StrFormat(" %10s %23s", "-", "-");
    };
    absl::StrAppend(&text, absl::StrFormat("%10d %16.1f %13.1f - %11.1f %14.3f", p.batch_size,
                                           p.throughput_tokens_per_s, p.lower_tokens_per_s,
                                           p.upper_tokens_per_s, p.batch_latency_s));
    if (any_latency) {
      absl::StrAppend(&text, seconds(p.ttft_s, p.ttft_lower_s, p.ttft_upper_s),
                      seconds(p.itl_s, p.itl_lower_s, p.itl_upper_s));
    }
    if (any_tail) {
      absl::StrAppend(&text, tail(p.p99_ttft_s, p.p99_ttft_lower_s, p.p99_ttft_upper_s),
                      tail(p.p99_tpot_s, p.p99_tpot_lower_s, p.p99_tpot_upper_s));
    }
    absl::StrAppend(&text, absl::StrFormat("  %-18s %s\n", PredictionCaseName(p.prediction_case),
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
            "\"largest_fitting_batch_size\":%d%s}\n",
            p.batch_size, p.throughput_tokens_per_s, p.lower_tokens_per_s, p.upper_tokens_per_s,
            p.batch_latency_s, PredictionCaseName(p.prediction_case), FitsJson(p.memory.verdict),
            MemoryVerdictName(p.memory.verdict), JsonString(p.memory.reason),
            p.memory.required_gib_per_gpu, p.memory.available_gib_per_gpu,
            p.memory.largest_fitting_batch_size, LatencyJson(p)));
  }
  return text;
}

}  // namespace perfcast
