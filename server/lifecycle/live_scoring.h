#pragma once

#include "absl/types/span.h"
#include "core/data/benchmark_record.h"
#include "server/lifecycle/model_registry.h"
#include "server/lifecycle/retrain_worker.h"
#include "server/observability/server_metrics.h"

namespace perfcast::server {

// Where results go once they are durable (BenchmarkWriter's after-commit hook): the serving
// model is scored on them before any retrain absorbs them (prequential accuracy, in the metrics
// and in the registry's per-version status), then the retrain worker counts them towards the
// next retrain.
//
// With a store shared by replicas the worker counts results from the database instead (results
// submitted to other replicas count too), so `count_for_retrain` is false there.
//
// Thread safety: Committed may be called from any thread; the pointers must outlive this.
class LiveScoring {
 public:
  LiveScoring(ModelRegistry* registry, RetrainWorker* worker, ServerMetrics* metrics,
              bool count_for_retrain);

  void Committed(absl::Span<const BenchmarkRecord> new_records);

 private:
  ModelRegistry* const registry_;
  RetrainWorker* const worker_;
  ServerMetrics* const metrics_;
  const bool count_for_retrain_;
};

}  // namespace perfcast::server
