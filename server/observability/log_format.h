#pragma once

// Lets spdlog (fmt 9) print absl::string_view, which on Debian's abseil is its own type
// (ABSL_OPTION_USE_STD_STRING_VIEW = 0). Include instead of spdlog/spdlog.h.
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};
