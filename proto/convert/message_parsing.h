#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace perfcast {

// What a parse does with a field number the message type does not define. Ignoring them is
// protobuf's rule and lets newer clients talk to this server; a request that starts work
// (Refit) refuses them, because bytes that are not that request at all often parse as nothing
// but unknown fields and would otherwise read as an empty, valid request.
enum class UnknownFields { kIgnore, kRefuse };

// Parses `bytes` as `message` (cleared first). InvalidArgument, with `path` ("chunks[2]", empty at
// the top) prefixing what it names, when they do not parse: the first string field that is not
// valid UTF-8 (proto3 requires it) with its path and its bytes escaped
// ("results[3].source_id='ab\xff': not valid UTF-8"), or else that the bytes are not a `message`
// type in protobuf's wire format; with kRefuse also the path of a field number the type does not
// define.
absl::Status ParseMessage(absl::string_view bytes, absl::string_view path, UnknownFields unknown,
                          google::protobuf::Message* message);

// Whether `value` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), the rule protobuf's parser applies to proto3 strings.
bool IsValidUtf8(absl::string_view value);

}  // namespace perfcast
