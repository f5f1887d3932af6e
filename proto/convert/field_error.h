#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "proto/convert/string_limits.h"

namespace perfcast {

// One invalid field of a message: `message` names the path and the value
// ("queries[3].input_tokens=-5: must be > 0"); `field` is the path within the checked message
// ("input_tokens", "configuration.hardware"); `reason` is a metric label ("field_missing",
// "out_of_range", "not_finite").
struct FieldError {
  std::string field;
  std::string message;
  absl::string_view reason;
};

// The checks every conversion applies. `path` locates the message ("queries[3]", empty at the
// top) and prefixes `field` in the error message.

// Non-empty and at most `max_bytes`.
std::optional<FieldError> CheckString(absl::string_view path, absl::string_view field,
                                      absl::string_view value, size_t max_bytes = kMaxStringBytes);
// In [1, max].
std::optional<FieldError> CheckRange(absl::string_view path, absl::string_view field, int64_t value,
                                     int64_t max);
// Finite and > 0.
std::optional<FieldError> CheckPositiveFinite(absl::string_view path, absl::string_view field,
                                              double value);

// "path.field", or "field" at the top.
std::string FieldPath(absl::string_view path, absl::string_view field);

// An error on `field` under `path`: `detail` follows the path in the message ("=-5: must be > 0").
FieldError MakeFieldError(absl::string_view path, absl::string_view field, absl::string_view detail,
                          absl::string_view reason);

}  // namespace perfcast
