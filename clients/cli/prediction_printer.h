#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/model/prediction.h"

namespace perfcast {

// `perfcast predict` output, the same whether a local bundle or a server answered: one row per
// batch size, as a table or as JSON lines. Needs no gRPC, so a CLI built without the server
// prints the same.

// A header, then per point: batch size, throughput, interval at `confidence_level`, batch
// latency, mean TTFT and ITL with their intervals, the 99th percentiles of TTFT and TPOT with
// theirs (columns only when some point has them; "-" on a point without), case and memory fit
// (fits, does_not_fit, unknown); under the table the reason of each point that does not fit or is
// unknown, and the largest batch of the shape that fits.
std::string FormatPredictionTable(const std::vector<PointPrediction>& points,
                                  double confidence_level);

// One JSON object per point and line: batch_size, throughput_tokens_per_s, lower_tokens_per_s,
// upper_tokens_per_s, batch_latency_s (six significant digits), prediction_case, fits (true,
// false, or null when unknown), memory_fit (its name), memory_fit_reason,
// memory_required_gib_per_gpu, memory_available_gib_per_gpu and largest_fitting_batch_size (0:
// unknown or none); then, where the model answers them, ttft_s, ttft_lower_s, ttft_upper_s, itl_s,
// itl_lower_s, itl_upper_s and latency_statistic ("mean"), and p99_ttft_s, p99_ttft_lower_s,
// p99_ttft_upper_s, p99_tpot_s, p99_tpot_lower_s, p99_tpot_upper_s.
std::string FormatPredictionJsonLines(const std::vector<PointPrediction>& points);

// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
std::string JsonString(absl::string_view text);

}  // namespace perfcast
