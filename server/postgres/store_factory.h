#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/postgres/postgres_benchmark_store.h"
#include "server/postgres/postgres_model_bundle_store.h"
#include "server/store/benchmark_store.h"
#include "server/store/model_bundle_store.h"

namespace perfcast::server {

// Where results and models live, as the server options name it.
struct StoreLocation {
  // Empty for the embedded SQLite store under `data_dir` (one server), or a PostgreSQL URL
  // (`postgresql://...`) shared by several replicas.
  std::string store;
  std::string data_dir;
  std::string model_dir;  // unused with PostgreSQL
};

// The stores a server runs on. A store shared with other replicas also does what only sharing
// needs (counts committed elsewhere, refit requests for the replica that trains); `shared` gives
// those operations, pointing into `results` and `bundles`, and is empty for SQLite.
struct OpenedStores {
  struct Shared {
    PostgresBenchmarkStore* results = nullptr;
    PostgresModelBundleStore* bundles = nullptr;
  };
  std::unique_ptr<BenchmarkStore> results;
  std::unique_ptr<ModelBundleStore> bundles;
  std::optional<Shared> shared;
};

// Chooses the backend from `location.store` and opens both stores (creating the SQLite
// directory if needed). InvalidArgument for a store that is neither empty nor a PostgreSQL URL.
// This folder is the lowest one that sees both backends.
absl::StatusOr<OpenedStores> OpenStores(const StoreLocation& location);

}  // namespace perfcast::server
