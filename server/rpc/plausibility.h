#pragma once

#include <optional>

#include "absl/strings/string_view.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"
#include "proto/convert/field_error.h"

namespace perfcast::server {

// How far a submitted throughput may exceed its physical ceiling before it is refused. The
// ceiling is the compute-bound token rate (peak FLOP/s over 2 FLOP per active parameter and
// token), which holds whatever the batch or the time spent in prefill; the margin covers
// datasheet figures below what a part reaches (boost clocks, sparsity) and stacks that skip
// work (speculative decoding whose drafts are accepted), while a unit slip (tokens per
// millisecond, a whole run's tokens) or a corrupt number lands far above it.
inline constexpr double kPlausibilityMargin = 3.0;

// Refuses (reason "implausible") a result whose throughput exceeds kPlausibilityMargin times the
// ceiling `catalogue` gives its configuration; the message names the
// value, the ceiling and the margin. Accepts what the catalogue cannot bound: no catalogue, a
// hardware, model or precision it does not know, or a figure its entries lack. `path` locates
// the result ("results[7]"). The record must have passed ValidateBenchmarkResult.
std::optional<FieldError> CheckPlausible(const BenchmarkRecord& record, const Catalogue* catalogue,
                                         absl::string_view path);

}  // namespace perfcast::server
