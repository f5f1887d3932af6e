#pragma once

#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/model/prediction.h"
#include "perfcast/v1/perfcast.pb.h"
#include "proto/convert/field_error.h"

namespace perfcast {

// Bounds on one request, from flags.
struct RequestLimits {
  int max_queries_per_request = 1000;
  int max_batch_sizes_per_query = 256;
};

// Hard bounds on values, shared by the server and its clients' docs.
inline constexpr int kMaxBatchSize = 65536;
inline constexpr int kMaxTokens = 10'000'000;
inline constexpr double kDefaultConfidenceLevel = 0.9;

// A Query checked and converted to core types.
struct ValidatedQuery {
  PredictionQuery query;
  std::vector<int> batch_sizes;
  double confidence_level = kDefaultConfidenceLevel;
};

// Checks `query` and converts it (`path` prefixes field names, e.g. "queries[3]").
std::optional<FieldError> ValidateQuery(const v1::Query& query, absl::string_view path,
                                        const RequestLimits& limits, ValidatedQuery* out);

// The Query a client sends; confidence_level stays unset (the server's default) unless given.
v1::Query QueryToProto(const PredictionQuery& query, const std::vector<int>& batch_sizes,
                       std::optional<double> confidence_level = std::nullopt);

v1::PredictionCase PredictionCaseToProto(PredictionCase prediction_case);
// PREDICTION_CASE_UNSPECIFIED, or a value this build does not know, has no core case.
std::optional<PredictionCase> PredictionCaseFromProto(v1::PredictionCase prediction_case);

// The API's name of a case: the enum value's name without its prefix, in lower case
// ("extrapolated_batch"); "unspecified" for PREDICTION_CASE_UNSPECIFIED and unknown values.
std::string PredictionCaseApiName(v1::PredictionCase prediction_case);

v1::MemoryFit MemoryVerdictToProto(MemoryVerdict verdict);
// MEMORY_FIT_UNSPECIFIED (a server that predates the memory fit), or a value this build does not
// know, is kUnknown.
MemoryVerdict MemoryVerdictFromProto(v1::MemoryFit memory_fit);

// The answer to one query: its points in order, the level used, the least supported case of the
// points and the largest batch that fits (the points' memory, the same for each). Returns that
// case.
PredictionCase PredictionToProto(const std::vector<PointPrediction>& points,
                                 double confidence_level, v1::Prediction* out);

// A server's answer to one query as core points. The wire carries no expected error per point:
// expected_relative_error stays 0. A point with an unknown case becomes kNewConfiguration, the
// least supported one; each point's memory carries the query's largest fitting batch.
std::vector<PointPrediction> PointsFromProto(const v1::Prediction& prediction);

// Similarity, expected error, case and nearest observed curves of `report`; the catalogue
// entries and the model version are the caller's to add.
void UncertaintyToProto(const UncertaintyReport& report, v1::UncertaintyResponse* out);

}  // namespace perfcast
