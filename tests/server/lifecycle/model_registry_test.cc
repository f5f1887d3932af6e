#include "server/lifecycle/model_registry.h"

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "server/observability/load_failure_reason.h"
#include "server/postgres/postgres_model_bundle_store.h"
#include "server/store/local_model_bundle_store.h"
#include "tests/server/postgres_test_database.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using testing::MetricValue;
using testing::PostgresTestDatabase;
using testing::TempDir;
using testing::TestPostgresAdminUrl;
using testing::TestRecords;

enum class BundleStoreKind { kLocal, kPostgres };

// A store on which another replica deletes `doomed` right after this one lists it: the race of
// a replica loading a version that the publishing replica's retention removes meanwhile.
class DeletedAfterListingStore : public ModelBundleStore {
 public:
  DeletedAfterListingStore(std::unique_ptr<ModelBundleStore> inner, int64_t doomed)
      : inner_(std::move(inner)), doomed_(doomed) {}
  absl::StatusOr<std::vector<int64_t>> ListVersions() override {
    absl::StatusOr<std::vector<int64_t>> listed = inner_->ListVersions();
    if (doomed_ != 0) {
      EXPECT_TRUE(inner_->Delete(std::exchange(doomed_, 0)).ok());
    }
    return listed;
  }
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> Load(int64_t version) override {
    return inner_->Load(version);
  }
  absl::StatusOr<int64_t> Save(const PerfcastModel& model, int64_t min_version,
                               int64_t trained_result_count) override {
    return inner_->Save(model, min_version, trained_result_count);
  }
  absl::Status Delete(int64_t version) override { return inner_->Delete(version); }
  std::string Location(int64_t version) const override { return inner_->Location(version); }

 private:
  const std::unique_ptr<ModelBundleStore> inner_;
  int64_t doomed_;
};

std::vector<int64_t> VersionsOf(const std::vector<VersionStatus>& statuses) {
  std::vector<int64_t> versions;
  for (const VersionStatus& s : statuses) versions.push_back(s.version);
  return versions;
}

std::shared_ptr<const PerfcastModel> TrainSmallModel() {
  static const std::shared_ptr<const PerfcastModel> model = [] {
    TrainOptions options;
    options.threads = 1;
    auto trained = PerfcastModel::Train(TestRecords(2), options);
    return trained.ok() ? *trained : nullptr;
  }();
  return model;
}

// The registry's contract over both bundle stores: what one registry publishes, a registry on
// the same store (another replica, or a restart) loads; a damaged version is skipped and shown.
class ModelRegistryTest : public ::testing::TestWithParam<BundleStoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == BundleStoreKind::kPostgres) {
      if (TestPostgresAdminUrl().empty()) {
        GTEST_SKIP() << "PERFCAST_TEST_POSTGRES_URL_FILE unset: run through ctest";
      }
      database_ = std::make_unique<PostgresTestDatabase>();
      ASSERT_FALSE(database_->url().empty()) << database_->error();
    }
    ASSERT_NE(TrainSmallModel(), nullptr);
  }

  // This test's store, as a new replica (or a restarted server) would open it.
  std::unique_ptr<ModelBundleStore> NewStore() {
    if (GetParam() == BundleStoreKind::kPostgres) {
      auto store = PostgresModelBundleStore::Open(database_->url());
      EXPECT_TRUE(store.ok()) << store.status();
      if (!store.ok()) return nullptr;
      return *std::move(store);
    }
    return std::make_unique<LocalModelBundleStore>(dir_.path() + "/models");
  }

  // A registry over this test's store keeping `keep_versions` (0: all).
  std::unique_ptr<ModelRegistry> NewRegistry(int keep_versions = 0) {
    std::unique_ptr<ModelBundleStore> bundles = NewStore();
    if (bundles == nullptr) return nullptr;
    return std::make_unique<ModelRegistry>(std::move(bundles), &metrics_, nullptr, keep_versions);
  }

  std::vector<int64_t> StoredVersions() {
    absl::StatusOr<std::vector<int64_t>> listed = NewStore()->ListVersions();
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? *listed : std::vector<int64_t>{};
  }

  double LoadFailures() {
    const std::string exposition =
        prometheus::TextSerializer().Serialize(metrics_.registry()->Collect());
    double total = 0;
    for (LoadFailureReason reason : kLoadFailureReasons) {
      total += MetricValue(exposition, absl::StrCat("perfcast_model_load_failures_total{reason=\"",
                                                    LoadFailureReasonName(reason), "\"}"));
    }
    return total;
  }

  // Flips one byte in the middle of `version`'s stored bundle.
  void DamageVersion(int64_t version) {
    if (GetParam() == BundleStoreKind::kPostgres) {
      auto connection = PgConnection::Connect(database_->url());
      ASSERT_TRUE(connection.ok()) << connection.status();
      ASSERT_TRUE((*connection)
                      ->Run(absl::StrCat("UPDATE perfcast_models SET bundle = overlay(bundle "
                                         "placing '\\xa5'::bytea from length(bundle) / 2 for 1) "
                                         "WHERE version = ",
                                         version))
                      .ok());
      return;
    }
    const std::string path = absl::StrCat(dir_.path(), "/models/", version, "/model.perfcast");
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 0, SEEK_END);
    std::fseek(f, std::ftell(f) / 2, SEEK_SET);
    const int byte = std::fgetc(f);
    std::fseek(f, -1, SEEK_CUR);
    std::fputc(byte ^ 0xFF, f);
    std::fclose(f);
  }

  TempDir dir_;
  std::unique_ptr<PostgresTestDatabase> database_;
  ServerMetrics metrics_;
};

TEST_P(ModelRegistryTest, AnotherRegistryLoadsWhatOnePublished) {
  auto publisher = NewRegistry();
  ASSERT_NE(publisher, nullptr);
  auto published = publisher->Publish(TrainSmallModel(), 32);
  ASSERT_TRUE(published.ok()) << published.status();

  auto reader = NewRegistry();
  ASSERT_TRUE(reader->LoadNewest().ok());

  ASSERT_NE(reader->Current(), nullptr);
  EXPECT_EQ(reader->Current()->version, *published);
}

TEST_P(ModelRegistryTest, LoadNewestPicksUpAVersionPublishedLater) {
  auto publisher = NewRegistry();
  auto reader = NewRegistry();
  ASSERT_TRUE(publisher->Publish(TrainSmallModel(), 32).ok());
  ASSERT_TRUE(reader->LoadNewest().ok());

  auto second = publisher->Publish(TrainSmallModel(), 32);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(reader->LoadNewest().ok());

  EXPECT_EQ(reader->Current()->version, *second);
}

TEST_P(ModelRegistryTest, DamagedNewestVersionIsSkippedAndReportedFailed) {
  auto publisher = NewRegistry();
  ASSERT_TRUE(publisher->Publish(TrainSmallModel(), 32).ok());
  ASSERT_TRUE(publisher->Publish(TrainSmallModel(), 32).ok());
  DamageVersion(2);

  auto reader = NewRegistry();
  ASSERT_TRUE(reader->LoadNewest().ok());

  ASSERT_NE(reader->Current(), nullptr);
  EXPECT_EQ(reader->Current()->version, 1);
  const std::vector<VersionStatus> statuses = reader->Statuses();
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].version, 2);
  EXPECT_EQ(statuses[0].state, VersionStatus::State::kFailed);
  EXPECT_EQ(statuses[0].error.code(), absl::StatusCode::kDataLoss) << statuses[0].error;
  EXPECT_EQ(statuses[1].state, VersionStatus::State::kAvailable);
}

TEST_P(ModelRegistryTest, PublishNumbersAboveEveryStoredVersionDamagedOnesIncluded) {
  auto first = NewRegistry();
  ASSERT_TRUE(first->Publish(TrainSmallModel(), 32).ok());
  ASSERT_TRUE(first->Publish(TrainSmallModel(), 32).ok());
  DamageVersion(2);
  auto second = NewRegistry();
  ASSERT_TRUE(second->LoadNewest().ok());

  auto published = second->Publish(TrainSmallModel(), 32);

  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(*published, 3);
}

TEST_P(ModelRegistryTest, PublishKeepsTheNewestVersionsAndForgetsTheDeletedOnes) {
  auto publisher = NewRegistry(/*keep_versions=*/2);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(publisher->Publish(TrainSmallModel(), 32).ok());

  EXPECT_EQ(StoredVersions(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(VersionsOf(publisher->Statuses()), (std::vector<int64_t>{3, 2}));
}

// With replicas on one store only the publisher prunes: a replica that pruned when it loaded
// could delete a version another replica is about to load.
TEST_P(ModelRegistryTest, LoadingAVersionDeletesNothing) {
  auto publisher = NewRegistry();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(publisher->Publish(TrainSmallModel(), 32).ok());
  auto follower = NewRegistry(/*keep_versions=*/1);

  ASSERT_TRUE(follower->LoadNewest().ok());

  EXPECT_EQ(follower->Current()->version, 3);
  EXPECT_EQ(StoredVersions(), (std::vector<int64_t>{3, 2, 1}));
}

TEST_P(ModelRegistryTest, VersionsAnotherReplicaDeletedAreForgotten) {
  auto publisher = NewRegistry(/*keep_versions=*/2);
  auto follower = NewRegistry(/*keep_versions=*/2);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(publisher->Publish(TrainSmallModel(), 32).ok());
  ASSERT_TRUE(follower->LoadNewest().ok());
  ASSERT_EQ(VersionsOf(follower->Statuses()), (std::vector<int64_t>{2, 1}));

  ASSERT_TRUE(publisher->Publish(TrainSmallModel(), 32).ok());  // deletes version 1
  ASSERT_TRUE(follower->LoadNewest().ok());

  EXPECT_EQ(follower->Current()->version, 3);
  EXPECT_EQ(VersionsOf(follower->Statuses()), (std::vector<int64_t>{3, 2}));
}

TEST_P(ModelRegistryTest, VersionDeletedBetweenListingAndLoadingIsSkippedNotFailed) {
  auto publisher = NewRegistry();
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(publisher->Publish(TrainSmallModel(), 32).ok());
  ModelRegistry follower(std::make_unique<DeletedAfterListingStore>(NewStore(), 2), &metrics_);
  const double failures_before = LoadFailures();

  ASSERT_TRUE(follower.LoadNewest().ok());

  ASSERT_NE(follower.Current(), nullptr);
  EXPECT_EQ(follower.Current()->version, 1);
  const std::vector<VersionStatus> statuses = follower.Statuses();
  ASSERT_EQ(VersionsOf(statuses), (std::vector<int64_t>{1}));
  EXPECT_EQ(statuses[0].state, VersionStatus::State::kAvailable);
  EXPECT_EQ(LoadFailures(), failures_before);
}

TEST_P(ModelRegistryTest, StatusesSummarisePrequentialErrors) {
  auto registry = NewRegistry();
  ASSERT_TRUE(registry->Publish(TrainSmallModel(), 32).ok());
  for (double error : {0.3, 0.1, 0.2}) registry->RecordPrequential(1, error, error < 0.25);

  const std::vector<VersionStatus> statuses = registry->Statuses();

  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].prequential_count, 3);
  EXPECT_DOUBLE_EQ(statuses[0].prequential_median_relative_error, 0.2);
  EXPECT_DOUBLE_EQ(statuses[0].prequential_interval_coverage, 2.0 / 3.0);
}

INSTANTIATE_TEST_SUITE_P(BundleStores, ModelRegistryTest,
                         ::testing::Values(BundleStoreKind::kLocal, BundleStoreKind::kPostgres),
                         [](const ::testing::TestParamInfo<BundleStoreKind>& info) {
                           return info.param == BundleStoreKind::kLocal ? "Local" : "Postgres";
                         });

}  // namespace
}  // namespace perfcast::server
