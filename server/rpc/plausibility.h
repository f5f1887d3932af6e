#pragma once

#include <optional>

#include "absl/strings/string_view.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"
#include "proto/convert/field_error.h"

namespace perfcast::server {

// How far a submitted throughput may exceed its physical ceiling before it is refused. The
// ceiling is the looser of the two bounds the datasheets give a decode step (streaming its bytes
// from memory, and computing its tokens at peak FLOP/s), with prefill's time left out: a
// benchmark that reports decode throughput alone, or a stack whose speculative decoding emits
// several tokens per step, stays under it with room to spare, while a unit slip (tokens per
// millisecond, a whole run's tokens) or a corrupt number lands far above it.
inline constexpr double kPlausibilityMargin = 3.0;

// Refuses (reason "implausible") a result whose throughput exceeds kPlausibilityMargin times the
// ceiling `catalogue` gives its configuration, shape and batch size; the message names the
// value, the ceiling and the margin. Accepts what the catalogue cannot bound: no catalogue, a
// hardware, model or precision it does not know, or a figure its entries lack. `path` locates
// the result ("results[7]"). The record must have passed ValidateBenchmarkResult.
std::optional<FieldError> CheckPlausible(const BenchmarkRecord& record, const Catalogue* catalogue,
                                         absl::string_view path);

}  // namespace perfcast::server
