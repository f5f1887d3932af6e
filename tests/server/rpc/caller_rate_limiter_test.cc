#include "server/rpc/caller_rate_limiter.h"

#include "absl/strings/str_cat.h"
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

// Rate 1, capacity 10: an empty bucket is full again after 10 s, so a sweep then forgets every
// caller idle since; a caller still in debt is kept, and still limited.
TEST(CallerRateLimiterTest, CallersIdleUntilTheirBucketsRefillAreForgotten) {
  CallerRateLimiter limiter(1, 10, "1 result per second");
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(limiter.Take(absl::StrCat("caller-", i), 1, kStart).ok());
  }
  ASSERT_TRUE(limiter.Take("in-debt", 40, kStart).ok());  // 30 in debt: full again after 40 s
  EXPECT_EQ(limiter.caller_count(), 501u);

  ASSERT_TRUE(limiter.Take("late", 1, kStart + absl::Seconds(11)).ok());

  EXPECT_EQ(limiter.caller_count(), 2u);  // "late" and "in-debt"
  EXPECT_EQ(limiter.Take("in-debt", 1, kStart + absl::Seconds(11)).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(CallerRateLimiterTest, ManyCallersAtOnceStayWithinTheCap) {
  // A bucket that takes a day to refill: no caller is forgotten for being full.
  CallerRateLimiter limiter(1, 86400, "1 result per second", /*max_callers=*/1000);
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(limiter.Take(absl::StrCat("caller-", i), 1, kStart + absl::Milliseconds(i)).ok());
    ASSERT_LE(limiter.caller_count(), 1000u);
  }
  EXPECT_EQ(limiter.caller_count(), 1000u);
}

TEST(CallerRateLimiterTest, AtTheCapTheLeastRecentlySeenCallerIsForgotten) {
  CallerRateLimiter limiter(0.001, 1, "1 refit per 1000 s", /*max_callers=*/3);
  for (const char* caller : {"a", "b", "c"}) ASSERT_TRUE(limiter.Take(caller, 1, kStart).ok());
  EXPECT_FALSE(limiter.Take("a", 1, kStart).ok());  // seen again: now the most recent

  ASSERT_TRUE(limiter.Take("d", 1, kStart).ok());  // forgets "b", the least recently seen

  EXPECT_EQ(limiter.caller_count(), 3u);
  EXPECT_FALSE(limiter.Take("a", 1, kStart).ok());
  EXPECT_FALSE(limiter.Take("c", 1, kStart).ok());
  EXPECT_TRUE(limiter.Take("b", 1, kStart).ok());  // a fresh bucket
}

}  // namespace
}  // namespace perfcast::server
