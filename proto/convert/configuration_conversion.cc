#include "proto/convert/configuration_conversion.h"

#include "absl/strings/str_cat.h"

namespace perfcast {

void ConfigurationToProto(const Configuration& configuration, v1::Configuration* out) {
  out->set_hardware(configuration.hardware);
  out->set_gpu_count(configuration.num_gpus);
  out->set_framework(configuration.framework);
  out->set_model(configuration.model);
  out->set_precision(configuration.precision);
}

std::optional<FieldError> ConfigurationFromProto(const v1::Configuration& configuration,
                                                 bool present, absl::string_view path,
                                                 Configuration* out) {
  const std::string config_path = FieldPath(path, "configuration");
  if (!present) {
    return FieldError{"configuration", absl::StrCat(config_path, ": must be set"), "field_missing"};
  }
  std::optional<FieldError> error = CheckString(config_path, "hardware", configuration.hardware());
  if (!error) error = CheckRange(config_path, "gpu_count", configuration.gpu_count(), kMaxGpuCount);
  if (!error) error = CheckString(config_path, "framework", configuration.framework());
  if (!error) error = CheckString(config_path, "model", configuration.model());
  if (!error) error = CheckString(config_path, "precision", configuration.precision());
  if (error) {
    error->field = absl::StrCat("configuration.", error->field);
    return error;
  }
  *out = ConfigurationFromProtoUnchecked(configuration);
  return std::nullopt;
}

Configuration ConfigurationFromProtoUnchecked(const v1::Configuration& configuration) {
  return Configuration{configuration.hardware(), configuration.gpu_count(),
                       configuration.framework(), configuration.model(), configuration.precision()};
}

void CatalogueEntriesToProto(const CatalogueEntryNames& names, v1::CatalogueEntries* out) {
  out->set_accelerator(names.accelerator);
  out->set_model(names.model);
  out->set_precision(names.precision);
  out->set_framework(names.framework);
}

}  // namespace perfcast
