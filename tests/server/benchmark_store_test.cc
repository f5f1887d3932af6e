#include "server/benchmark_store.h"

#include <memory>

#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using testing::TempDir;
using testing::TestRecords;

TEST(BenchmarkStoreTest, InsertsNewResultsAndReportsDuplicates) {
  TempDir dir;
  auto store = BenchmarkStore::Open(dir.path() + "/db.sqlite3");
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

TEST(BenchmarkStoreTest, SameKeyFromAnotherSourceIsNew) {
  TempDir dir;
  auto store = BenchmarkStore::Open(dir.path() + "/db.sqlite3");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Insert(TestRecords(1, "run-a")).ok());

  auto other = (*store)->Insert(TestRecords(1, "run-b"));

  ASSERT_TRUE(other.ok());
  EXPECT_EQ(std::count(other->begin(), other->end(), true), other->size());
}

TEST(BenchmarkStoreTest, DuplicateInsideOneBatchIsStoredOnce) {
  TempDir dir;
  auto store = BenchmarkStore::Open(dir.path() + "/db.sqlite3");
  ASSERT_TRUE(store.ok());
  std::vector<BenchmarkRecord> records = TestRecords(1);
  records.push_back(records.front());

  auto inserted = (*store)->Insert(records);

  ASSERT_TRUE(inserted.ok());
  EXPECT_FALSE(inserted->back());
  EXPECT_EQ((*store)->count(), static_cast<int64_t>(records.size() - 1));
}

TEST(BenchmarkStoreTest, ResultsSurviveReopenWithAllFields) {
  TempDir dir;
  std::vector<BenchmarkRecord> records = TestRecords(2);
  records[3].latency_s = 1.5;
  records[3].ttft_s = 0.25;
  {
    auto store = BenchmarkStore::Open(dir.path() + "/db.sqlite3");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Insert(records).ok());
  }

  auto reopened = BenchmarkStore::Open(dir.path() + "/db.sqlite3");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto loaded = (*reopened)->LoadAll();

  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), records.size());
  EXPECT_EQ((*reopened)->count(), static_cast<int64_t>(records.size()));
  EXPECT_EQ((*loaded)[3].configuration, records[3].configuration);
  EXPECT_EQ((*loaded)[3].shape, records[3].shape);
  EXPECT_EQ((*loaded)[3].batch_size, records[3].batch_size);
  EXPECT_DOUBLE_EQ((*loaded)[3].throughput_tokens_per_s, records[3].throughput_tokens_per_s);
  EXPECT_EQ((*loaded)[3].latency_s, 1.5);
  EXPECT_EQ((*loaded)[3].ttft_s, 0.25);
  EXPECT_FALSE((*loaded)[3].itl_s.has_value());
  EXPECT_EQ((*loaded)[3].source, "test");
}

TEST(BenchmarkStoreTest, NotADatabaseIsAnError) {
  TempDir dir;
  const std::string path = dir.path() + "/db.sqlite3";
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("this is not an sqlite database, just some text that is long enough to matter....", f);
  std::fclose(f);

  auto store = BenchmarkStore::Open(path);

  EXPECT_FALSE(store.ok());
}

}  // namespace
}  // namespace perfcast::server
