#include "proto/convert/prediction_conversion.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "proto/convert/configuration_conversion.h"

namespace perfcast {

std::optional<FieldError> ValidateQuery(const v1::Query& query, absl::string_view path,
                                        const RequestLimits& limits, ValidatedQuery* out) {
  if (auto e = ConfigurationFromProto(query.configuration(), query.has_configuration(), path,
                                      &out->query.configuration)) {
    return e;
  }
  if (auto e = CheckRange(path, "input_tokens", query.input_tokens(), kMaxTokens)) return e;
  if (auto e = CheckRange(path, "output_tokens", query.output_tokens(), kMaxTokens)) return e;
  out->query.shape = Shape{query.input_tokens(), query.output_tokens()};
  const int count = query.batch_sizes_size();
  if (count == 0)
    return MakeFieldError(path, "batch_sizes", ": must not be empty", "field_missing");
  if (count > limits.max_batch_sizes_per_query) {
    return MakeFieldError(
        path, "batch_sizes",
        absl::StrCat(": ", count, " entries, at most ", limits.max_batch_sizes_per_query),
        "out_of_range");
  }
  out->batch_sizes.clear();
  out->batch_sizes.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const std::string field = absl::StrCat("batch_sizes[", i, "]");
    if (auto e = CheckRange(path, field, query.batch_sizes(i), kMaxBatchSize)) return e;
    out->batch_sizes.push_back(query.batch_sizes(i));
  }
  out->confidence_level = kDefaultConfidenceLevel;
  if (query.has_confidence_level()) {
    const double level = query.confidence_level();
    if (!std::isfinite(level) || level <= 0 || level >= 1) {
      return MakeFieldError(path, "confidence_level",
                            absl::StrCat("=", level, ": must be in (0, 1)"),
                            std::isfinite(level) ? "out_of_range" : "not_finite");
    }
    out->confidence_level = level;
  }
  return std::nullopt;
}

v1::Query QueryToProto(const PredictionQuery& query, const std::vector<int>& batch_sizes,
                       std::optional<double> confidence_level) {
  v1::Query out;
  ConfigurationToProto(query.configuration, out.mutable_configuration());
  out.set_input_tokens(query.shape.input_tokens);
  out.set_output_tokens(query.shape.output_tokens);
  for (int batch_size : batch_sizes) out.add_batch_sizes(batch_size);
  if (confidence_level.has_value()) out.set_confidence_level(*confidence_level);
  return out;
}

v1::PredictionCase PredictionCaseToProto(PredictionCase prediction_case) {
  switch (prediction_case) {
    case PredictionCase::kMeasured:
      return v1::PREDICTION_CASE_MEASURED;
    case PredictionCase::kInterpolated:
      return v1::PREDICTION_CASE_INTERPOLATED;
    case PredictionCase::kExtrapolatedBatch:
      return v1::PREDICTION_CASE_EXTRAPOLATED_BATCH;
    case PredictionCase::kExtrapolatedShape:
      return v1::PREDICTION_CASE_EXTRAPOLATED_SHAPE;
    case PredictionCase::kNewConfiguration:
      return v1::PREDICTION_CASE_NEW_CONFIGURATION;
  }
  return v1::PREDICTION_CASE_UNSPECIFIED;
}

std::optional<PredictionCase> PredictionCaseFromProto(v1::PredictionCase prediction_case) {
  switch (prediction_case) {
    case v1::PREDICTION_CASE_MEASURED:
      return PredictionCase::kMeasured;
    case v1::PREDICTION_CASE_INTERPOLATED:
      return PredictionCase::kInterpolated;
    case v1::PREDICTION_CASE_EXTRAPOLATED_BATCH:
      return PredictionCase::kExtrapolatedBatch;
    case v1::PREDICTION_CASE_EXTRAPOLATED_SHAPE:
      return PredictionCase::kExtrapolatedShape;
    case v1::PREDICTION_CASE_NEW_CONFIGURATION:
      return PredictionCase::kNewConfiguration;
    default:
      return std::nullopt;
  }
}

std::string PredictionCaseApiName(v1::PredictionCase prediction_case) {
  constexpr absl::string_view kPrefix = "PREDICTION_CASE_";
  const std::string& name = v1::PredictionCase_Name(prediction_case);
  // An unknown value has an empty name.
  if (!absl::StartsWith(name, kPrefix)) return "unspecified";
  return absl::AsciiStrToLower(absl::string_view(name).substr(kPrefix.size()));
}

v1::MemoryFit MemoryVerdictToProto(MemoryVerdict verdict) {
  switch (verdict) {
    case MemoryVerdict::kFits:
      return v1::MEMORY_FIT_FITS;
    case MemoryVerdict::kDoesNotFit:
      return v1::MEMORY_FIT_DOES_NOT_FIT;
    case MemoryVerdict::kUnknown:
      break;
  }
  return v1::MEMORY_FIT_UNKNOWN;
}

MemoryVerdict MemoryVerdictFromProto(v1::MemoryFit memory_fit) {
  switch (memory_fit) {
    case v1::MEMORY_FIT_FITS:
      return MemoryVerdict::kFits;
    case v1::MEMORY_FIT_DOES_NOT_FIT:
      return MemoryVerdict::kDoesNotFit;
    default:
      return MemoryVerdict::kUnknown;
  }
}

PredictionCase PredictionToProto(const std::vector<PointPrediction>& points,
                                 double confidence_level, v1::Prediction* out) {
  out->set_confidence_level(confidence_level);
  PredictionCase least_supported = PredictionCase::kMeasured;
  out->mutable_points()->Reserve(static_cast<int>(points.size()));
  for (const PointPrediction& p : points) {
    v1::CurvePoint* point = out->add_points();
    point->set_batch_size(p.batch_size);
    point->set_throughput_tokens_per_second(p.throughput_tokens_per_s);
    point->set_throughput_lower_tokens_per_second(p.lower_tokens_per_s);
    point->set_throughput_upper_tokens_per_second(p.upper_tokens_per_s);
    point->set_batch_latency_seconds(p.batch_latency_s);
    point->set_prediction_case(PredictionCaseToProto(p.prediction_case));
    point->set_memory_fit(MemoryVerdictToProto(p.memory.verdict));
    point->set_memory_fit_reason(p.memory.reason);
    point->set_memory_required_gib_per_gpu(p.memory.required_gib_per_gpu);
    point->set_memory_available_gib_per_gpu(p.memory.available_gib_per_gpu);
    if (p.latency_statistic == LatencyStatistic::kMean) {
      point->set_ttft_seconds(p.ttft_s);
      point->set_ttft_lower_seconds(p.ttft_lower_s);
      point->set_ttft_upper_seconds(p.ttft_upper_s);
      point->set_itl_seconds(p.itl_s);
      point->set_itl_lower_seconds(p.itl_lower_s);
      point->set_itl_upper_seconds(p.itl_upper_s);
      point->set_latency_statistic(v1::LATENCY_STATISTIC_MEAN);
      point->set_p99_ttft_seconds(p.p99_ttft_s);
      point->set_p99_ttft_lower_seconds(p.p99_ttft_lower_s);
      point->set_p99_ttft_upper_seconds(p.p99_ttft_upper_s);
      point->set_p99_tpot_seconds(p.p99_tpot_s);
      point->set_p99_tpot_lower_seconds(p.p99_tpot_lower_s);
      point->set_p99_tpot_upper_seconds(p.p99_tpot_upper_s);
    }
    least_supported = std::max(least_supported, p.prediction_case);
  }
  out->set_prediction_case(PredictionCaseToProto(least_supported));
  if (!points.empty()) {
    out->set_largest_fitting_batch_size(points.front().memory.largest_fitting_batch_size);
  }
  return least_supported;
}

std::vector<PointPrediction> PointsFromProto(const v1::Prediction& prediction) {
  std::vector<PointPrediction> points;
  points.reserve(static_cast<size_t>(prediction.points_size()));
  for (const v1::CurvePoint& point : prediction.points()) {
    PointPrediction p;
    p.batch_size = point.batch_size();
    p.throughput_tokens_per_s = point.throughput_tokens_per_second();
    p.lower_tokens_per_s = point.throughput_lower_tokens_per_second();
    p.upper_tokens_per_s = point.throughput_upper_tokens_per_second();
    p.batch_latency_s = point.batch_latency_seconds();
    p.prediction_case = PredictionCaseFromProto(point.prediction_case())
                            .value_or(PredictionCase::kNewConfiguration);
    p.memory.verdict = MemoryVerdictFromProto(point.memory_fit());
    p.memory.reason = point.memory_fit_reason();
    if (point.memory_fit() == v1::MEMORY_FIT_UNSPECIFIED && p.memory.reason.empty()) {
      p.memory.reason = "the server sent no memory fit";
    }
    p.memory.required_gib_per_gpu = point.memory_required_gib_per_gpu();
    p.memory.available_gib_per_gpu = point.memory_available_gib_per_gpu();
    p.memory.largest_fitting_batch_size = prediction.largest_fitting_batch_size();
    // A statistic this build does not know is no answer it can label.
    if (point.latency_statistic() == v1::LATENCY_STATISTIC_MEAN) {
      p.latency_statistic = LatencyStatistic::kMean;
      p.ttft_s = point.ttft_seconds();
      p.ttft_lower_s = point.ttft_lower_seconds();
      p.ttft_upper_s = point.ttft_upper_seconds();
      p.itl_s = point.itl_seconds();
      p.itl_lower_s = point.itl_lower_seconds();
      p.itl_upper_s = point.itl_upper_seconds();
      p.p99_ttft_s = point.p99_ttft_seconds();
      p.p99_ttft_lower_s = point.p99_ttft_lower_seconds();
      p.p99_ttft_upper_s = point.p99_ttft_upper_seconds();
      p.p99_tpot_s = point.p99_tpot_seconds();
      p.p99_tpot_lower_s = point.p99_tpot_lower_seconds();
      p.p99_tpot_upper_s = point.p99_tpot_upper_seconds();
    }
    points.push_back(p);
  }
  return points;
}

void UncertaintyToProto(const UncertaintyReport& report, v1::UncertaintyResponse* out) {
  out->set_similarity_score(report.similarity_score);
  out->set_expected_relative_error(report.expected_relative_error);
  out->set_prediction_case(PredictionCaseToProto(report.prediction_case));
  for (const std::string& name : report.unseen_names) out->add_unseen_names(name);
  out->set_population(report.population);
  for (const std::string& note : report.outside_data) out->add_outside_data(note);
  for (const NeighborCurve& neighbor : report.nearest_curves) {
    v1::ObservedCurve* curve = out->add_nearest_curves();
    ConfigurationToProto(neighbor.configuration, curve->mutable_configuration());
    curve->set_input_tokens(neighbor.shape.input_tokens);
    curve->set_output_tokens(neighbor.shape.output_tokens);
    curve->set_distance(neighbor.distance);
  }
}

}  // namespace perfcast
