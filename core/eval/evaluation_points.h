#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "core/eval/evaluation_method.h"
#include "core/eval/evaluation_protocol.h"

namespace perfcast {

// One CSV line per held-out point and method, for analyses the summary figures cannot give
// (errors by kind of configuration, by batch size, by hardware). The interval is the headline
// level's (the first of MethodPrediction::intervals); a value a method did not give is empty.
std::string EvaluationPointsCsvHeader();
std::string EvaluationPointsCsvRow(absl::string_view protocol, absl::string_view method,
                                   const HeldOutPoint& point, const MethodPrediction& prediction);

}  // namespace perfcast
