#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/prediction.h"

namespace perfcast {

// Client side of the CLI's `--server host:port` mode: the same questions as the local commands,
// answered by a running perfcast-server over gRPC (perfcast.v1). Each call opens an insecure
// channel, sets a deadline and maps the gRPC status to absl::Status with the same code and
// message (INVALID_ARGUMENT names the field; UNAVAILABLE: server down or still loading).

// Predicts `query` at `batch_sizes` with an interval at `confidence_level`, and prints a table
// (or, with `json`, the PredictResponse as JSON with proto field names) to `out`.
absl::Status RemotePredict(const std::string& server_address, const PredictionQuery& query,
                           const std::vector<int>& batch_sizes, double confidence_level,
                           bool json, std::ostream& out,
                           absl::Duration timeout = absl::Seconds(10));

// Prints the server's model status (versions, last refit, stored results).
absl::Status RemoteModelStatus(const std::string& server_address, bool json, std::ostream& out,
                               absl::Duration timeout = absl::Seconds(10));

}  // namespace perfcast
