#include "proto/convert/model_version_conversion.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "proto/convert/string_limits.h"
#include "proto/convert/time_conversion.h"

namespace perfcast {
namespace {

// `name` without `prefix`, or "UNSPECIFIED" when it lacks it (the empty name of an unknown
// value).
std::string WithoutPrefix(const std::string& name, absl::string_view prefix) {
  if (!absl::StartsWith(name, prefix)) return "UNSPECIFIED";
  return name.substr(prefix.size());
}

}  // namespace

absl::StatusOr<ModelSelection> ModelSelectionFromProto(const v1::ModelSpec& spec) {
  if (!spec.name().empty() && spec.name() != "default") {
    return absl::NotFoundError(
        absl::StrCat("model_spec.name=", QuoteForError(spec.name()), ": no such model"));
  }
  ModelSelection selection;
  switch (spec.version_choice_case()) {
    case v1::ModelSpec::kVersion:
      selection.version = spec.version();
      break;
    case v1::ModelSpec::kVersionLabel:
      if (spec.version_label() != "latest") {
        return absl::NotFoundError(
            absl::StrCat("model_spec.version_label=", QuoteForError(spec.version_label()),
                         ": unknown label (known: latest)"));
      }
      selection.latest_label = true;
      break;
    case v1::ModelSpec::VERSION_CHOICE_NOT_SET:
      break;
  }
  return selection;
}

void ModelInfoToProto(const ModelInfo& info, v1::ModelVersionStatus* out) {
  *out->mutable_train_time() = TimeToProto(absl::FromUnixSeconds(info.trained_at_unix_s));
  *out->mutable_training_duration() = DurationToProto(absl::Seconds(info.training_seconds));
  out->set_training_point_count(info.point_count);
  out->set_configuration_count(info.configuration_count);
  out->set_curve_count(info.curve_count);
}

void VersionErrorToProto(const absl::Status& error, v1::ModelVersionStatus* out) {
  if (error.ok()) return;
  out->set_error_code(static_cast<int32_t>(error.code()));
  out->set_error_message(std::string(TruncateUtf8(error.message(), kMaxErrorMessageBytes)));
}

std::string ErrorMessageForProto(const absl::Status& error) {
  return std::string(TruncateUtf8(error.ToString(), kMaxErrorMessageBytes));
}

std::string VersionStateName(v1::ModelVersionStatus::State state) {
  return WithoutPrefix(v1::ModelVersionStatus::State_Name(state), "STATE_");
}

std::string RefitOutcomeName(v1::RefitStatus::Outcome outcome) {
  return absl::AsciiStrToLower(WithoutPrefix(v1::RefitStatus::Outcome_Name(outcome), "OUTCOME_"));
}

}  // namespace perfcast
