#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace perfcast {

// Longest string field a request may carry (source ids, configuration names).
inline constexpr size_t kMaxStringBytes = 256;
// Longest part of a client's value quoted back in an error message.
inline constexpr size_t kMaxQuotedBytes = 64;
// Longest error text put in a response field (TF Serving's limit for status messages).
inline constexpr size_t kMaxErrorMessageBytes = 1024;

// The longest prefix of `value` of at most `max_bytes` that ends on a UTF-8 character boundary:
// proto3 string fields must hold valid UTF-8, and a parser refuses a message whose string was
// cut inside a character.
absl::string_view TruncateUtf8(absl::string_view value, size_t max_bytes);

// `value` in single quotes for an error message, cut to kMaxQuotedBytes with "..." when longer,
// so a client's oversized value does not flood the message.
std::string QuoteForError(absl::string_view value);

}  // namespace perfcast
