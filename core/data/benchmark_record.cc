#include "core/data/benchmark_record.h"

#include "absl/strings/str_cat.h"

namespace perfcast {

absl::string_view BatchSemanticsName(BatchSemantics semantics) {
  switch (semantics) {
    case BatchSemantics::kStatic:
      return "static";
    case BatchSemantics::kConcurrency:
      return "concurrency";
    case BatchSemantics::kMaxThroughput:
      return "max_throughput";
  }
  return "static";
}

std::optional<BatchSemantics> BatchSemanticsFromName(absl::string_view name) {
  for (BatchSemantics semantics : kAllBatchSemantics) {
    if (name == BatchSemanticsName(semantics)) return semantics;
  }
  return std::nullopt;
}

std::string Configuration::ToString() const {
  std::string out =
      absl::StrCat(hardware, "/", num_gpus, "/", framework, "/", model, "/", precision);
  if (!campaign.empty()) absl::StrAppend(&out, "@", campaign);
  if (batch_semantics != BatchSemantics::kStatic) {
    absl::StrAppend(&out, " (", BatchSemanticsName(batch_semantics), ")");
  }
  return out;
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
    case ConfigurationField::kCampaign:
      return configuration.campaign;
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
    case ConfigurationField::kCampaign:
      return "campaign";
  }
  return "";
}

}  // namespace perfcast
