#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "core/eval/evaluation_method.h"
#include "core/eval/evaluation_protocol.h"

namespace perfcast {

// One CSV line per held-out point and method, for analyses the summary figures cannot give
// (errors by kind of configuration, by batch size, by hardware). The interval is the headline
// level's (the first of MethodPrediction::intervals); a value a method did not give is empty.
// The measured and predicted mean TTFT and ITL follow, then the 99th percentiles of the TTFT and
// the TPOT, each with the headline level's interval where the method predicted it.
// `campaign` is the point's own (its configuration's); `shots` is new-campaign's share of the
// held-out campaign's curves trained on (Fold::shots), empty for the other protocols.
std::string EvaluationPointsCsvHeader();
std::string EvaluationPointsCsvRow(absl::string_view protocol, absl::string_view method,
                                   std::optional<double> shots, const HeldOutPoint& point,
                                   const MethodPrediction& prediction);

}  // namespace perfcast
