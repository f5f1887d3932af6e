#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/model/model_info.h"
#include "core/model/perfcast_model.h"
#include "server/observability/refit_history.h"
#include "server/observability/refit_trigger.h"

namespace perfcast::server {

// One model version as the status page lists it (the registry's VersionStatus, copied).
struct ModelVersionRow {
  int64_t version = 0;
  bool serving = false;
  bool failed = false;
  std::string error;  // why it failed to load
  std::optional<ModelInfo> info;
  // Prequential accuracy while this version served: results scored before it trained on them.
  int64_t prequential_count = 0;
  double prequential_median_relative_error = 0;
  double prequential_interval_coverage = 0;  // inside the 90 % interval
};

// The retrain running now or the latest one (the worker's LastRefit, copied).
struct LatestRefit {
  int64_t refit_id = 0;
  RefitTrigger trigger = RefitTrigger::kRpc;
  bool running = false;
  bool success = false;
  std::string error;
  int64_t model_version = 0;
  absl::Time start_time;
  absl::Duration duration;
};

// What the status page shows, gathered afresh for each request from the server's parts, all of
// it in memory: the page never waits on the store or on training.
struct StatusSnapshot {
  absl::Time taken_at;
  std::shared_ptr<const PerfcastModel> serving_model;  // null before the first model
  int64_t serving_version = 0;
  std::vector<ModelVersionRow> versions;  // newest first
  std::optional<LatestRefit> latest_refit;
  std::vector<RefitRecord> refits;  // newest first
  int64_t stored_results = 0;       // outside quarantine
  int64_t results_since_refit = 0;  // counted towards the next retrain
};

}  // namespace perfcast::server
