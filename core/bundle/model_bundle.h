#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/perfcast_model.h"

namespace perfcast {

// A bundle directory holds one file, `model.perfcast`, written to a temporary name, fsynced and
// renamed so that a reader never sees half a bundle.
absl::Status SaveBundle(const PerfcastModel& model, const std::string& directory);
absl::StatusOr<std::shared_ptr<const PerfcastModel>> LoadBundle(const std::string& directory);

}  // namespace perfcast
