#include "proto/convert/benchmark_conversion.h"

#include "proto/convert/configuration_conversion.h"
#include "proto/convert/prediction_conversion.h"
#include "proto/convert/string_limits.h"

namespace perfcast {
namespace {

// An optional measurement: unset stays unset, a set one must be finite and > 0.
std::optional<FieldError> OptionalPositive(absl::string_view path, absl::string_view field,
                                           bool present, double value, std::optional<double>* out) {
  out->reset();
  if (!present) return std::nullopt;
  if (auto e = CheckPositiveFinite(path, field, value)) return e;
  *out = value;
  return std::nullopt;
}

}  // namespace

std::optional<FieldError> ValidateBenchmarkResult(const v1::BenchmarkResult& result,
                                                  absl::string_view path, BenchmarkRecord* out) {
  if (auto e = CheckString(path, "source_id", result.source_id())) return e;
  if (auto e = ConfigurationFromProto(result.configuration(), result.has_configuration(), path,
                                      &out->configuration)) {
    return e;
  }
  if (auto e = CheckRange(path, "input_tokens", result.input_tokens(), kMaxTokens)) return e;
  if (auto e = CheckRange(path, "output_tokens", result.output_tokens(), kMaxTokens)) return e;
  if (auto e = CheckRange(path, "batch_size", result.batch_size(), kMaxBatchSize)) return e;
  if (auto e = CheckPositiveFinite(path, "throughput_tokens_per_second",
                                   result.throughput_tokens_per_second())) {
    return e;
  }
  if (auto e = OptionalPositive(path, "batch_latency_seconds", result.has_batch_latency_seconds(),
                                result.batch_latency_seconds(), &out->latency_s)) {
    return e;
  }
  if (auto e = OptionalPositive(path, "time_to_first_token_seconds",
                                result.has_time_to_first_token_seconds(),
                                result.time_to_first_token_seconds(), &out->ttft_s)) {
    return e;
  }
  if (auto e = OptionalPositive(path, "inter_token_latency_seconds",
                                result.has_inter_token_latency_seconds(),
                                result.inter_token_latency_seconds(), &out->itl_s)) {
    return e;
  }
  if (auto e = OptionalPositive(path, "p99_time_to_first_token_seconds",
                                result.has_p99_time_to_first_token_seconds(),
                                result.p99_time_to_first_token_seconds(), &out->p99_ttft_s)) {
    return e;
  }
  if (auto e = OptionalPositive(path, "p99_time_per_output_token_seconds",
                                result.has_p99_time_per_output_token_seconds(),
                                result.p99_time_per_output_token_seconds(), &out->p99_tpot_s)) {
    return e;
  }
  out->shape = Shape{result.input_tokens(), result.output_tokens()};
  // A published maximum has no batch size of its own: it sits where every such point sits
  // (docs/METHOD.md §8), whatever the submitter put there.
  out->batch_size = out->configuration.batch_semantics == BatchSemantics::kMaxThroughput
                        ? kSaturationBatchSize
                        : result.batch_size();
  out->throughput_tokens_per_s = result.throughput_tokens_per_second();
  out->source = result.source_id();
  return std::nullopt;
}

v1::BenchmarkResult BenchmarkResultToProto(const BenchmarkRecord& record,
                                           const std::string& source_id) {
  v1::BenchmarkResult out;
  out.set_source_id(source_id);
  ConfigurationToProto(record.configuration, out.mutable_configuration());
  out.set_input_tokens(record.shape.input_tokens);
  out.set_output_tokens(record.shape.output_tokens);
  out.set_batch_size(record.batch_size);
  out.set_throughput_tokens_per_second(record.throughput_tokens_per_s);
  if (record.latency_s) out.set_batch_latency_seconds(*record.latency_s);
  if (record.ttft_s) out.set_time_to_first_token_seconds(*record.ttft_s);
  if (record.itl_s) out.set_inter_token_latency_seconds(*record.itl_s);
  if (record.p99_ttft_s) out.set_p99_time_to_first_token_seconds(*record.p99_ttft_s);
  if (record.p99_tpot_s) out.set_p99_time_per_output_token_seconds(*record.p99_tpot_s);
  return out;
}

void RejectionToProto(int64_t index, absl::string_view source_id, const FieldError& error,
                      v1::Rejection* out) {
  out->set_index(index);
  out->set_source_id(std::string(TruncateUtf8(source_id, kMaxStringBytes)));
  out->set_field(error.field);
  out->set_reason(error.message);
}

}  // namespace perfcast
