#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "server/store/model_bundle_store.h"

namespace perfcast::server {

// Deletes every stored version but the newest `keep` and `serving`, which is never deleted even
// when older (a rollback may pin it). `keep` <= 0 keeps all. Returns the versions deleted; stops
// at the first failure, leaving the rest for the next call.
//
// Thread safety: as `store`; calls must not overlap with a Save (ModelRegistry calls it from
// Publish, under its publish lock).
absl::StatusOr<std::vector<int64_t>> DeleteOldVersions(ModelBundleStore& store, int keep,
                                                       int64_t serving);

}  // namespace perfcast::server
