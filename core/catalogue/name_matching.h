#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace perfcast {

// How a name written by a person reaches a catalogue entry. Case and surrounding spaces do not
// count ("vLLM" is "vllm", "FP16" is "fp16"); anything else does, so that two different parts are
// never merged by a loose match. A name that still finds nothing is answered with the closest
// names that exist, for a person to choose from.

// The form names are compared in: ASCII lower case, outer whitespace removed.
std::string FoldName(absl::string_view name);

// `name` without a trailing version ("vllm-0.6.3" -> "vllm", "sglang v0.4.1.post5" -> "sglang",
// "tensorrt-llm==0.12" -> "tensorrt-llm", "llama.cpp-b3600" -> "llama.cpp"); `name` itself when
// it ends in no version. A version follows '-', '_', ' ', '=' or '@': an optional 'v' (or a
// build's 'b'), a dotted number, pre-, post- or dev-release parts ("rc1", ".post1") and a local
// label ("+rocm614").
std::string WithoutVersion(absl::string_view name);

// Up to `limit` of `candidates` closest to `name` by edit distance over folded names, nearest
// first (ties in candidate order), leaving out those so far from `name` that the suggestion
// would only confuse (more edits than half the longer name).
std::vector<std::string> ClosestNames(absl::string_view name,
                                      absl::Span<const std::string> candidates, size_t limit);

// " (did you mean 'a' or 'b'?)" for ClosestNames' answer; "" when there is none.
std::string DidYouMean(absl::Span<const std::string> suggestions);

}  // namespace perfcast
