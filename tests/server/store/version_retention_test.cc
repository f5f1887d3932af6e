#include "server/store/version_retention.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/local_model_bundle_store.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using ::testing::ElementsAre;

// Version directories as ListVersions sees them; their contents are never read here.
void MakeVersions(const std::string& dir, std::initializer_list<int> versions) {
  for (int v : versions) std::filesystem::create_directories(dir + "/" + std::to_string(v));
}

TEST(VersionRetentionTest, KeepsTheNewestAndTheServingVersion) {
  testing::TempDir dir;
  MakeVersions(dir.path(), {1, 2, 3, 4, 5});
  LocalModelBundleStore store(dir.path());

  absl::StatusOr<std::vector<int64_t>> deleted = DeleteOldVersions(store, 2, /*serving=*/1);

  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_THAT(*deleted, ElementsAre(3, 2));
  EXPECT_THAT(*store.ListVersions(), ElementsAre(5, 4, 1));
}

TEST(VersionRetentionTest, KeepZeroKeepsAll) {
  testing::TempDir dir;
  MakeVersions(dir.path(), {1, 2, 3});
  LocalModelBundleStore store(dir.path());
  EXPECT_TRUE(DeleteOldVersions(store, 0, 3)->empty());
  EXPECT_THAT(*store.ListVersions(), ElementsAre(3, 2, 1));
}

TEST(VersionRetentionTest, DeleteTakesTheTrainedResultCountWithTheVersion) {
  testing::TempDir dir;
  MakeVersions(dir.path(), {1, 2});
  for (int v : {1, 2}) {
    std::ofstream(dir.path() + "/" + std::to_string(v) + "/" + kTrainedResultsFile) << 10 * v;
  }
  LocalModelBundleStore store(dir.path());
  ASSERT_EQ(store.TrainedResultCount(1), 10);

  ASSERT_TRUE(store.Delete(1).ok());

  EXPECT_EQ(store.TrainedResultCount(1), std::nullopt);
  EXPECT_EQ(store.TrainedResultCount(2), 20);
  EXPECT_THAT(*store.ListVersions(), ElementsAre(2));
  // Nothing of version 1 is left behind, its count file included.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

}  // namespace
}  // namespace perfcast::server
