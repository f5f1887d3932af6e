#include "proto/convert/configuration_conversion.h"

#include "absl/strings/str_cat.h"

namespace perfcast {

void ConfigurationToProto(const Configuration& configuration, v1::Configuration* out) {
  out->set_hardware(configuration.hardware);
  out->set_gpu_count(configuration.num_gpus);
  out->set_framework(configuration.framework);
  out->set_model(configuration.model);
  out->set_precision(configuration.precision);
  if (!configuration.campaign.empty()) out->set_campaign(configuration.campaign);
  out->set_batch_semantics(BatchSemanticsToProto(configuration.batch_semantics));
}

v1::BatchSemantics BatchSemanticsToProto(BatchSemantics semantics) {
  switch (semantics) {
    case BatchSemantics::kStatic:
      return v1::BATCH_SEMANTICS_STATIC;
    case BatchSemantics::kConcurrency:
      return v1::BATCH_SEMANTICS_CONCURRENCY;
    case BatchSemantics::kMaxThroughput:
      return v1::BATCH_SEMANTICS_MAX_THROUGHPUT;
  }
  return v1::BATCH_SEMANTICS_STATIC;
}

std::optional<BatchSemantics> BatchSemanticsFromProto(int value) {
  switch (value) {
    case v1::BATCH_SEMANTICS_UNSPECIFIED:
    case v1::BATCH_SEMANTICS_STATIC:
      return BatchSemantics::kStatic;
    case v1::BATCH_SEMANTICS_CONCURRENCY:
      return BatchSemantics::kConcurrency;
    case v1::BATCH_SEMANTICS_MAX_THROUGHPUT:
      return BatchSemantics::kMaxThroughput;
    default:
      return std::nullopt;
  }
}

std::optional<FieldError> ConfigurationFromProto(const v1::Configuration& configuration,
                                                 bool present, absl::string_view path,
                                                 Configuration* out) {
  const std::string config_path = FieldPath(path, "configuration");
  if (!present) {
    return FieldError{"configuration", absl::StrCat(config_path, ": must be set"), "field_missing"};
  }
  std::optional<FieldError> error = ConfigurationMessageFromProto(configuration, config_path, out);
  if (error) error->field = absl::StrCat("configuration.", error->field);
  return error;
}

std::optional<FieldError> ConfigurationMessageFromProto(const v1::Configuration& configuration,
                                                        absl::string_view config_path,
                                                        Configuration* out) {
  std::optional<FieldError> error = CheckString(config_path, "hardware", configuration.hardware());
  if (!error) error = CheckRange(config_path, "gpu_count", configuration.gpu_count(), kMaxGpuCount);
  if (!error) error = CheckString(config_path, "framework", configuration.framework());
  if (!error) error = CheckString(config_path, "model", configuration.model());
  if (!error) error = CheckString(config_path, "precision", configuration.precision());
  if (!error && configuration.has_campaign()) {
    error = CheckString(config_path, "campaign", configuration.campaign(), kMaxCampaignBytes);
  }
  if (!error && !BatchSemanticsFromProto(configuration.batch_semantics()).has_value()) {
    error = MakeFieldError(config_path, "batch_semantics",
                           absl::StrCat("=", configuration.batch_semantics(),
                                        ": none of static, concurrency, max_throughput"),
                           "out_of_range");
  }
  if (error) return error;
  *out = ConfigurationFromProtoUnchecked(configuration);
  return std::nullopt;
}

Configuration ConfigurationFromProtoUnchecked(const v1::Configuration& configuration) {
  return Configuration{
      configuration.hardware(),
      configuration.gpu_count(),
      configuration.framework(),
      configuration.model(),
      configuration.precision(),
      configuration.campaign(),
      BatchSemanticsFromProto(configuration.batch_semantics()).value_or(BatchSemantics::kStatic)};
}

void CatalogueEntriesToProto(const CatalogueEntryNames& names, v1::CatalogueEntries* out) {
  out->set_accelerator(names.accelerator);
  out->set_model(names.model);
  out->set_precision(names.precision);
  out->set_framework(names.framework);
}

}  // namespace perfcast
