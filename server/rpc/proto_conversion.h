#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"
#include "core/model/prediction.h"
#include "perfcast/v1/perfcast.pb.h"

namespace perfcast::server {

// Bounds on one request, from flags.
struct RequestLimits {
  int max_queries_per_request = 1000;
  int max_batch_sizes_per_query = 256;
};

// Hard bounds on values, shared by the server and its clients' docs.
inline constexpr int kMaxBatchSize = 65536;
inline constexpr int kMaxTokens = 10'000'000;
inline constexpr int kMaxGpuCount = 65536;
inline constexpr size_t kMaxStringBytes = 256;
inline constexpr double kDefaultConfidenceLevel = 0.9;

// One invalid field: `message` names the path and value ("queries[3].input_tokens=-5: must be
// > 0"); `reason` is a metric label ("field_missing", "out_of_range", "not_finite").
struct FieldError {
  std::string field;
  std::string message;
  absl::string_view reason;
};

// A Query checked and converted to core types.
struct ValidatedQuery {
  PredictionQuery query;
  std::vector<int> batch_sizes;
  double confidence_level = kDefaultConfidenceLevel;
};

// Validates `query` (`path` prefixes field names, e.g. "queries[3]").
std::optional<FieldError> ValidateQuery(const v1::Query& query, absl::string_view path,
                                        const RequestLimits& limits, ValidatedQuery* out);

// Validates a submitted result and converts it; the source id goes to `record.source`.
// `field` names in errors are relative to the result ("throughput_tokens_per_second"); `path`
// prefixes them in the message ("results[7]").
std::optional<FieldError> ValidateBenchmarkResult(const v1::BenchmarkResult& result,
                                                  absl::string_view path, BenchmarkRecord* out);

void ConfigurationToProto(const Configuration& configuration, v1::Configuration* out);
v1::PredictionCase PredictionCaseToProto(PredictionCase prediction_case);
void CatalogueEntriesToProto(const CatalogueEntryNames& names, v1::CatalogueEntries* out);

}  // namespace perfcast::server
