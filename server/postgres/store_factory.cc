#include "server/postgres/store_factory.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/observability/log_format.h"
#include "server/postgres/pg_connection.h"
#include "server/store/local_model_bundle_store.h"
#include "server/store/sqlite_benchmark_store.h"

namespace perfcast::server {
namespace {

absl::StatusOr<OpenedStores> OpenPostgres(const std::string& url) {
  absl::StatusOr<std::unique_ptr<PostgresBenchmarkStore>> results =
      PostgresBenchmarkStore::Open(url);
  if (!results.ok()) return results.status();
  absl::StatusOr<std::unique_ptr<PostgresModelBundleStore>> bundles =
      PostgresModelBundleStore::Open(url);
  if (!bundles.ok()) return bundles.status();
  OpenedStores opened;
  opened.shared = OpenedStores::Shared{results->get(), bundles->get()};
  opened.results = *std::move(results);
  opened.bundles = *std::move(bundles);
  // The URL may hold a password: log only that it is PostgreSQL.
  spdlog::info("event=store_opened store=postgresql results={}", opened.results->count());
  return opened;
}

absl::StatusOr<OpenedStores> OpenSqlite(const StoreLocation& location) {
  std::error_code ec;
  std::filesystem::create_directories(location.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data_dir ", location.data_dir, ": ", ec.message()));
  }
  const std::string path = location.data_dir + "/benchmarks.sqlite3";
  absl::StatusOr<std::unique_ptr<SqliteBenchmarkStore>> results = SqliteBenchmarkStore::Open(path);
  if (!results.ok()) return results.status();
  OpenedStores opened;
  opened.results = *std::move(results);
  opened.bundles = std::make_unique<LocalModelBundleStore>(location.model_dir);
  spdlog::info("event=store_opened path={} results={}", path, opened.results->count());
  return opened;
}

}  // namespace

absl::StatusOr<OpenedStores> OpenStores(const StoreLocation& location) {
  if (IsPostgresUrl(location.store)) return OpenPostgres(location.store);
  if (!location.store.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "store=", location.store, ": must be empty (SQLite under data_dir) or postgresql://"));
  }
  return OpenSqlite(location);
}

}  // namespace perfcast::server
