#include "core/data/benchmark_record.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

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

void Configuration::EncodeTo(ByteWriter& writer) const {
  writer.PutString(hardware);
  writer.PutI32(num_gpus);
  writer.PutString(framework);
  writer.PutString(model);
  writer.PutString(precision);
  writer.PutString(campaign);
  writer.PutU32(static_cast<uint32_t>(batch_semantics));
}

absl::StatusOr<Configuration> Configuration::DecodeFrom(ByteReader& reader) {
  Configuration c;
  PERFCAST_ASSIGN_OR_RETURN(c.hardware, reader.GetString());
  PERFCAST_ASSIGN_OR_RETURN(c.num_gpus, reader.GetI32());
  PERFCAST_ASSIGN_OR_RETURN(c.framework, reader.GetString());
  PERFCAST_ASSIGN_OR_RETURN(c.model, reader.GetString());
  PERFCAST_ASSIGN_OR_RETURN(c.precision, reader.GetString());
  PERFCAST_ASSIGN_OR_RETURN(c.campaign, reader.GetString());
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t semantics, reader.GetU32());
  if (semantics > static_cast<uint32_t>(BatchSemantics::kMaxThroughput)) {
    return absl::DataLossError("bundle: a configuration with an unknown batch semantics");
  }
  c.batch_semantics = static_cast<BatchSemantics>(semantics);
  return c;
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
