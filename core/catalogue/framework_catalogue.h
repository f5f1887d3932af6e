#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace perfcast {

// A serving framework (inference engine) under one canonical name. It carries no physical
// figures: its entry is there so that the spellings of one engine ("vLLM", "vllm-0.6.3") reach
// the name the data uses, and so that an engine nobody has heard of is told apart from a typo.
struct FrameworkSpec {
  std::string name;
  std::string source;  // where the engine is published
};

// Reads frameworks.csv (columns name, source). InvalidArgument "file:line: column: why" for a bad
// row or a repeated name.
absl::StatusOr<std::vector<FrameworkSpec>> ParseFrameworkTable(absl::string_view text,
                                                               absl::string_view file);

}  // namespace perfcast
