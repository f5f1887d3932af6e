#pragma once

#include <compare>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace perfcast {

// What stays fixed while a benchmark sweeps batch sizes. Free-form strings because the sets are
// open (new GPUs, stacks and models appear every month); "na" stands for a value the source did
// not publish.
struct Configuration {
  std::string hardware;
  int num_gpus = 1;
  std::string framework;
  std::string model;
  std::string precision;

  friend auto operator<=>(const Configuration&, const Configuration&) = default;
  friend bool operator==(const Configuration&, const Configuration&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Configuration& c) {
    return H::combine(std::move(h), c.hardware, c.num_gpus, c.framework, c.model, c.precision);
  }

  // "hardware/num_gpus/framework/model/precision", for logs and tables.
  std::string ToString() const;
};

// The named fields of a Configuration (all but the GPU count).
enum class ConfigurationField { kNone, kHardware, kFramework, kModel, kPrecision };
inline constexpr ConfigurationField kNamedConfigurationFields[] = {
    ConfigurationField::kHardware, ConfigurationField::kFramework, ConfigurationField::kModel,
    ConfigurationField::kPrecision};

// The value of `field` in `configuration`; "" for kNone.
const std::string& NameOf(const Configuration& configuration, ConfigurationField field);
// The same, to assign. REQUIRES: field != kNone.
std::string& MutableNameOf(Configuration& configuration, ConfigurationField field);
// "hardware", "framework", "model", "precision"; "" for kNone.
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
  std::optional<double> latency_s;
  std::string source;
};

}  // namespace perfcast
