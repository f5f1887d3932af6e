#include "server/postgres/postgres_model_bundle_store.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/bundle/model_codec.h"
#include "core/util/byte_coding.h"
#include "server/postgres/postgres_schema.h"

namespace perfcast::server {
namespace {

// SHARE ROW EXCLUSIVE conflicts with itself: savers take turns choosing the next number, while
// readers (ACCESS SHARE) go on.
constexpr char kLockModels[] = "LOCK TABLE perfcast_models IN SHARE ROW EXCLUSIVE MODE";

constexpr char kInsertVersion[] = R"sql(
INSERT INTO perfcast_models (version, bundle, bundle_fnv1a64, trained_result_count)
SELECT GREATEST($1::bigint, COALESCE(max(version), 0) + 1), $2, $3, $4 FROM perfcast_models
RETURNING version, pg_notify($5, version::text)
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresModelBundleStore>> PostgresModelBundleStore::Open(
    const std::string& url) {
  absl::StatusOr<std::unique_ptr<PgConnection>> connection = PgConnection::Connect(url);
  if (!connection.ok()) return connection.status();
  if (absl::Status s = EnsurePostgresSchema(**connection); !s.ok()) return s;
  return std::unique_ptr<PostgresModelBundleStore>(
      new PostgresModelBundleStore(*std::move(connection)));
}

absl::StatusOr<std::vector<int64_t>> PostgresModelBundleStore::ListVersions() {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = connection_->EnsureConnected(); !s.ok()) return s;
  absl::StatusOr<PgResult> rows =
      connection_->Exec("SELECT version FROM perfcast_models ORDER BY version DESC");
  if (!rows.ok()) return rows.status();
  std::vector<int64_t> versions;
  for (int i = 0; i < rows->rows(); ++i) {
    absl::StatusOr<int64_t> v = rows->Int64(i, 0);
    if (!v.ok()) return v.status();
    versions.push_back(*v);
  }
  return versions;
}

absl::StatusOr<std::shared_ptr<const PerfcastModel>> PostgresModelBundleStore::Load(
    int64_t version) {
  std::string bundle;
  uint64_t stored_checksum = 0;
  {
    absl::MutexLock lock(&mutex_);
    if (absl::Status s = connection_->EnsureConnected(); !s.ok()) return s;
    const PgParam params[] = {PgParam::Text(absl::StrCat(version))};
    // Binary results: the bytea arrives as raw bytes (no hex decoding); the checksum as text.
    absl::StatusOr<PgResult> row = connection_->Exec(
        "SELECT bundle, bundle_fnv1a64::text FROM perfcast_models WHERE version = $1", params,
        /*binary_results=*/true);
    if (!row.ok()) return row.status();
    if (row->rows() != 1) {
      return absl::NotFoundError(absl::StrCat("no model version ", version, " in PostgreSQL"));
    }
    int64_t checksum = 0;
    if (!absl::SimpleAtoi(row->Value(0, 1), &checksum)) {
      return absl::DataLossError(absl::StrCat(Location(version), ": unreadable checksum"));
    }
    stored_checksum = static_cast<uint64_t>(checksum);
    bundle = std::string(row->Value(0, 0));
  }
  if (Fnv1a64(bundle) != stored_checksum) {
    return absl::DataLossError(
        absl::StrCat(Location(version), ": bundle checksum mismatch (", bundle.size(), " bytes)"));
  }
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model = DecodeModelBundle(bundle);
  if (!model.ok()) {
    return absl::Status(model.status().code(),
                        absl::StrCat(Location(version), ": ", model.status().message()));
  }
  return model;
}

absl::StatusOr<int64_t> PostgresModelBundleStore::Save(const PerfcastModel& model,
                                                       int64_t min_version,
                                                       int64_t trained_result_count) {
  std::string bundle = EncodeModelBundle(model);
  const int64_t checksum = static_cast<int64_t>(Fnv1a64(bundle));
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = connection_->EnsureConnected(); !s.ok()) return s;
  auto rollback = [&](absl::Status status) {
    if (connection_->ok()) connection_->Run("ROLLBACK").IgnoreError();
    return status;
  };
  if (absl::Status s = connection_->Run("BEGIN"); !s.ok()) return s;
  if (absl::Status s = connection_->Run(kLockModels); !s.ok()) return rollback(s);
  const PgParam params[] = {
      PgParam::Text(absl::StrCat(min_version)), PgParam::Bytes(std::move(bundle)),
      PgParam::Text(absl::StrCat(checksum)), PgParam::Text(absl::StrCat(trained_result_count)),
      PgParam::Text(kModelsChannel)};
  absl::StatusOr<PgResult> row = connection_->Exec(kInsertVersion, params);
  if (!row.ok()) return rollback(row.status());
  absl::StatusOr<int64_t> version = row->Int64(0, 0);
  if (!version.ok()) return rollback(version.status());
  if (absl::Status s = connection_->Run("COMMIT"); !s.ok()) return rollback(s);
  return *version;
}

absl::Status PostgresModelBundleStore::RequestNewVersion(const std::string& trigger) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status s = connection_->EnsureConnected(); !s.ok()) return s;
  const PgParam params[] = {PgParam::Text(kRefitChannel), PgParam::Text(trigger)};
  return connection_->Exec("SELECT pg_notify($1, $2)", params).status();
}

std::string PostgresModelBundleStore::Location(int64_t version) const {
  return absl::StrCat("postgresql perfcast_models version ", version);
}

}  // namespace perfcast::server
