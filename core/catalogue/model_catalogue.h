#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace perfcast {

// One model's architecture, from its Hugging Face config.json and model card. Fields the
// source does not give are absent, never estimated.
struct ModelSpec {
  std::string name;
  double parameters = 0;
  // Parameters a token passes through: all of them for a dense model, the shared part plus
  // `experts_per_token` experts for a mixture of experts.
  double active_parameters = 0;
  int layers = 0;
  int hidden_size = 0;
  int attention_heads = 0;
  std::optional<int> kv_heads;  // absent when it varies by layer
  std::optional<int> head_dim;  // absent: hidden_size / attention_heads
  // Elements the KV cache holds per token and layer when it is not 2 x kv_heads x head_dim
  // (multi-head latent attention caches one compressed latent).
  std::optional<int> kv_cache_elements_per_token_per_layer;
  int experts = 1;
  int experts_per_token = 1;
  int vocabulary = 0;
  // The precision name (of precisions.csv, or an alias) the published weights are stored in;
  // empty where the catalogue does not say. A run that records no precision is read as this one
  // (Catalogue::PrecisionOf).
  std::string checkpoint_precision;
  std::string source;

  // KV-cache elements one token adds across all layers; nullopt when the KV heads are unknown.
  std::optional<double> KvCacheElementsPerToken() const;
};

// Storage of one precision name: weights and KV cache in bytes per element, and which peak
// FLOP/s its matrix products run at.
struct PrecisionSpec {
  enum class Math { kBf16, kFp8 };

  std::string name;
  double weight_bytes_per_parameter = 0;
  double kv_cache_bytes_per_element = 0;
  Math math = Math::kBf16;
  std::string source;
};

// Reads models.csv (columns name, parameters, active_parameters, layers, hidden_size,
// attention_heads, kv_heads, head_dim, kv_cache_elements_per_token_per_layer, experts,
// experts_per_token, vocabulary, source, and optionally checkpoint_precision; empty
// active_parameters means dense). InvalidArgument
// "file:line: column: why" for a bad row, including active > total parameters or
// experts_per_token >= experts.
absl::StatusOr<std::vector<ModelSpec>> ParseModelTable(absl::string_view text,
                                                       absl::string_view file);

// Reads precisions.csv (columns name, weight_bytes_per_parameter, kv_cache_bytes_per_element,
// math = bf16 | fp8, source).
absl::StatusOr<std::vector<PrecisionSpec>> ParsePrecisionTable(absl::string_view text,
                                                               absl::string_view file);

}  // namespace perfcast
