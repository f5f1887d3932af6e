#include "server/store/benchmark_store.h"

#include <sqlite3.h>

#include <cstdio>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "server/postgres/pg_connection.h"
#include "server/postgres/postgres_benchmark_store.h"
#include "server/store/sqlite_benchmark_store.h"
#include "server/store/store_seeding.h"
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
  records[3].p99_ttft_s = 0.75;
  records[3].p99_tpot_s = 0.0412345678901234567;
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
  EXPECT_EQ((*loaded)[3].p99_ttft_s, 0.75);
  EXPECT_EQ((*loaded)[3].p99_tpot_s, records[3].p99_tpot_s);  // exact
  EXPECT_FALSE((*loaded)[4].p99_ttft_s.has_value());
  EXPECT_FALSE((*loaded)[4].p99_tpot_s.has_value());
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

TEST_P(BenchmarkStoreTest, CampaignSemanticsAndSubmitterSurviveReopen) {
  std::vector<BenchmarkRecord> records = TestRecords(1);
  records[0].configuration.campaign = "lab-a";
  records[1].configuration.batch_semantics = BatchSemantics::kConcurrency;
  records[2].configuration.batch_semantics = BatchSemantics::kMaxThroughput;
  records[0].submitted_by = "pipeline";
  records[0].submitted_at_unix_s = 1764892800;
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
  EXPECT_EQ((*loaded)[0].configuration.campaign, "lab-a");
  EXPECT_EQ((*loaded)[1].configuration.batch_semantics, BatchSemantics::kConcurrency);
  EXPECT_EQ((*loaded)[2].configuration.batch_semantics, BatchSemantics::kMaxThroughput);
  EXPECT_EQ((*loaded)[3].configuration.batch_semantics, BatchSemantics::kStatic);
  EXPECT_EQ((*loaded)[0].submitted_by, "pipeline");
  EXPECT_EQ((*loaded)[0].submitted_at_unix_s, 1764892800);
  EXPECT_EQ((*loaded)[1].submitted_by, "");
}

TEST_P(BenchmarkStoreTest, AnotherCampaignOrBatchSemanticsIsNotADuplicate) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<BenchmarkRecord> records = TestRecords(1);
  ASSERT_TRUE((*store)->Insert(records).ok());
  std::vector<BenchmarkRecord> other_campaign = records;
  for (BenchmarkRecord& r : other_campaign) r.configuration.campaign = "lab-b";
  std::vector<BenchmarkRecord> other_axis = records;
  for (BenchmarkRecord& r : other_axis) {
    r.configuration.batch_semantics = BatchSemantics::kConcurrency;
  }

  auto campaign = (*store)->Insert(other_campaign);
  auto axis = (*store)->Insert(other_axis);

  ASSERT_TRUE(campaign.ok()) << campaign.status();
  ASSERT_TRUE(axis.ok()) << axis.status();
  EXPECT_EQ(std::count(campaign->begin(), campaign->end(), true), records.size());
  EXPECT_EQ(std::count(axis->begin(), axis->end(), true), records.size());
  EXPECT_EQ((*store)->count(), static_cast<int64_t>(3 * records.size()));
}

// Inserts TestRecords(1) with records[1] and [2] quarantined; returns the records.
std::vector<BenchmarkRecord> InsertWithTwoQuarantined(BenchmarkStore& store) {
  std::vector<BenchmarkRecord> records = TestRecords(1);
  records[1].submitted_by = "mallory";
  records[1].p99_ttft_s = 0.5;
  records[1].p99_tpot_s = 0.02;
  std::vector<std::string> reasons(records.size());
  reasons[1] = "100x the prediction";
  reasons[2] = "0.01x the prediction";
  auto inserted = store.Insert(records, reasons);
  EXPECT_TRUE(inserted.ok()) << inserted.status();
  return records;
}

TEST_P(BenchmarkStoreTest, QuarantinedResultsAreListedButNotLoadedForTraining) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<BenchmarkRecord> records = InsertWithTwoQuarantined(**store);

  auto loaded = (*store)->LoadAll();
  auto listed = (*store)->ListQuarantined(0, 100);
  auto quarantined = (*store)->CountQuarantined();

  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_TRUE(quarantined.ok()) << quarantined.status();
  EXPECT_EQ(loaded->size(), records.size() - 2);
  for (const BenchmarkRecord& r : *loaded) {
    EXPECT_NE(r.throughput_tokens_per_s, records[1].throughput_tokens_per_s);
    EXPECT_NE(r.throughput_tokens_per_s, records[2].throughput_tokens_per_s);
  }
  EXPECT_EQ((*store)->count(), static_cast<int64_t>(records.size() - 2));
  EXPECT_EQ(*quarantined, 2);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].reason, "100x the prediction");
  EXPECT_EQ((*listed)[0].record.submitted_by, "mallory");
  EXPECT_EQ((*listed)[0].record.batch_size, records[1].batch_size);
  EXPECT_EQ((*listed)[0].record.p99_ttft_s, 0.5);
  EXPECT_EQ((*listed)[0].record.p99_tpot_s, 0.02);
  EXPECT_FALSE((*listed)[1].record.p99_ttft_s.has_value());
  EXPECT_EQ((*listed)[1].reason, "0.01x the prediction");
  EXPECT_LT((*listed)[0].id, (*listed)[1].id);
}

TEST_P(BenchmarkStoreTest, QuarantineListPagesByIdAfter) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  InsertWithTwoQuarantined(**store);
  auto first = (*store)->ListQuarantined(0, 1);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 1u);

  auto second = (*store)->ListQuarantined(first->front().id, 10);

  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().reason, "0.01x the prediction");
}

TEST_P(BenchmarkStoreTest, ReleasedResultsBecomeTrainableAndCount) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<BenchmarkRecord> records = InsertWithTwoQuarantined(**store);
  auto listed = (*store)->ListQuarantined(0, 100);
  ASSERT_TRUE(listed.ok()) << listed.status();
  const int64_t id = (*listed)[0].id;

  auto released = (*store)->ReleaseQuarantined({id, id + 1000});

  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(*released, std::vector<int64_t>{id});
  EXPECT_EQ((*store)->count(), static_cast<int64_t>(records.size() - 1));
  auto loaded = (*store)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->size(), records.size() - 1);
  auto again = (*store)->ReleaseQuarantined({id});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty()) << "released twice";
}

TEST_P(BenchmarkStoreTest, DroppedResultsAreDeletedAndTrainableOnesCannotBeDropped) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<BenchmarkRecord> records = InsertWithTwoQuarantined(**store);
  auto listed = (*store)->ListQuarantined(0, 100);
  ASSERT_TRUE(listed.ok()) << listed.status();
  const int64_t id = (*listed)[1].id;

  auto dropped = (*store)->DropQuarantined({id, id - 1, id - 2});

  ASSERT_TRUE(dropped.ok()) << dropped.status();
  // id - 1 is the other quarantined result; id - 2 is a trainable one, which stays.
  EXPECT_EQ(dropped->size(), 2u);
  auto left = (*store)->CountQuarantined();
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 0);
  auto loaded = (*store)->LoadAll();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size(), records.size() - 2);
  // The dropped key may be submitted again.
  auto resubmitted = (*store)->Insert({records[2]});
  ASSERT_TRUE(resubmitted.ok());
  EXPECT_TRUE(resubmitted->front());
}

TEST_P(BenchmarkStoreTest, QuarantineSurvivesReopen) {
  std::vector<BenchmarkRecord> records;
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    records = InsertWithTwoQuarantined(**store);
  }

  auto reopened = Open();

  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->count(), static_cast<int64_t>(records.size() - 2));
  auto listed = (*reopened)->ListQuarantined(0, 100);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].reason, "100x the prediction");
  EXPECT_EQ((*listed)[0].record.submitted_by, "mallory");
}

TEST_P(BenchmarkStoreTest, SeedingKeepsTheCsvCampaignAndNamesTheSeed) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<BenchmarkRecord> records = TestRecords(1);
  for (BenchmarkRecord& r : records) r.configuration.campaign = "lab-a";
  const std::string csv = testing::WriteSeedCsv(dir_.path(), records);
  ServerMetrics metrics;

  SeedStore(csv, store->get(), &metrics);

  auto loaded = (*store)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), records.size());
  EXPECT_EQ(loaded->front().configuration.campaign, "lab-a");
  EXPECT_EQ(loaded->front().submitted_by, "seed");
  EXPECT_GT(loaded->front().submitted_at_unix_s, 0);
}

INSTANTIATE_TEST_SUITE_P(Stores, BenchmarkStoreTest,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres),
                         [](const ::testing::TestParamInfo<StoreKind>& info) {
                           return info.param == StoreKind::kSqlite ? "Sqlite" : "Postgres";
                         });
TEST_P(SharedBenchmarkStoreTest, ATableOfTheOldSchemaIsMigratedAtOpen) {
  {
    auto connection = PgConnection::Connect(database_->url());
    ASSERT_TRUE(connection.ok()) << connection.status();
    ASSERT_TRUE((*connection)
                    ->Run(R"sql(
CREATE TABLE perfcast_benchmark_results (
  id BIGSERIAL PRIMARY KEY, hardware TEXT NOT NULL, num_gpus INTEGER NOT NULL,
  framework TEXT NOT NULL, model TEXT NOT NULL, precision TEXT NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, batch_size INTEGER NOT NULL,
  source_id TEXT NOT NULL, throughput_tokens_per_s DOUBLE PRECISION NOT NULL,
  ttft_s DOUBLE PRECISION, itl_s DOUBLE PRECISION, latency_s DOUBLE PRECISION,
  stored_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens,
          batch_size, source_id));
INSERT INTO perfcast_benchmark_results (hardware, num_gpus, framework, model, precision,
  input_tokens, output_tokens, batch_size, source_id, throughput_tokens_per_s)
  VALUES ('H100', 1, 'vllm', 'm', 'fp16', 128, 128, 8, 'old', 1000);
)sql")
                    .ok());
  }

  auto store = Open();

  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->count(), 1);
  auto loaded = (*store)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->front().configuration.campaign, "");
  EXPECT_EQ(loaded->front().configuration.batch_semantics, BatchSemantics::kStatic);
  BenchmarkRecord same_key_other_campaign = loaded->front();
  same_key_other_campaign.configuration.campaign = "lab-b";
  auto inserted = (*store)->Insert({same_key_other_campaign});
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_TRUE(inserted->front()) << "the old key, without the campaign, is still in force";
}

// A table of the schema before the 99th percentiles (campaigns and the quarantine included).
TEST_P(SharedBenchmarkStoreTest, ATableWithoutTheP99ColumnsGainsThemAtOpen) {
  {
    auto connection = PgConnection::Connect(database_->url());
    ASSERT_TRUE(connection.ok()) << connection.status();
    ASSERT_TRUE((*connection)
                    ->Run(R"sql(
CREATE TABLE perfcast_benchmark_results (
  id BIGSERIAL PRIMARY KEY, hardware TEXT NOT NULL, num_gpus INTEGER NOT NULL,
  framework TEXT NOT NULL, model TEXT NOT NULL, precision TEXT NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, batch_size INTEGER NOT NULL,
  source_id TEXT NOT NULL, throughput_tokens_per_s DOUBLE PRECISION NOT NULL,
  ttft_s DOUBLE PRECISION, itl_s DOUBLE PRECISION, latency_s DOUBLE PRECISION,
  stored_at TIMESTAMPTZ NOT NULL DEFAULT now(), campaign TEXT NOT NULL DEFAULT '',
  batch_semantics TEXT NOT NULL DEFAULT 'static', submitted_by TEXT NOT NULL DEFAULT '',
  submitted_at_unix_s BIGINT NOT NULL DEFAULT 0, quarantine_reason TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX perfcast_benchmark_results_key ON perfcast_benchmark_results
  (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size,
   source_id, campaign, batch_semantics);
INSERT INTO perfcast_benchmark_results (hardware, num_gpus, framework, model, precision,
  input_tokens, output_tokens, batch_size, source_id, throughput_tokens_per_s, ttft_s, campaign)
  VALUES ('H100', 1, 'vllm', 'm', 'fp16', 128, 128, 8, 'old', 1000, 0.25, 'lab-a');
)sql")
                    .ok());
  }

  auto store = Open();

  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->count(), 1);
  auto loaded = (*store)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->front().ttft_s, 0.25);
  EXPECT_EQ(loaded->front().configuration.campaign, "lab-a");
  EXPECT_FALSE(loaded->front().p99_ttft_s.has_value());
  EXPECT_FALSE(loaded->front().p99_tpot_s.has_value());
  BenchmarkRecord with_p99 = loaded->front();
  with_p99.batch_size = 16;
  with_p99.p99_ttft_s = 0.5;
  with_p99.p99_tpot_s = 0.02;
  auto inserted = (*store)->Insert({with_p99});
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_TRUE(inserted->front());
  loaded = (*store)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[1].p99_ttft_s, 0.5);
  EXPECT_EQ((*loaded)[1].p99_tpot_s, 0.02);
}

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

// A SQLite file at `path` made by `sql`, as an earlier version of the store left it.
void WriteSqliteFile(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  const int opened = sqlite3_open(path.c_str(), &db);
  if (opened != SQLITE_OK) sqlite3_close(db);
  ASSERT_EQ(opened, SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// A file written before campaigns, batch semantics, submitters and the quarantine existed (the
// schema of 571309b and earlier): it opens, its rows read as the unnamed campaign's static
// batches, and the new key applies.
TEST(SqliteBenchmarkStoreTest, AFileOfTheOldSchemaOpensAndReads) {
  TempDir dir;
  const std::string path = dir.path() + "/db.sqlite3";
  ASSERT_NO_FATAL_FAILURE(WriteSqliteFile(path, R"sql(
CREATE TABLE benchmark_results (
  id INTEGER PRIMARY KEY, hardware TEXT NOT NULL, num_gpus INTEGER NOT NULL,
  framework TEXT NOT NULL, model TEXT NOT NULL, precision TEXT NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, batch_size INTEGER NOT NULL,
  source_id TEXT NOT NULL, throughput_tokens_per_s REAL NOT NULL, ttft_s REAL, itl_s REAL,
  latency_s REAL, stored_unix_s INTEGER NOT NULL DEFAULT (unixepoch()),
  UNIQUE (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens,
          batch_size, source_id));
INSERT INTO benchmark_results (hardware, num_gpus, framework, model, precision, input_tokens,
  output_tokens, batch_size, source_id, throughput_tokens_per_s, latency_s)
  VALUES ('H100', 1, 'vllm', 'm', 'fp16', 128, 128, 8, 'old-1', 1000, 2.5),
         ('H100', 1, 'vllm', 'm', 'fp16', 128, 128, 16, 'old-2', 1800, NULL);
)sql"));

  auto store = SqliteBenchmarkStore::Open(path);

  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->count(), 2);
  auto loaded = (*store)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].source, "old-1");
  EXPECT_EQ((*loaded)[0].latency_s, 2.5);
  EXPECT_EQ((*loaded)[1].throughput_tokens_per_s, 1800);
  EXPECT_EQ((*loaded)[0].configuration.campaign, "");
  EXPECT_EQ((*loaded)[0].configuration.batch_semantics, BatchSemantics::kStatic);
  EXPECT_EQ((*loaded)[0].submitted_by, "");
  EXPECT_EQ((*loaded)[0].submitted_at_unix_s, 0);
  // The old key did not name the campaign: the same point from another campaign is new now.
  BenchmarkRecord other = (*loaded)[0];
  other.configuration.campaign = "lab-b";
  auto inserted = (*store)->Insert({other});
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_TRUE(inserted->front());
  auto duplicate = (*store)->Insert({(*loaded)[1]});
  ASSERT_TRUE(duplicate.ok()) << duplicate.status();
  EXPECT_FALSE(duplicate->front());
}

// A file of the schema before the 99th percentiles (campaigns, the quarantine and the key index
// included): it opens with its rows, which have none, and then stores them.
TEST(SqliteBenchmarkStoreTest, AFileWithoutTheP99ColumnsGainsThemAtOpen) {
  TempDir dir;
  const std::string path = dir.path() + "/db.sqlite3";
  ASSERT_NO_FATAL_FAILURE(WriteSqliteFile(path, R"sql(
CREATE TABLE benchmark_results (
  id INTEGER PRIMARY KEY, hardware TEXT NOT NULL, num_gpus INTEGER NOT NULL,
  framework TEXT NOT NULL, model TEXT NOT NULL, precision TEXT NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, batch_size INTEGER NOT NULL,
  source_id TEXT NOT NULL, throughput_tokens_per_s REAL NOT NULL, ttft_s REAL, itl_s REAL,
  latency_s REAL, stored_unix_s INTEGER NOT NULL DEFAULT (unixepoch()),
  campaign TEXT NOT NULL DEFAULT '', batch_semantics TEXT NOT NULL DEFAULT 'static',
  submitted_by TEXT NOT NULL DEFAULT '', submitted_at_unix_s INTEGER NOT NULL DEFAULT 0,
  quarantine_reason TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX benchmark_results_key ON benchmark_results
  (hardware, num_gpus, framework, model, precision, input_tokens, output_tokens, batch_size,
   source_id, campaign, batch_semantics);
INSERT INTO benchmark_results (hardware, num_gpus, framework, model, precision, input_tokens,
  output_tokens, batch_size, source_id, throughput_tokens_per_s, ttft_s, itl_s, campaign,
  quarantine_reason)
  VALUES ('H100', 1, 'vllm', 'm', 'fp16', 128, 128, 8, 'old-1', 1000, 0.25, 0.01, 'lab-a', ''),
         ('H100', 1, 'vllm', 'm', 'fp16', 128, 128, 16, 'old-2', 1800, NULL, NULL, '', 'held');
)sql"));

  auto store = SqliteBenchmarkStore::Open(path);

  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->count(), 1);
  auto loaded = (*store)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].source, "old-1");
  EXPECT_EQ((*loaded)[0].ttft_s, 0.25);
  EXPECT_EQ((*loaded)[0].itl_s, 0.01);
  EXPECT_EQ((*loaded)[0].configuration.campaign, "lab-a");
  EXPECT_FALSE((*loaded)[0].p99_ttft_s.has_value());
  EXPECT_FALSE((*loaded)[0].p99_tpot_s.has_value());
  auto listed = (*store)->ListQuarantined(0, 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].reason, "held");
  EXPECT_FALSE((*listed)[0].record.p99_ttft_s.has_value());

  BenchmarkRecord with_p99 = (*loaded)[0];
  with_p99.batch_size = 32;
  with_p99.p99_ttft_s = 0.5;
  with_p99.p99_tpot_s = 0.02;
  auto inserted = (*store)->Insert({with_p99, (*loaded)[0]});
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_EQ(*inserted, (std::vector<bool>{true, false}));  // the old key index still applies
  store->reset();
  auto reopened = SqliteBenchmarkStore::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  loaded = (*reopened)->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_FALSE((*loaded)[0].p99_ttft_s.has_value());
  EXPECT_EQ((*loaded)[1].p99_ttft_s, 0.5);
  EXPECT_EQ((*loaded)[1].p99_tpot_s, 0.02);
}

}  // namespace
}  // namespace perfcast::server
