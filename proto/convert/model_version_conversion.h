#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/perfcast_model.h"
#include "perfcast/v1/perfcast.pb.h"

namespace perfcast {

// What a ModelSpec asks for, once checked.
struct ModelSelection {
  std::optional<int64_t> version;  // an exact version
  bool latest_label = false;       // version_label "latest"
  // Neither: the latest version for a read, every version for a status.
};

// NotFound naming the field and the value for a model other than the default one ("" or
// "default") and for a label other than "latest".
absl::StatusOr<ModelSelection> ModelSelectionFromProto(const v1::ModelSpec& spec);

// How a version was built: train time, training duration and what it was trained on.
void ModelInfoToProto(const ModelInfo& info, v1::ModelVersionStatus* out);

// Why a version failed to load: its code and message, cut to kMaxErrorMessageBytes.
void VersionErrorToProto(const absl::Status& error, v1::ModelVersionStatus* out);

// `error` as text for a response field, cut to kMaxErrorMessageBytes.
std::string ErrorMessageForProto(const absl::Status& error);

// Names for tables: the enum value's name without its prefix ("AVAILABLE", "running");
// "UNSPECIFIED" / "unspecified" for values this build does not know.
std::string VersionStateName(v1::ModelVersionStatus::State state);
std::string RefitOutcomeName(v1::RefitStatus::Outcome outcome);

}  // namespace perfcast
