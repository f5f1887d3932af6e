#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model/prediction.h"

namespace perfcast::server {

// Bounds on what a status page request may carry. The HTTP server already refuses a request head
// over 8 KiB; these keep every value small enough to echo back and to predict with.
inline constexpr size_t kMaxStatusQueryBytes = 4096;
inline constexpr size_t kMaxStatusFieldBytes = 256;
inline constexpr int kMaxStatusTokens = 10'000'000;  // the API's limit on a shape's tokens
inline constexpr int kMaxStatusGpus = 65536;         // and on a GPU count

// What the curve explorer is asked to draw: a configuration, a shape, a level.
struct CurveRequest {
  // The key of a configuration the serving model knows (StatusPage's select list), or empty: the
  // configuration is then the one `query` names field by field.
  std::string system;
  // Configuration (hardware ... precision unless `system` is set; campaign and batch axis always)
  // and shape.
  PredictionQuery query;
  double confidence_level = 0.9;
};

// The query string of `GET /` (after '?'): no field at all asks for the status page alone; any
// curve field asks for a curve too. Fields: system, hardware, num_gpus, framework, model,
// precision, campaign, batch_semantics, input_tokens, output_tokens, confidence.
//
// Strict: an unknown or repeated field, bad percent-encoding, a value over
// kMaxStatusFieldBytes, one that is not UTF-8 or holds control characters, a number with
// anything but digits (confidence: "0." and one to four digits) or out of range, both `system`
// and explicit configuration fields, or neither: InvalidArgument whose message starts with the
// field's name ("input_tokens: ..."). Values are quoted in messages cut to 64 bytes; the caller
// escapes the message before showing it.
absl::StatusOr<std::optional<CurveRequest>> ParseStatusPageQuery(absl::string_view query_string);

}  // namespace perfcast::server
