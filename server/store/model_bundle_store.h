#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/perfcast_model.h"

namespace perfcast::server {

// Where trained model versions are kept: LocalModelBundleStore (directories under --model-dir,
// one server) or PostgresModelBundleStore (bundle bytes in the shared database, every replica).
// Versions are integers that only grow; a stored version never changes, but old ones may be
// deleted (version_retention.h).
//
// Thread safety: implementations allow every method from any thread.
class ModelBundleStore {
 public:
  virtual ~ModelBundleStore() = default;

  // Every version stored, loadable or not, newest first.
  virtual absl::StatusOr<std::vector<int64_t>> ListVersions() = 0;

  // Reads and verifies one version: DataLoss when its bytes fail their checksum, InvalidArgument
  // when they are not a bundle of this format, Unavailable when the store cannot be reached now
  // (worth retrying, unlike the others).
  virtual absl::StatusOr<std::shared_ptr<const PerfcastModel>> Load(int64_t version) = 0;

  // Durably stores `model`, trained on `trained_result_count` results, as a new version >=
  // `min_version` (and above every stored version, where others may have written some).
  // Returns the version.
  virtual absl::StatusOr<int64_t> Save(const PerfcastModel& model, int64_t min_version,
                                       int64_t trained_result_count) = 0;

  // Removes `version` for good (it is older than what is kept); Ok when it is already gone.
  // Callers never delete a version that serves.
  virtual absl::Status Delete(int64_t version) = 0;

  // How many stored results `version` was trained on, as Save recorded it; nullopt where it was
  // not recorded (a version saved before the count was kept, or a store that keeps it elsewhere:
  // PostgreSQL's replicas read it with the shared state).
  virtual std::optional<int64_t> TrainedResultCount(int64_t /*version*/) { return std::nullopt; }

  // Where `version` lives, for logs.
  virtual std::string Location(int64_t version) const = 0;
};

}  // namespace perfcast::server
