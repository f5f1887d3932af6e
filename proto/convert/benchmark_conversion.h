#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "core/data/benchmark_record.h"
#include "perfcast/v1/perfcast.pb.h"
#include "proto/convert/field_error.h"

namespace perfcast {

// Checks a submitted result and converts it; the source id goes to `record.source`. `field`
// names in errors are relative to the result ("throughput_tokens_per_second"); `path` prefixes
// them in the message ("results[7]").
std::optional<FieldError> ValidateBenchmarkResult(const v1::BenchmarkResult& result,
                                                  absl::string_view path, BenchmarkRecord* out);

// The result a client submits for `record`, under `source_id` (the caller picks a default for
// records without a source).
v1::BenchmarkResult BenchmarkResultToProto(const BenchmarkRecord& record,
                                           const std::string& source_id);

// Why the result at `index` of a stream was refused; its source id is cut to kMaxStringBytes.
void RejectionToProto(int64_t index, absl::string_view source_id, const FieldError& error,
                      v1::Rejection* out);

}  // namespace perfcast
