#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/postgres/pg_connection.h"
#include "server/store/model_bundle_store.h"

namespace perfcast::server {

// Model versions as rows of perfcast_models (postgres_schema.h): the serialized bundle (bytea,
// sent and read in binary form), its FNV-1a-64 and the number of results it was trained on.
// Save picks the next version under a table lock, so two savers never collide, and NOTIFYs
// kModelsChannel with it when the insert commits. Load checks the row's checksum before parsing
// (the bundle also carries its own): a version damaged in the database is DataLoss.
//
// Thread safety: every method may be called from any thread; calls share one connection, in turn.
class PostgresModelBundleStore : public ModelBundleStore {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresModelBundleStore>> Open(const std::string& url);

  absl::StatusOr<std::vector<int64_t>> ListVersions() override;
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> Load(int64_t version) override;
  absl::StatusOr<int64_t> Save(const PerfcastModel& model, int64_t min_version,
                               int64_t trained_result_count) override;
  absl::Status Delete(int64_t version) override;
  std::string Location(int64_t version) const override;

  // Asks the replica that trains for a new version (NOTIFY kRefitChannel).
  absl::Status RequestNewVersion(const std::string& trigger);

 private:
  explicit PostgresModelBundleStore(std::unique_ptr<PgConnection> connection)
      : connection_(std::move(connection)) {}

  absl::Mutex mutex_;
  const std::unique_ptr<PgConnection> connection_ ABSL_PT_GUARDED_BY(mutex_);
};

}  // namespace perfcast::server
