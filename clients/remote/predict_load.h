#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/remote/remote_commands.h"
#include "core/data/benchmark_record.h"

namespace perfcast {

// `perfcast bench --server`: a load generator for Predict over `channels` connections, each
// driven by one thread through gRPC's completion-queue API. Closed loop by default: `concurrency`
// calls are kept in flight, each completion starting the next, until `duration` is over. With a
// `rate`, open loop: calls are sent on a fixed schedule whatever the server's speed, at most
// `concurrency` in flight, and a call's latency counts from its scheduled time, so that waiting
// for a free slot behind a slow server is measured rather than hidden.
struct PredictLoadOptions {
  // The server, reached as every --server command reaches it (TLS, token); its timeout is per
  // call.
  RemoteTarget target;
  int concurrency = 16;
  // One thread per channel; one leaves the server's cores the most room where they share them.
  int channels = 1;
  double rate = 0;  // calls/s over all channels; 0: closed loop
  absl::Duration duration = absl::Seconds(10);
  absl::Duration warmup = absl::Seconds(1);  // calls before this are not measured
  // Call i asks for one query at batch_sizes[i % size]: a mix of batch sizes.
  std::vector<int> batch_sizes = {1};
  int input_tokens = 1024;
  int output_tokens = 256;
  // Unset: the first configuration the server lists.
  std::optional<Configuration> configuration;
};

struct PredictLoadResult {
  int64_t completed = 0;  // measured calls, errors included
  int64_t errors = 0;
  std::string first_error;
  double seconds = 0;  // measured wall time
  double p50_s = 0;
  double p90_s = 0;
  double p99_s = 0;
  double max_s = 0;
  double qps() const { return seconds > 0 ? static_cast<double>(completed) / seconds : 0; }
};

absl::StatusOr<PredictLoadResult> RunPredictLoad(const PredictLoadOptions& options);

// A one-line table (or, with `json`, one JSON object) of the result.
std::string FormatPredictLoad(const PredictLoadOptions& options, const PredictLoadResult& result,
                              bool json);

}  // namespace perfcast
