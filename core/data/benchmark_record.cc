#include "core/data/benchmark_record.h"

#include "absl/strings/str_cat.h"

namespace perfcast {

std::string Configuration::ToString() const {
  return absl::StrCat(hardware, "/", num_gpus, "/", framework, "/", model, "/", precision);
}

const std::string& NameOf(const Configuration& configuration, ConfigurationField field) {
  static const std::string* const kNoName = new std::string();
  switch (field) {
    case ConfigurationField::kNone:
      return *kNoName;
    case ConfigurationField::kHardware:
      return configuration.hardware;
    case ConfigurationField::kFramework:
      return configuration.framework;
    case ConfigurationField::kModel:
      return configuration.model;
    case ConfigurationField::kPrecision:
      return configuration.precision;
  }
  return *kNoName;
}

std::string& MutableNameOf(Configuration& configuration, ConfigurationField field) {
  return const_cast<std::string&>(NameOf(configuration, field));
}

absl::string_view FieldName(ConfigurationField field) {
  switch (field) {
    case ConfigurationField::kNone:
      return "";
    case ConfigurationField::kHardware:
      return "hardware";
    case ConfigurationField::kFramework:
      return "framework";
    case ConfigurationField::kModel:
      return "model";
    case ConfigurationField::kPrecision:
      return "precision";
  }
  return "";
}

}  // namespace perfcast
