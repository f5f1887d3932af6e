#include "server/observability/status_page_request.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace perfcast::server {
namespace {

constexpr size_t kMaxQuotedBytes = 64;

constexpr absl::string_view kFields[] = {
    "system",   "hardware",        "num_gpus",     "framework",     "model",     "precision",
    "campaign", "batch_semantics", "input_tokens", "output_tokens", "confidence"};
// Fields naming the configuration one by one, instead of `system`.
constexpr absl::string_view kExplicitFields[] = {"hardware", "num_gpus", "framework", "model",
                                                 "precision"};

std::string Quoted(absl::string_view value) {
  if (value.size() <= kMaxQuotedBytes) return absl::StrCat("'", value, "'");
  // Cut on a character boundary: a UTF-8 continuation byte never starts one.
  size_t end = kMaxQuotedBytes;
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat("'", value.substr(0, end), "...'");
}

absl::Status FieldError(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded: '+' is a space, %XX a byte.
std::optional<std::string> PercentDecode(absl::string_view encoded) {
  std::string decoded;
  decoded.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '+') {
      decoded += ' ';
    } else if (c != '%') {
      decoded += c;
    } else {
      if (i + 2 >= encoded.size()) return std::nullopt;
      const int high = HexDigit(encoded[i + 1]);
      const int low = HexDigit(encoded[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      decoded += static_cast<char>(high * 16 + low);
      i += 2;
    }
  }
  return decoded;
}

// Well-formed UTF-8 (no overlong forms, no surrogates) without control characters.
bool IsPrintableUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      ++i;
      continue;
    }
    int length = 0;
    uint32_t code = 0;
    if ((c & 0xE0) == 0xC0) {
      length = 2;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (int k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF) ||
        (code >= 0x80 && code < 0xA0)) {
      return false;
    }
    i += length;
  }
  return true;
}

absl::StatusOr<int> WholeNumber(absl::string_view field, absl::string_view text, int max) {
  const std::string rule = absl::StrCat("a whole number from 1 to ", max);
  if (text.empty()) return FieldError(field, absl::StrCat("required, ", rule));
  int value = 0;
  if (text.size() > 9 || !std::all_of(text.begin(), text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &value) || value < 1 || value > max) {
    return FieldError(field, absl::StrCat(Quoted(text), " is not ", rule));
  }
  return value;
}

absl::StatusOr<double> Level(absl::string_view field, absl::string_view text) {
  if (text.empty()) return 0.9;
  double value = 0;
  const bool shaped = text.size() >= 3 && text.size() <= 6 && absl::StartsWith(text, "0.") &&
                      std::all_of(text.begin() + 2, text.end(), absl::ascii_isdigit);
  if (!shaped || !absl::SimpleAtod(text, &value) || value < 0.5 || value > 0.99) {
    return FieldError(field, absl::StrCat(Quoted(text), " is not a level from 0.5 to 0.99"));
  }
  return value;
}

}  // namespace

absl::StatusOr<std::optional<CurveRequest>> ParseStatusPageQuery(absl::string_view query_string) {
  if (query_string.size() > kMaxStatusQueryBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the query string is ", query_string.size(),
                                                   " bytes; at most ", kMaxStatusQueryBytes));
  }
  std::map<std::string, std::string, std::less<>> values;
  for (absl::string_view pair : absl::StrSplit(query_string, '&', absl::SkipEmpty())) {
    const size_t equals = pair.find('=');
    const absl::string_view raw_name = pair.substr(0, equals);
    const absl::string_view raw_value =
        equals == absl::string_view::npos ? absl::string_view() : pair.substr(equals + 1);
    const std::optional<std::string> name = PercentDecode(raw_name);
    if (!name.has_value() ||
        std::find(std::begin(kFields), std::end(kFields), *name) == std::end(kFields)) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quoted(name.has_value() && IsPrintableUtf8(*name) ? *name : raw_name),
                       ": not a field of this page"));
    }
    const std::optional<std::string> value = PercentDecode(raw_value);
    if (!value.has_value()) return FieldError(*name, "bad percent-encoding");
    if (value->size() > kMaxStatusFieldBytes) {
      return FieldError(*name,
                        absl::StrCat(value->size(), " bytes; at most ", kMaxStatusFieldBytes));
    }
    if (!IsPrintableUtf8(*value)) {
      return FieldError(*name, "not UTF-8 text without control characters");
    }
    if (!values.emplace(*name, *value).second) return FieldError(*name, "given more than once");
  }
  if (values.empty()) return std::nullopt;
  // Values are taken as sent, spaces included: a number with a space is not a number, and the
  // model matches names ignoring outer spaces anyway.
  auto get = [&values](absl::string_view field) -> std::string {
    const auto found = values.find(field);
    return found == values.end() ? std::string() : found->second;
  };

  CurveRequest request;
  request.system = get("system");
  Configuration& configuration = request.query.configuration;
  if (!request.system.empty()) {
    for (absl::string_view field : kExplicitFields) {
      if (!get(field).empty()) {
        return FieldError(field,
                          "give a configuration from the list (system) or field by field, "
                          "not both");
      }
    }
  } else {
    bool any = false;
    for (absl::string_view field : {"hardware", "framework", "model", "precision"}) {
      any = any || !get(field).empty();
    }
    if (!any) {
      return FieldError("system",
                        "choose a configuration, or give hardware, framework, model "
                        "and precision");
    }
    for (absl::string_view field : {"hardware", "framework", "model", "precision"}) {
      if (get(field).empty()) return FieldError(field, "required with an unlisted configuration");
    }
    configuration.hardware = get("hardware");
    configuration.framework = get("framework");
    configuration.model = get("model");
    configuration.precision = get("precision");
    const std::string gpus = get("num_gpus");
    absl::StatusOr<int> num_gpus =
        gpus.empty() ? absl::StatusOr<int>(1) : WholeNumber("num_gpus", gpus, kMaxStatusGpus);
    if (!num_gpus.ok()) return num_gpus.status();
    configuration.num_gpus = *num_gpus;
  }
  configuration.campaign = get("campaign");
  if (configuration.campaign.size() > kMaxCampaignBytes) {
    return FieldError("campaign", absl::StrCat(configuration.campaign.size(), " bytes; at most ",
                                               kMaxCampaignBytes));
  }
  const std::string semantics = get("batch_semantics");
  if (!semantics.empty()) {
    const std::optional<BatchSemantics> parsed = BatchSemanticsFromName(semantics);
    if (!parsed.has_value()) {
      return FieldError("batch_semantics", absl::StrCat(Quoted(semantics),
                                                        " is not static, concurrency or "
                                                        "max_throughput"));
    }
    configuration.batch_semantics = *parsed;
  }
  absl::StatusOr<int> input = WholeNumber("input_tokens", get("input_tokens"), kMaxStatusTokens);
  if (!input.ok()) return input.status();
  absl::StatusOr<int> output = WholeNumber("output_tokens", get("output_tokens"), kMaxStatusTokens);
  if (!output.ok()) return output.status();
  request.query.shape = {*input, *output};
  absl::StatusOr<double> level = Level("confidence", get("confidence"));
  if (!level.ok()) return level.status();
  request.confidence_level = *level;
  return request;
}

}  // namespace perfcast::server
