#pragma once

#include <array>
#include <optional>

#include "absl/strings/string_view.h"

namespace perfcast::server {

// Why a submitted benchmark result was turned away: the `reason` label of
// perfcast_benchmark_rejections_total.
enum class RejectionReason {
  kFieldMissing,  // a required field is empty or unset
  kOutOfRange,    // a number outside its bounds
  kNotFinite,     // NaN or infinity
  kStreamLimit,   // past the most results one SubmitBenchmarks stream may carry
  kImplausible,   // a throughput far above the physical ceiling of its configuration
};

// Every reason, in declaration order: the metric's label set is built from it.
inline constexpr std::array<RejectionReason, 5> kRejectionReasons = {
    RejectionReason::kFieldMissing, RejectionReason::kOutOfRange, RejectionReason::kNotFinite,
    RejectionReason::kStreamLimit, RejectionReason::kImplausible};

// The one name table; no default case, so -Wswitch reports a reason without a name.
constexpr absl::string_view RejectionReasonName(RejectionReason reason) {
  switch (reason) {
    case RejectionReason::kFieldMissing:
      return "field_missing";
    case RejectionReason::kOutOfRange:
      return "out_of_range";
    case RejectionReason::kNotFinite:
      return "not_finite";
    case RejectionReason::kStreamLimit:
      return "stream_limit";
    case RejectionReason::kImplausible:
      return "implausible";
  }
  return "";
}

static_assert(RejectionReasonName(static_cast<RejectionReason>(kRejectionReasons.size())).empty(),
              "kRejectionReasons must list every RejectionReason");

// The reason named `name` (the inverse of RejectionReasonName); nullopt for an unknown name.
// Field validation still reports its reason as a name (FieldError::reason).
constexpr std::optional<RejectionReason> RejectionReasonNamed(absl::string_view name) {
  for (RejectionReason reason : kRejectionReasons) {
    if (RejectionReasonName(reason) == name) return reason;
  }
  return std::nullopt;
}

}  // namespace perfcast::server
