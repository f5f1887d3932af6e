#include "core/eval/evaluation_points.h"

#include <optional>

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

}  // namespace

std::string EvaluationPointsCsvHeader() {
  return "protocol,method,shots,hardware,num_gpus,framework,model,precision,campaign,input_tokens,"
         "output_tokens,batch_size,measured_tokens_per_s,predicted_tokens_per_s,lower_tokens_per_s,"
         "upper_tokens_per_s,expected_relative_error,measured_ttft_s,predicted_ttft_s,ttft_lower_s,"
         "ttft_upper_s,measured_itl_s,predicted_itl_s,itl_lower_s,itl_upper_s\n";
}

std::string EvaluationPointsCsvRow(absl::string_view protocol, absl::string_view method,
                                   std::optional<double> shots, const HeldOutPoint& point,
                                   const MethodPrediction& prediction) {
  const Configuration& c = point.configuration;
  std::optional<double> lower, upper, ttft_lower, ttft_upper, itl_lower, itl_upper;
  if (!prediction.intervals.empty()) {
    lower = prediction.intervals.front().lower_tokens_per_s;
    upper = prediction.intervals.front().upper_tokens_per_s;
  }
  if (prediction.ttft_s && !prediction.ttft_intervals.empty()) {
    ttft_lower = prediction.ttft_intervals.front().lower_s;
    ttft_upper = prediction.ttft_intervals.front().upper_s;
  }
  if (prediction.itl_s && !prediction.itl_intervals.empty()) {
    itl_lower = prediction.itl_intervals.front().lower_s;
    itl_upper = prediction.itl_intervals.front().upper_s;
  }
  return absl::StrCat(absl::StrJoin({CsvField(protocol),
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
                                     Number(point.ttft_s),
                                     Number(prediction.ttft_s),
                                     Number(ttft_lower),
                                     Number(ttft_upper),
                                     Number(point.itl_s),
                                     Number(prediction.itl_s),
                                     Number(itl_lower),
                                     Number(itl_upper)},
                                    ","),
                      "\n");
}

}  // namespace perfcast
