#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/model/perfcast_model.h"
#include "server/observability/server_metrics.h"
#include "server/store/model_bundle_store.h"

namespace perfcast::server {

// The model answering now, with its version. Immutable: readers copy the shared_ptr once per
// request and keep a consistent model for the whole request, even across a swap.
struct ServingModel {
  std::shared_ptr<const PerfcastModel> model;
  int64_t version = 0;
  absl::Time loaded_at;
  // Stored results the model was trained on, where its store recorded that.
  std::optional<int64_t> trained_result_count;
};

// What the registry knows of one version, for GetModelStatus.
struct VersionStatus {
  enum class State { kAvailable, kFailed, kEnd };
  int64_t version = 0;
  State state = State::kEnd;
  absl::Status error;             // why kFailed
  std::optional<ModelInfo> info;  // when the version was loaded or trained here
  int64_t prequential_count = 0;  // results compared while this version served
  double prequential_median_relative_error = 0;
  double prequential_interval_coverage = 0;
};

// The versions of the model and the one answering now. Versions come from a ModelBundleStore
// (local directories, or PostgreSQL shared by replicas) and only grow: a new version is above
// every version ever seen, corrupt ones included.
//
// Thread safety: every method may be called from any thread. Current() is a shared_ptr copy
// under a reader lock; Publish() and LoadNewest() do their store I/O outside that mutex, then swap
// the pointer.
class ModelRegistry {
 public:
  // `on_swap` (optional) runs after each swap, on the swapping thread, with the registry's
  // publish lock held (so no Save, load or deletion of versions overlaps it) but not the lock of
  // Current() and Statuses(): it may read the registry, but must not call Publish() or
  // LoadNewest(), which would deadlock.
  using SwapListener = std::function<void(const ServingModel&)>;
  // `keep_versions` > 0: after each Publish, stored versions older than the newest
  // `keep_versions` are deleted (version_retention.h); 0 keeps all.
  ModelRegistry(std::unique_ptr<ModelBundleStore> bundles, ServerMetrics* metrics,
                SwapListener on_swap = nullptr, int keep_versions = 0);

  // Serves the newest stored version above the serving one that loads and verifies (all
  // versions at startup). A version that fails is logged, counted and listed as failed once, and
  // not tried again; an Unavailable store is returned without marking anything, to retry later.
  // A version that is listed but NotFound when loaded was deleted meanwhile (another replica's
  // retention): it is skipped and forgotten, not failed. Versions the store no longer lists are
  // forgotten too, but for the serving one. OK with no change when there is nothing newer.
  // Never deletes a stored version: with a shared store, every replica pruning as it loaded
  // could delete a version another replica is about to load; only Publish prunes.
  absl::Status LoadNewest();

  // The model serving now, or nullptr before the first load or training.
  std::shared_ptr<const ServingModel> Current() const;

  // Saves `model`, trained on `trained_result_count` results, as the next version and swaps it
  // in, then deletes old versions as `keep_versions` says (a failed deletion is logged and left
  // for the next Publish). Returns the version.
  absl::StatusOr<int64_t> Publish(std::shared_ptr<const PerfcastModel> model,
                                  int64_t trained_result_count);

  // Every version known, newest first.
  std::vector<VersionStatus> Statuses() const;

  // Prequential bookkeeping: the serving `version` predicted a new result with `relative_error`
  // and its 90 % interval did (not) contain it.
  void RecordPrequential(int64_t version, double relative_error, bool inside_interval);

 private:
  struct Entry {
    VersionStatus status;
    std::vector<double> prequential_errors;  // capped; for the median
    int64_t prequential_hits = 0;
  };
  void Swap(std::shared_ptr<const PerfcastModel> model, int64_t version,
            std::optional<int64_t> trained_result_count)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mutex_);
  // Deletes versions beyond keep_versions_ from the store and from versions_.
  void DeleteOldVersions(int64_t serving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mutex_);

  const std::unique_ptr<ModelBundleStore> bundles_;
  ServerMetrics* const metrics_;
  const SwapListener on_swap_;
  const int keep_versions_;

  // Serialises Publish and LoadNewest (version numbering and store I/O).
  absl::Mutex publish_mutex_;
  mutable absl::Mutex mutex_;
  std::shared_ptr<const ServingModel> current_ ABSL_GUARDED_BY(mutex_);
  std::map<int64_t, Entry> versions_ ABSL_GUARDED_BY(mutex_);
  int64_t max_version_seen_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace perfcast::server
