#include "server/rpc/caller_rate_limiter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast::server {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

TEST(CallerRateLimiterTest, AdmitsTheBurstThenRefusesWithTheRetryTime) {
  CallerRateLimiter limiter(/*rate_per_second=*/2, /*capacity=*/4, "2 results per second");
  EXPECT_TRUE(limiter.Take("a", 4, kStart).ok());
  absl::Status refused = limiter.Take("a", 1, kStart);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("retry in 0.5 s"));
  EXPECT_THAT(refused.message(), HasSubstr("'a'"));
  EXPECT_TRUE(limiter.Take("a", 1, kStart + absl::Milliseconds(500)).ok());
}

TEST(CallerRateLimiterTest, CountsEachCallerApart) {
  CallerRateLimiter limiter(1, 1, "1 refit per minute");
  EXPECT_TRUE(limiter.Take("a", 1, kStart).ok());
  EXPECT_FALSE(limiter.Take("a", 1, kStart).ok());
  EXPECT_TRUE(limiter.Take("b", 1, kStart).ok());
}

TEST(CallerRateLimiterTest, ChunkLargerThanTheBucketPassesOnceAndLeavesDebt) {
  CallerRateLimiter limiter(10, 10, "10 results per second");
  EXPECT_TRUE(limiter.Take("a", 30, kStart).ok());
  // 20 in debt, and 10 more needed: 3 seconds.
  EXPECT_THAT(limiter.Take("a", 10, kStart).message(), HasSubstr("retry in 3.0 s"));
  EXPECT_TRUE(limiter.Take("a", 10, kStart + absl::Seconds(3)).ok());
}

TEST(CallerRateLimiterTest, RateZeroAdmitsEverything) {
  CallerRateLimiter limiter(0, 0, "off");
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.Take("a", 1e6, kStart).ok());
}

}  // namespace
}  // namespace perfcast::server
