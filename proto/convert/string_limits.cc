#include "proto/convert/string_limits.h"

#include "absl/strings/str_cat.h"

namespace perfcast {
namespace {

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

absl::string_view TruncateUtf8(absl::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return value;
  size_t end = max_bytes;
  // The byte at `end` is the first one dropped: while it continues a character, that character
  // started inside the kept prefix and must go too.
  while (end > 0 && IsContinuationByte(value[end])) --end;
  return value.substr(0, end);
}

std::string QuoteForError(absl::string_view value) {
  if (value.size() > kMaxQuotedBytes) {
    return absl::StrCat("'", TruncateUtf8(value, kMaxQuotedBytes), "...'");
  }
  return absl::StrCat("'", value, "'");
}

}  // namespace perfcast
