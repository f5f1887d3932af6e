#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace perfcast {

// `text` made safe to place in HTML or XML (SVG) text and in a double- or single-quoted attribute
// value: &, <, >, " and ' become character references, and control characters that XML 1.0
// does not allow (all below U+0020 but tab, newline and carriage return) become '?'. Names in a
// chart or a page come from benchmark data and from requests, so nothing they hold may become
// markup.
std::string EscapeMarkup(absl::string_view text);

}  // namespace perfcast
