#include "server/lifecycle/model_registry.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/postgres/postgres_model_bundle_store.h"
#include "server/store/local_model_bundle_store.h"
#include "tests/server/postgres_test_database.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using testing::PostgresTestDatabase;
using testing::TempDir;
using testing::TestPostgresAdminUrl;
using testing::TestRecords;

enum class BundleStoreKind { kLocal, kPostgres };

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

  // A registry over this test's store, as a new replica (or a restarted server) would open it.
  std::unique_ptr<ModelRegistry> NewRegistry() {
    std::unique_ptr<ModelBundleStore> bundles;
    if (GetParam() == BundleStoreKind::kPostgres) {
      auto store = PostgresModelBundleStore::Open(database_->url());
      EXPECT_TRUE(store.ok()) << store.status();
      if (!store.ok()) return nullptr;
      bundles = *std::move(store);
    } else {
      bundles = std::make_unique<LocalModelBundleStore>(dir_.path() + "/models");
    }
    return std::make_unique<ModelRegistry>(std::move(bundles), &metrics_);
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
