#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// What a curve's x-axis counts (docs/METHOD.md §1). A static batch and a client concurrency under
// continuous batching are different axes: a curve never mixes them, and a query says which one it
// means (static by default).
enum class BatchSemantics {
  kStatic,       // a static (offline) batch of sequences run together
  kConcurrency,  // requests kept in flight by a closed-loop client, continuous batching
  // A published maximum throughput with no batch size: where the curve saturates. Kept at
  // kSaturationBatchSize on an axis of its own.
  kMaxThroughput,
};
inline constexpr BatchSemantics kAllBatchSemantics[] = {
    BatchSemantics::kStatic, BatchSemantics::kConcurrency, BatchSemantics::kMaxThroughput};
// The batch size a max-throughput point is placed at: large enough to sit on the plateau of
// every curve the data hold, so that it reads as the ceiling.
inline constexpr int kSaturationBatchSize = 1024;

// The longest campaign name accepted, in bytes.
inline constexpr size_t kMaxCampaignBytes = 128;

// "static", "concurrency", "max_throughput".
absl::string_view BatchSemanticsName(BatchSemantics semantics);
// The inverse of BatchSemanticsName; nullopt for another string.
std::optional<BatchSemantics> BatchSemanticsFromName(absl::string_view name);

// The name of a configuration field whose value the source did not publish.
inline constexpr absl::string_view kNotPublished = "na";

// What stays fixed while a benchmark sweeps batch sizes. Free-form strings because the sets are
// open (new GPUs, stacks and models appear every month); kNotPublished stands for a value the
// source did not publish.
//
// The campaign (who measured, with which harness) and the x-axis are part of it: two campaigns'
// curves of the same system are two curves, since harnesses differ (docs/METHOD.md §8). An empty
// campaign in a query asks for the population of campaigns; in a result it is a campaign of its
// own, the submitter's unnamed one.
struct Configuration {
  std::string hardware;
  int num_gpus = 1;
  std::string framework;
  std::string model;
  std::string precision;
  std::string campaign;
  BatchSemantics batch_semantics = BatchSemantics::kStatic;

  friend auto operator<=>(const Configuration&, const Configuration&) = default;
  friend bool operator==(const Configuration&, const Configuration&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Configuration& c) {
    return H::combine(std::move(h), c.hardware, c.num_gpus, c.framework, c.model, c.precision,
                      c.campaign, c.batch_semantics);
  }

  // "hardware/num_gpus/framework/model/precision", then "@campaign" when there is one and
  // " (concurrency)" for an axis other than the static batch; for logs and tables.
  std::string ToString() const;

  // The fields in declaration order (a curve's and a latency curve's in a bundle); DataLoss for
  // an axis this build does not know.
  void EncodeTo(ByteWriter& writer) const;
  static absl::StatusOr<Configuration> DecodeFrom(ByteReader& reader);
};

// The named fields of a Configuration (all but the GPU count and the axis). kCampaign is not among
// kNamedConfigurationFields: a campaign is not a name the catalogue or the features know.
enum class ConfigurationField { kNone, kHardware, kFramework, kModel, kPrecision, kCampaign };
inline constexpr ConfigurationField kNamedConfigurationFields[] = {
    ConfigurationField::kHardware, ConfigurationField::kFramework, ConfigurationField::kModel,
    ConfigurationField::kPrecision};

// The value of `field` in `configuration`; "" for kNone.
const std::string& NameOf(const Configuration& configuration, ConfigurationField field);
// The same, to assign. REQUIRES: field != kNone.
std::string& MutableNameOf(Configuration& configuration, ConfigurationField field);
// "hardware", "framework", "model", "precision", "campaign"; "" for kNone.
absl::string_view FieldName(ConfigurationField field);

// The request shape: tokens in and out per request.
struct Shape {
  int input_tokens = 0;
  int output_tokens = 0;

  friend auto operator<=>(const Shape&, const Shape&) = default;
  friend bool operator==(const Shape&, const Shape&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Shape& s) {
    return H::combine(std::move(h), s.input_tokens, s.output_tokens);
  }
};

// One measured point. Throughput is generated (output) tokens per second of the whole system.
struct BenchmarkRecord {
  Configuration configuration;
  Shape shape;
  int batch_size = 0;
  double throughput_tokens_per_s = 0;
  std::optional<double> ttft_s;
  std::optional<double> itl_s;
  // The 99th percentile over requests of the TTFT and of each request's time per output token
  // (its decode time over its output tokens after the first), where the benchmark gives them.
  std::optional<double> p99_ttft_s;
  std::optional<double> p99_tpot_s;
  std::optional<double> latency_s;
  std::string source;
  // Who stored the result: the caller's name under --auth-tokens, "" without authentication,
  // "seed" for rows seeded from a CSV; and when (unix seconds; 0: not recorded). Stores keep
  // them; the model ignores them.
  std::string submitted_by;
  int64_t submitted_at_unix_s = 0;
};

}  // namespace perfcast
