#include "server/store/benchmark_store.h"

#include <cstdio>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "server/postgres/postgres_benchmark_store.h"
#include "server/store/sqlite_benchmark_store.h"
#include "tests/server/postgres_test_database.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using testing::PostgresTestDatabase;
using testing::TempDir;
using testing::TestPostgresAdminUrl;
using testing::TestRecords;

enum class StoreKind { kSqlite, kPostgres };

// Every test of the BenchmarkStore contract runs against both implementations. The PostgreSQL
// ones need the test server of the CTest fixture `postgres` and are skipped without it.
class BenchmarkStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreKind::kPostgres) {
      if (TestPostgresAdminUrl().empty()) {
        GTEST_SKIP() << "PERFCAST_TEST_POSTGRES_URL_FILE unset: run through ctest";
      }
      database_ = std::make_unique<PostgresTestDatabase>();
      ASSERT_FALSE(database_->url().empty()) << database_->error();
    }
  }

  // Opens the store of this test (again: a reopen sees what earlier instances stored).
  absl::StatusOr<std::unique_ptr<BenchmarkStore>> Open() {
    if (GetParam() == StoreKind::kPostgres) {
      absl::StatusOr<std::unique_ptr<PostgresBenchmarkStore>> store =
          PostgresBenchmarkStore::Open(database_->url());
      if (!store.ok()) return store.status();
      return std::unique_ptr<BenchmarkStore>(*std::move(store));
    }
    absl::StatusOr<std::unique_ptr<SqliteBenchmarkStore>> store =
        SqliteBenchmarkStore::Open(dir_.path() + "/db.sqlite3");
    if (!store.ok()) return store.status();
    return std::unique_ptr<BenchmarkStore>(*std::move(store));
  }

  TempDir dir_;
  std::unique_ptr<PostgresTestDatabase> database_;
};

// What only a store shared over connections can show: instantiated for PostgreSQL alone.
class SharedBenchmarkStoreTest : public BenchmarkStoreTest {};

TEST_P(BenchmarkStoreTest, InsertsNewResultsAndReportsDuplicates) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<BenchmarkRecord> records = TestRecords(2);

  auto first = (*store)->Insert(records);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = (*store)->Insert(records);
  ASSERT_TRUE(again.ok()) << again.status();

  EXPECT_EQ(std::count(first->begin(), first->end(), true), records.size());
  EXPECT_EQ(std::count(again->begin(), again->end(), true), 0);
  EXPECT_EQ((*store)->count(), static_cast<int64_t>(records.size()));
}

TEST_P(BenchmarkStoreTest, SameKeyFromAnotherSourceIsNew) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Insert(TestRecords(1, "run-a")).ok());

  auto other = (*store)->Insert(TestRecords(1, "run-b"));

  ASSERT_TRUE(other.ok());
  EXPECT_EQ(std::count(other->begin(), other->end(), true), other->size());
}

TEST_P(BenchmarkStoreTest, DuplicateInsideOneBatchIsStoredOnce) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<BenchmarkRecord> records = TestRecords(1);
  records.push_back(records.front());

  auto inserted = (*store)->Insert(records);

  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_FALSE(inserted->back());
  EXPECT_EQ((*store)->count(), static_cast<int64_t>(records.size() - 1));
}

TEST_P(BenchmarkStoreTest, ResultsSurviveReopenWithAllFields) {
  std::vector<BenchmarkRecord> records = TestRecords(2);
  records[3].latency_s = 1.5;
  records[3].ttft_s = 0.25;
  records[4].throughput_tokens_per_s = 1234.5678901234567;
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Insert(records).ok());
  }

  auto reopened = Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto loaded = (*reopened)->LoadAll();

  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), records.size());
  EXPECT_EQ((*reopened)->count(), static_cast<int64_t>(records.size()));
  EXPECT_EQ((*loaded)[3].configuration, records[3].configuration);
  EXPECT_EQ((*loaded)[3].shape, records[3].shape);
  EXPECT_EQ((*loaded)[3].batch_size, records[3].batch_size);
  EXPECT_DOUBLE_EQ((*loaded)[3].throughput_tokens_per_s, records[3].throughput_tokens_per_s);
  EXPECT_EQ((*loaded)[4].throughput_tokens_per_s, records[4].throughput_tokens_per_s);  // exact
  EXPECT_EQ((*loaded)[3].latency_s, 1.5);
  EXPECT_EQ((*loaded)[3].ttft_s, 0.25);
  EXPECT_FALSE((*loaded)[3].itl_s.has_value());
  EXPECT_EQ((*loaded)[3].source, "test");
}

TEST_P(SharedBenchmarkStoreTest, TwoInstancesShareOneStore) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE((*a)->Insert(TestRecords(1)).ok());

  auto again = (*b)->Insert(TestRecords(2));

  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(std::count(again->begin(), again->end(), true), TestRecords(1).size());
  EXPECT_EQ((*b)->count(), static_cast<int64_t>(TestRecords(2).size()));
  auto loaded = (*a)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->size(), TestRecords(2).size());
}

TEST_P(BenchmarkStoreTest, ALargeBatchReportsEveryElement) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<BenchmarkRecord> records = TestRecords(80);  // 1280: several PostgreSQL pipelines
  records.push_back(records[5]);

  auto inserted = (*store)->Insert(records);

  ASSERT_TRUE(inserted.ok()) << inserted.status();
  ASSERT_EQ(inserted->size(), records.size());
  EXPECT_EQ(std::count(inserted->begin(), inserted->end(), true), records.size() - 1);
  EXPECT_FALSE(inserted->back());
  EXPECT_EQ((*store)->count(), static_cast<int64_t>(records.size() - 1));
}

// (SQLite stores any bytes as text, so it has no such failing statement to show.)
TEST_P(SharedBenchmarkStoreTest, AStatementFailingInsideABatchStoresNothing) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<BenchmarkRecord> records = TestRecords(50);
  records[700].configuration.hardware = std::string("bad\xff", 4);  // not UTF-8: refused

  auto failed = (*store)->Insert(records);
  auto retried = (*store)->Insert(TestRecords(1));

  EXPECT_FALSE(failed.ok());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ((*store)->count(), static_cast<int64_t>(TestRecords(1).size()));
  auto loaded = (*store)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->size(), TestRecords(1).size());
}

TEST_P(SharedBenchmarkStoreTest, ALostConnectionFailsOneCallAndTheNextReconnects) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Insert(TestRecords(1, "before")).ok());
  ASSERT_TRUE(database_->TerminateSessions().ok());

  auto first = (*store)->Insert(TestRecords(1, "after"));
  auto retried = (*store)->Insert(TestRecords(1, "after"));

  if (!first.ok()) {
    EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable) << first.status();
  }
  ASSERT_TRUE(retried.ok()) << retried.status();
  auto loaded = (*store)->LoadAll();
  if (!loaded.ok()) loaded = (*store)->LoadAll();  // the reader's session was ended too
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->size(), 2 * TestRecords(1).size());
}

INSTANTIATE_TEST_SUITE_P(Stores, BenchmarkStoreTest,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres),
                         [](const ::testing::TestParamInfo<StoreKind>& info) {
                           return info.param == StoreKind::kSqlite ? "Sqlite" : "Postgres";
                         });
INSTANTIATE_TEST_SUITE_P(Stores, SharedBenchmarkStoreTest, ::testing::Values(StoreKind::kPostgres),
                         [](const ::testing::TestParamInfo<StoreKind>&) { return "Postgres"; });

TEST(SqliteBenchmarkStoreTest, NotADatabaseIsAnError) {
  TempDir dir;
  const std::string path = dir.path() + "/db.sqlite3";
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("this is not an sqlite database, just some text that is long enough to matter....", f);
  std::fclose(f);

  auto store = SqliteBenchmarkStore::Open(path);

  EXPECT_FALSE(store.ok());
}

TEST(SqliteBenchmarkStoreTest, DamagedPageFailsTheOpenWithDataLoss) {
  TempDir dir;
  const std::string path = dir.path() + "/db.sqlite3";
  {
    auto store = SqliteBenchmarkStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Insert(TestRecords(40)).ok());
  }  // closing checkpoints the WAL into the main file
  // An impossible cell count in the header of page 3 (a b-tree page of the results): the file
  // still opens, and only the integrity check's result rows tell.
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, 2 * 4096 + 3, SEEK_SET);
  std::fputc(0xFF, f);
  std::fputc(0xFF, f);
  std::fclose(f);

  auto store = SqliteBenchmarkStore::Open(path);

  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
}

}  // namespace
}  // namespace perfcast::server
