#include "core/eval/evaluation_points.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace perfcast {
namespace {

// Names are free text (a model may be "org/name, v2"), so a field with a comma, quote or line
// break is quoted as RFC 4180 says.
std::string CsvField(absl::string_view text) {
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(text);
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

std::string Number(std::optional<double> value) {
  return value.has_value() ? absl::StrFormat("%.6g", *value) : std::string();
}

// A latency target's four columns: measured, predicted, and the interval at the first level
// where the method predicted it.
std::string LatencyColumns(std::optional<double> measured, std::optional<double> predicted,
                           const std::vector<LatencyInterval>& intervals) {
  std::optional<double> lower, upper;
  if (predicted.has_value() && !intervals.empty()) {
    lower = intervals.front().lower_s;
    upper = intervals.front().upper_s;
  }
  return absl::StrJoin({Number(measured), Number(predicted), Number(lower), Number(upper)}, ",");
}

}  // namespace

std::string EvaluationPointsCsvHeader() {
  return "protocol,method,shots,hardware,num_gpus,framework,model,precision,campaign,input_tokens,"
         "output_tokens,batch_size,measured_tokens_per_s,predicted_tokens_per_s,lower_tokens_per_s,"
         "upper_tokens_per_s,expected_relative_error,measured_ttft_s,predicted_ttft_s,ttft_lower_s,"
         "ttft_upper_s,measured_itl_s,predicted_itl_s,itl_lower_s,itl_upper_s,measured_p99_ttft_s,"
         "predicted_p99_ttft_s,p99_ttft_lower_s,p99_ttft_upper_s,measured_p99_tpot_s,"
         "predicted_p99_tpot_s,p99_tpot_lower_s,p99_tpot_upper_s\n";
}

std::string EvaluationPointsCsvRow(absl::string_view protocol, absl::string_view method,
                                   std::optional<double> shots, const HeldOutPoint& point,
                                   const MethodPrediction& prediction) {
  const Configuration& c = point.configuration;
  std::optional<double> lower, upper;
  if (!prediction.intervals.empty()) {
    lower = prediction.intervals.front().lower_tokens_per_s;
    upper = prediction.intervals.front().upper_tokens_per_s;
  }
  return absl::StrCat(
      absl::StrJoin(
          {CsvField(protocol),
           CsvField(method),
           Number(shots),
           CsvField(c.hardware),
           absl::StrCat(c.num_gpus),
           CsvField(c.framework),
           CsvField(c.model),
           CsvField(c.precision),
           CsvField(c.campaign),
           absl::StrCat(point.shape.input_tokens),
           absl::StrCat(point.shape.output_tokens),
           absl::StrCat(point.batch_size),
           Number(point.throughput_tokens_per_s),
           Number(prediction.throughput_tokens_per_s),
           Number(lower),
           Number(upper),
           Number(prediction.expected_relative_error),
           LatencyColumns(point.ttft_s, prediction.ttft_s, prediction.ttft_intervals),
           LatencyColumns(point.itl_s, prediction.itl_s, prediction.itl_intervals),
           LatencyColumns(point.p99_ttft_s, prediction.p99_ttft_s, prediction.p99_ttft_intervals),
           LatencyColumns(point.p99_tpot_s, prediction.p99_tpot_s, prediction.p99_tpot_intervals)},
          ","),
      "\n");
}

}  // namespace perfcast
