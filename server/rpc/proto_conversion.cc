#include "server/rpc/proto_conversion.h"

#include <cmath>

#include "absl//strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace perfcast::server {
namespace {

std::string Join(absl::string_view path, absl::string_view field) {
  if (path.empty()) return std::string(field);
  return absl::StrCat(path, ".", field);
}

FieldError Error(absl::string_view path, absl::string_view field, std::string message,
                 absl::string_view reason) {
  return FieldError{std::string(field), absl::StrCat(Join(path, field), message), reason};
}

// A string quoted for an error message, cut to stay short.
std::string Quote(absl::string_view value) {
  if (value.size() > 64) return absl::StrCat("'", value.substr(0, 64), "...'");
  return absl::StrCat("'", value, "'");
}

std::optional<FieldError> CheckString(absl::string_view path, absl::string_view field,
                                      const std::string& value) {
  if (value.empty()) return Error(path, field, "='': must not be empty", "field_missing");
  if (value.size() > kMaxStringBytes) {
    return Error(
        path, field,
        absl::StrCat("=", Quote(value), ": ", value.size(), " bytes, at most ", kMaxStringBytes),
        "out_of_range");
  }
  return std::nullopt;
}

std::optional<FieldError> CheckRange(absl::string_view path, absl::string_view field, int64_t value,
                                     int64_t max) {
  if (value <= 0)
    return Error(path, field, absl::StrCat("=", value, ": must be > 0"), "out_of_range");
  if (value > max) {
    return Error(path, field, absl::StrCat("=", value, ": must be <= ", max), "out_of_range");
  }
  return std::nullopt;
}

std::optional<FieldError> CheckPositiveFinite(absl::string_view path, absl::string_view field,
                                              double value) {
  if (!std::isfinite(value)) {
    return Error(path, field, absl::StrCat("=", value, ": must be finite and > 0"), "not_finite");
  }
  if (value <= 0) {
    return Error(path, field, absl::StrCat("=", value, ": must be finite and > 0"), "out_of_range");
  }
  return std::nullopt;
}

std::optional<FieldError> ValidateConfiguration(const v1::Configuration& proto,
                                                absl::string_view path, bool present,
                                                Configuration* out) {
  const std::string config_path = Join(path, "configuration");
  if (!present) {
    return FieldError{"configuration", absl::StrCat(config_path, ": must be set"), "field_missing"};
  }
  if (auto e = CheckString(config_path, "hardware", proto.hardware())) return e;
  if (auto e = CheckRange(config_path, "gpu_count", proto.gpu_count(), kMaxGpuCount)) return e;
  if (auto e = CheckString(config_path, "framework", proto.framework())) return e;
  if (auto e = CheckString(config_path, "model", proto.model())) return e;
  if (auto e = CheckString(config_path, "precision", proto.precision())) return e;
  out->hardware = proto.hardware();
  out->num_gpus = proto.gpu_count();
  out->framework = proto.framework();
  out->model = proto.model();
  out->precision = proto.precision();
  return std::nullopt;
}

}  // namespace

std::optional<FieldError> ValidateQuery(const v1::Query& query, absl::string_view path,
                                        const RequestLimits& limits, ValidatedQuery* out) {
  if (auto e = ValidateConfiguration(query.configuration(), path, query.has_configuration(),
                                     &out->query.configuration)) {
    if (e->field != "configuration") e->field = absl::StrCat("configuration.", e->field);
    return e;
  }
  if (auto e = CheckRange(path, "input_tokens", query.input_tokens(), kMaxTokens)) return e;
  if (auto e = CheckRange(path, "output_tokens", query.output_tokens(), kMaxTokens)) return e;
  out->query.shape = Shape{query.input_tokens(), query.output_tokens()};
  const int count = query.batch_sizes_size();
  if (count == 0) return Error(path, "batch_sizes", ": must not be empty", "field_missing");
  if (count > limits.max_batch_sizes_per_query) {
    return Error(path, "batch_sizes",
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
      return Error(path, "confidence_level", absl::StrCat("=", level, ": must be in (0, 1)"),
                   std::isfinite(level) ? "out_of_range" : "not_finite");
    }
    out->confidence_level = level;
  }
  return std::nullopt;
}

std::optional<FieldError> ValidateBenchmarkResult(const v1::BenchmarkResult& result,
                                                  absl::string_view path, BenchmarkRecord* out) {
  if (auto e = CheckString(path, "source_id", result.source_id())) return e;
  if (auto e = ValidateConfiguration(result.configuration(), path, result.has_configuration(),
                                     &out->configuration)) {
    if (e->field != "configuration") e->field = absl::StrCat("configuration.", e->field);
    return e;
  }
  if (auto e = CheckRange(path, "input_tokens", result.input_tokens(), kMaxTokens)) return e;
  if (auto e = CheckRange(path, "output_tokens", result.output_tokens(), kMaxTokens)) return e;
  if (auto e = CheckRange(path, "batch_size", result.batch_size(), kMaxBatchSize)) return e;
  if (auto e = CheckPositiveFinite(path, "throughput_tokens_per_second",
                                   result.throughput_tokens_per_second())) {
    return e;
  }
  out->ttft_s.reset();
  out->itl_s.reset();
  out->latency_s.reset();
  if (result.has_batch_latency_seconds()) {
    if (auto e =
            CheckPositiveFinite(path, "batch_latency_seconds", result.batch_latency_seconds())) {
      return e;
    }
    out->latency_s = result.batch_latency_seconds();
  }
  if (result.has_time_to_first_token_seconds()) {
    if (auto e = CheckPositiveFinite(path, "time_to_first_token_seconds",
                                     result.time_to_first_token_seconds())) {
      return e;
    }
    out->ttft_s = result.time_to_first_token_seconds();
  }
  if (result.has_inter_token_latency_seconds()) {
    if (auto e = CheckPositiveFinite(path, "inter_token_latency_seconds",
                                     result.inter_token_latency_seconds())) {
      return e;
    }
    out->itl_s = result.inter_token_latency_seconds();
  }
  out->shape = Shape{result.input_tokens(), result.output_tokens()};
  out->batch_size = result.batch_size();
  out->throughput_tokens_per_s = result.throughput_tokens_per_second();
  out->source = result.source_id();
  return std::nullopt;
}

void ConfigurationToProto(const Configuration& configuration, v1::Configuration* out) {
  out->set_hardware(configuration.hardware);
  out->set_gpu_count(configuration.num_gpus);
  out->set_framework(configuration.framework);
  out->set_model(configuration.model);
  out->set_precision(configuration.precision);
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

void CatalogueEntriesToProto(const CatalogueEntryNames& names, v1::CatalogueEntries* out) {
  out->set_accelerator(names.accelerator);
  out->set_model(names.model);
  out->set_precision(names.precision);
}

}  // namespace perfcast::server
