#pragma once

#include <array>

#include "absl/strings/string_view.h"

namespace perfcast::server {

// Why a stored model version could not be served: the `reason` label of
// perfcast_model_load_failures_total.
enum class LoadFailureReason {
  kChecksum,  // the bundle's bytes do not match their checksum
  kParse,     // the bytes are intact but not a model this build reads
  kIo,        // the bundle could not be read
};

// Every reason, in declaration order: the metric's label set is built from it.
inline constexpr std::array<LoadFailureReason, 3> kLoadFailureReasons = {
    LoadFailureReason::kChecksum, LoadFailureReason::kParse, LoadFailureReason::kIo};

// The one name table; no default case, so -Wswitch reports a reason without a name.
constexpr absl::string_view LoadFailureReasonName(LoadFailureReason reason) {
  switch (reason) {
    case LoadFailureReason::kChecksum:
      return "checksum";
    case LoadFailureReason::kParse:
      return "parse";
    case LoadFailureReason::kIo:
      return "io";
  }
  return "";
}

static_assert(
    LoadFailureReasonName(static_cast<LoadFailureReason>(kLoadFailureReasons.size())).empty(),
    "kLoadFailureReasons must list every LoadFailureReason");

}  // namespace perfcast::server
