#include "clients/cli/progress_reporter.h"

#include <sstream>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ProgressLineTest, EstimatesTheTimeLeftFromTheStepsDone) {
  EXPECT_EQ(ProgressLine("new-shape perfcast", "fold", 2, 8, absl::Seconds(10)),
            "new-shape perfcast  fold 2/8  10 s elapsed, about 30 s left");
}

TEST(ProgressLineTest, GivesNoEstimateBeforeTheFirstStepOrAfterTheLast) {
  EXPECT_THAT(ProgressLine("fit", "model", 0, 9, absl::Seconds(1)), Not(HasSubstr("left")));
  EXPECT_THAT(ProgressLine("fit", "model", 9, 9, absl::Seconds(1)), Not(HasSubstr("left")));
}

TEST(ProgressLineTest, LongRunsAreInMinutes) {
  EXPECT_THAT(ProgressLine("eval", "fold", 1, 2, absl::Minutes(10)),
              HasSubstr("10 min elapsed, about 10 min left"));
}

TEST(ProgressReporterTest, RewritesOneLineAndEndsItWithTheTask) {
  std::ostringstream out;
  absl::Time now = absl::UnixEpoch();
  ProgressReporter reporter(out, /*enabled=*/true, [&now] { return now; });

  reporter.Report("new-shape perfcast", "fold", 1, 2);
  now += absl::Seconds(4);
  reporter.Report("new-shape perfcast", "fold", 2, 2);

  EXPECT_THAT(out.str(), HasSubstr("\rnew-shape perfcast  fold 1/2  0 s elapsed"));
  EXPECT_THAT(out.str(), HasSubstr("\rnew-shape perfcast  fold 2/2  4 s elapsed"));
  EXPECT_THAT(out.str(), EndsWith("\n"));
}

TEST(ProgressReporterTest, ANewTaskStartsItsOwnClock) {
  std::ostringstream out;
  absl::Time now = absl::UnixEpoch();
  ProgressReporter reporter(out, /*enabled=*/true, [&now] { return now; });

  reporter.Report("new-shape perfcast", "fold", 1, 1);
  now += absl::Seconds(50);
  reporter.Report("new-config perfcast", "fold", 1, 3);

  EXPECT_THAT(out.str(), HasSubstr("new-config perfcast  fold 1/3  0 s elapsed"));
}

TEST(ProgressReporterTest, ANoteSaysWhatComesNext) {
  std::ostringstream out;
  absl::Time now = absl::UnixEpoch();
  ProgressReporter reporter(out, /*enabled=*/true, [&now] { return now; });

  reporter.Report("fit", "stage", 1, 4, "correction model");

  EXPECT_THAT(out.str(),
              HasSubstr("fit  stage 1/4  0 s elapsed, about 0 s left (correction model)"));
}

TEST(ProgressReporterTest, DisabledItWritesNothing) {
  std::ostringstream out;
  ProgressReporter reporter(out, /*enabled=*/false);

  reporter.Report("fit", "model", 1, 2);

  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace perfcast
