#include "proto/convert/field_error.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "proto/convert/string_limits.h"

namespace perfcast {

std::string FieldPath(absl::string_view path, absl::string_view field) {
  if (path.empty()) return std::string(field);
  return absl::StrCat(path, ".", field);
}

FieldError MakeFieldError(absl::string_view path, absl::string_view field, absl::string_view detail,
                          absl::string_view reason) {
  return FieldError{std::string(field), absl::StrCat(FieldPath(path, field), detail), reason};
}

std::optional<FieldError> CheckString(absl::string_view path, absl::string_view field,
                                      absl::string_view value, size_t max_bytes) {
  if (value.empty()) return MakeFieldError(path, field, "='': must not be empty", "field_missing");
  if (value.size() > max_bytes) {
    return MakeFieldError(
        path, field,
        absl::StrCat("=", QuoteForError(value), ": ", value.size(), " bytes, at most ", max_bytes),
        "out_of_range");
  }
  return std::nullopt;
}

std::optional<FieldError> CheckRange(absl::string_view path, absl::string_view field, int64_t value,
                                     int64_t max) {
  if (value <= 0) {
    return MakeFieldError(path, field, absl::StrCat("=", value, ": must be > 0"), "out_of_range");
  }
  if (value > max) {
    return MakeFieldError(path, field, absl::StrCat("=", value, ": must be <= ", max),
                          "out_of_range");
  }
  return std::nullopt;
}

std::optional<FieldError> CheckPositiveFinite(absl::string_view path, absl::string_view field,
                                              double value) {
  if (!std::isfinite(value) || value <= 0) {
    return MakeFieldError(path, field, absl::StrCat("=", value, ": must be finite and > 0"),
                          std::isfinite(value) ? "out_of_range" : "not_finite");
  }
  return std::nullopt;
}

}  // namespace perfcast
