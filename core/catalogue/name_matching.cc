#include "core/catalogue/name_matching.h"

#include <algorithm>
#include <regex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace perfcast {
namespace {

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

std::string FoldName(absl::string_view name) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
}

std::string WithoutVersion(absl::string_view name) {
  absl::string_view text = absl::StripAsciiWhitespace(name);
  // A local version label ("+rocm614", "+cu121") belongs to the version before it.
  if (const size_t plus = text.find('+'); plus != absl::string_view::npos) {
    text = text.substr(0, plus);
  }
  // name, separators, an optional 'v' (or llama.cpp's build 'b'), a dotted number, then any
  // pre-, post- or dev-release parts as Python packages write them ("rc1", ".post1", "dev2").
  static const std::regex* const kVersioned = new std::regex(
      R"(^(.*[^-_ =@])[-_ =@]+[vb]?[0-9]+(\.[0-9]+)*((a|b|rc|alpha|beta)[0-9]*|\.?(post|dev)[0-9]*)*$)",
      std::regex::icase);
  const std::string whole(text);
  std::smatch match;
  if (!std::regex_match(whole, match, *kVersioned)) return whole;
  return match[1].str();
}

std::vector<std::string> ClosestNames(absl::string_view name,
                                      absl::Span<const std::string> candidates, size_t limit) {
  const std::string folded = FoldName(name);
  std::vector<std::pair<size_t, size_t>> ranked;  // (distance, candidate index)
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string other = FoldName(candidates[i]);
    const size_t distance = EditDistance(folded, other);
    if (2 * distance <= std::max(folded.size(), other.size())) ranked.emplace_back(distance, i);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> closest;
  for (const auto& [distance, index] : ranked) {
    if (closest.size() == limit) break;
    closest.push_back(candidates[index]);
  }
  return closest;
}

std::string DidYouMean(absl::Span<const std::string> suggestions) {
  if (suggestions.empty()) return "";
  std::vector<std::string> quoted;
  for (const std::string& suggestion : suggestions)
    quoted.push_back(absl::StrCat("'", suggestion, "'"));
  return absl::StrCat(" (did you mean ", absl::StrJoin(quoted, " or "), "?)");
}

}  // namespace perfcast
