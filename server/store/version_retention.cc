#include "server/store/version_retention.h"

namespace perfcast::server {

absl::StatusOr<std::vector<int64_t>> DeleteOldVersions(ModelBundleStore& store, int keep,
                                                       int64_t serving) {
  std::vector<int64_t> deleted;
  if (keep <= 0) return deleted;
  absl::StatusOr<std::vector<int64_t>> versions = store.ListVersions();  // newest first
  if (!versions.ok()) return versions.status();
  for (size_t i = static_cast<size_t>(keep); i < versions->size(); ++i) {
    const int64_t version = (*versions)[i];
    if (version == serving) continue;
    if (absl::Status removed = store.Delete(version); !removed.ok()) return removed;
    deleted.push_back(version);
  }
  return deleted;
}

}  // namespace perfcast::server
