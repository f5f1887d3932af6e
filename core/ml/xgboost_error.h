#pragma once

#include <xgboost/c_api.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace perfcast {

// The failed C API call and XGBoost's message for it.
inline absl::Status XGBoostError(absl::string_view call) {
  return absl::InternalError(absl::StrCat("xgboost ", call, ": ", XGBGetLastError()));
}

}  // namespace perfcast
