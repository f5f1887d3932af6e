#include "core/catalogue/model_catalogue.h"

#include <utility>

#include "core/catalogue/catalogue_table.h"

namespace perfcast {

std::optional<double> ModelSpec::KvCacheElementsPerToken() const {
  if (kv_cache_elements_per_token_per_layer.has_value()) {
    return static_cast<double>(layers) * *kv_cache_elements_per_token_per_layer;
  }
  if (!kv_heads.has_value()) return std::nullopt;
  // One key and one value vector per KV head and layer.
  const double dim =
      head_dim.has_value() ? *head_dim : static_cast<double>(hidden_size) / attention_heads;
  return 2.0 * layers * *kv_heads * dim;
}

absl::StatusOr<std::vector<ModelSpec>> ParseModelTable(absl::string_view text,
                                                       absl::string_view file) {
  constexpr absl::string_view kColumns[] = {
      "name",     "parameters",        "active_parameters",
      "layers",   "hidden_size",       "attention_heads",
      "kv_heads", "head_dim",          "kv_cache_elements_per_token_per_layer",
      "experts",  "experts_per_token", "vocabulary",
      "source"};
  absl::StatusOr<CatalogueTable> table = CatalogueTable::Parse(text, file, kColumns);
  if (!table.ok()) return table.status();
  if (absl::Status unique = table->CheckUnique("name"); !unique.ok()) return unique;
  std::vector<ModelSpec> models;
  for (const CatalogueRow& row : table->rows()) {
    ModelSpec spec;
    absl::StatusOr<std::string> name = row.Text("name");
    if (!name.ok()) return name.status();
    spec.name = *std::move(name);
    absl::StatusOr<double> parameters = row.PositiveNumber("parameters");
    if (!parameters.ok()) return parameters.status();
    spec.parameters = *parameters;
    absl::StatusOr<std::optional<double>> active = row.OptionalPositiveNumber("active_parameters");
    if (!active.ok()) return active.status();
    spec.active_parameters = active->value_or(spec.parameters);
    if (spec.active_parameters > spec.parameters) {
      return row.Error("active_parameters", "exceeds parameters");
    }
    for (auto [column, slot] :
         {std::pair{"layers", &spec.layers}, std::pair{"hidden_size", &spec.hidden_size},
          std::pair{"attention_heads", &spec.attention_heads},
          std::pair{"vocabulary", &spec.vocabulary}}) {
      absl::StatusOr<int> value = row.PositiveInt(column);
      if (!value.ok()) return value.status();
      *slot = *value;
    }
    for (auto [column, slot] :
         {std::pair{"kv_heads", &spec.kv_heads}, std::pair{"head_dim", &spec.head_dim},
          std::pair{"kv_cache_elements_per_token_per_layer",
                    &spec.kv_cache_elements_per_token_per_layer}}) {
      absl::StatusOr<std::optional<int>> value = row.OptionalPositiveInt(column);
      if (!value.ok()) return value.status();
      *slot = *value;
    }
    for (auto [column, slot] : {std::pair{"experts", &spec.experts},
                                std::pair{"experts_per_token", &spec.experts_per_token}}) {
      absl::StatusOr<std::optional<int>> value = row.OptionalPositiveInt(column);
      if (!value.ok()) return value.status();
      *slot = value->value_or(1);
    }
    if (spec.experts > 1 && spec.experts_per_token >= spec.experts) {
      return row.Error("experts_per_token", "must be below experts");
    }
    if ((spec.experts > 1) != (spec.active_parameters < spec.parameters)) {
      return row.Error("active_parameters",
                       "must be given, and below parameters, exactly when experts > 1");
    }
    spec.checkpoint_precision = row.OptionalText("checkpoint_precision");
    absl::StatusOr<std::string> source = row.Text("source");
    if (!source.ok()) return source.status();
    spec.source = *std::move(source);
    models.push_back(std::move(spec));
  }
  return models;
}

absl::StatusOr<std::vector<PrecisionSpec>> ParsePrecisionTable(absl::string_view text,
                                                               absl::string_view file) {
  constexpr absl::string_view kColumns[] = {"name", "weight_bytes_per_parameter",
                                            "kv_cache_bytes_per_element", "math", "source"};
  absl::StatusOr<CatalogueTable> table = CatalogueTable::Parse(text, file, kColumns);
  if (!table.ok()) return table.status();
  if (absl::Status unique = table->CheckUnique("name"); !unique.ok()) return unique;
  std::vector<PrecisionSpec> precisions;
  for (const CatalogueRow& row : table->rows()) {
    PrecisionSpec spec;
    absl::StatusOr<std::string> name = row.Text("name");
    if (!name.ok()) return name.status();
    spec.name = *std::move(name);
    absl::StatusOr<double> weight_bytes = row.PositiveNumber("weight_bytes_per_parameter");
    if (!weight_bytes.ok()) return weight_bytes.status();
    spec.weight_bytes_per_parameter = *weight_bytes;
    absl::StatusOr<double> kv_bytes = row.PositiveNumber("kv_cache_bytes_per_element");
    if (!kv_bytes.ok()) return kv_bytes.status();
    spec.kv_cache_bytes_per_element = *kv_bytes;
    absl::StatusOr<std::string> math = row.Text("math");
    if (!math.ok()) return math.status();
    if (*math == "bf16") {
      spec.math = PrecisionSpec::Math::kBf16;
    } else if (*math == "fp8") {
      spec.math = PrecisionSpec::Math::kFp8;
    } else {
      return row.Error("math", "'" + *math + "' is neither bf16 nor fp8");
    }
    absl::StatusOr<std::string> source = row.Text("source");
    if (!source.ok()) return source.status();
    spec.source = *std::move(source);
    precisions.push_back(std::move(spec));
  }
  return precisions;
}

}  // namespace perfcast
