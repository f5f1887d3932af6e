#include "server/postgres/postgres_leader_election.h"

#include <atomic>
#include <memory>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/server/postgres_test_database.h"

namespace perfcast::server {
namespace {

using testing::PostgresTestDatabase;
using testing::TestPostgresAdminUrl;

constexpr absl::Duration kRetry = absl::Milliseconds(100);

class PostgresLeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (TestPostgresAdminUrl().empty()) {
      GTEST_SKIP() << "PERFCAST_TEST_POSTGRES_URL_FILE unset: run through ctest";
    }
    database_ = std::make_unique<PostgresTestDatabase>();
    ASSERT_FALSE(database_->url().empty()) << database_->error();
  }

  std::unique_ptr<PostgresLeaderElection> NewElection(std::atomic<int>* changes = nullptr) {
    return std::make_unique<PostgresLeaderElection>(database_->url(), kRetry, [changes](bool) {
      if (changes != nullptr) ++*changes;
    });
  }

  std::unique_ptr<PostgresTestDatabase> database_;
};

bool BecomesLeader(const PostgresLeaderElection& election, absl::Duration within) {
  const absl::Time deadline = absl::Now() + within;
  while (absl::Now() < deadline) {
    if (election.is_leader()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return election.is_leader();
}

TEST_F(PostgresLeaderElectionTest, TheFirstToTryLeadsAndTheOtherWaits) {
  auto first = NewElection();
  auto second = NewElection();

  first->Start();
  second->Start();
  absl::SleepFor(3 * kRetry);

  EXPECT_TRUE(first->is_leader());
  EXPECT_FALSE(second->is_leader());
}

TEST_F(PostgresLeaderElectionTest, AnotherTakesOverWhenTheLeaderGoes) {
  auto first = NewElection();
  auto second = NewElection();
  first->Start();
  second->Start();
  ASSERT_TRUE(first->is_leader());

  first->Stop();

  EXPECT_TRUE(BecomesLeader(*second, 10 * kRetry));
}

TEST_F(PostgresLeaderElectionTest, ALeaderWhoseSessionIsKilledStepsDownAndRejoins) {
  std::atomic<int> changes{0};
  auto election = NewElection(&changes);
  election->Start();
  ASSERT_TRUE(election->is_leader());
  // What PostgreSQL does to the session of a leader that died: end it.
  ASSERT_TRUE(database_->TerminateSessions().ok());

  // It notices on its next check (false), then takes the free lock again (true).
  const absl::Time deadline = absl::Now() + 20 * kRetry;
  while (changes.load() < 4 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_GE(changes.load(), 4);  // false (start), true, false (lost), true (rejoined)
  EXPECT_TRUE(election->is_leader());
}

}  // namespace
}  // namespace perfcast::server
