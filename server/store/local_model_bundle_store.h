#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "server/store/model_bundle_store.h"

namespace perfcast::server {

// Model versions as directories: `model_dir/<version>/` (TF Serving's layout), each written by
// SaveBundle into `.tmp-<version>`, fsynced and renamed into place, so a reader never sees half
// a version. Leftover `.tmp-*` directories of an interrupted save are removed by ListVersions.
//
// Thread safety: every method may be called from any thread; Save calls must not overlap for the
// same version (ModelRegistry serialises them).
class LocalModelBundleStore : public ModelBundleStore {
 public:
  explicit LocalModelBundleStore(std::string model_dir) : model_dir_(std::move(model_dir)) {}

  // FailedPrecondition when the directory cannot be created.
  absl::StatusOr<std::vector<int64_t>> ListVersions() override;
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> Load(int64_t version) override;
  // Saves exactly `min_version`, with `trained_result_count` in a file of its own beside the
  // bundle (kTrainedResultsFile), so that a restart knows which results are still untrained.
  absl::StatusOr<int64_t> Save(const PerfcastModel& model, int64_t min_version,
                               int64_t trained_result_count) override;
  // Renames the directory out of the versions' namespace first, so a crash midway leaves a
  // `.tmp-` leftover that ListVersions removes, never half a version.
  absl::Status Delete(int64_t version) override;
  std::optional<int64_t> TrainedResultCount(int64_t version) override;
  std::string Location(int64_t version) const override;

 private:
  const std::string model_dir_;
};

// The file in a version directory that holds the count of results it was trained on (decimal).
inline constexpr char kTrainedResultsFile[] = "trained_results";

// Parses a version directory name: decimal digits, no sign, no leading zero, > 0.
std::optional<int64_t> ParseVersionName(const std::string& name);

}  // namespace perfcast::server
