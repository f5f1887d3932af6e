#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "perfcast/v1/perfcast.pb.h"
#include "server/benchmark_store.h"
#include "server/benchmark_writer.h"
#include "server/model_registry.h"
#include "server/proto_conversion.h"
#include "server/retrain_worker.h"
#include "server/server_metrics.h"

namespace perfcast::server {

// What the gRPC services share. Owned by PerfcastServer, which outlives the services; every
// member is thread-safe.
struct ServiceContext {
  BenchmarkStore* store = nullptr;
  BenchmarkWriter* writer = nullptr;
  ModelRegistry* registry = nullptr;
  RetrainWorker* worker = nullptr;
  ServerMetrics* metrics = nullptr;
  RequestLimits limits;
  int64_t max_stream_results = 100000;
  // True until startup (load, seed, first training) is over.
  std::atomic<bool> starting{true};
};

// The model a read should use: latest unless `spec` pins one. NotFound for another model name
// or a version not served; Unavailable while loading; FailedPrecondition with an empty store.
absl::StatusOr<std::shared_ptr<const ServingModel>> ResolveModel(const ServiceContext& context,
                                                                 const v1::ModelSpec& spec);

}  // namespace perfcast::server
