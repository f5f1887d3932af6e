// Runs the built `perfcast eval` on small CSVs cut from the default data, as a newcomer would on
// a campaign of their own.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CliRun RunCli(const std::string& arguments) {
  // One file per test: CTest runs the tests of this binary as parallel processes.
  const std::string err_path =
      absl::StrCat(::testing::TempDir(), "/eval_command_test_",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".err");
  std::FILE* pipe =
      ::popen(absl::StrCat(PERFCAST_CLI_BINARY, " ", arguments, " 2>", err_path).c_str(), "r");
  CliRun run;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.out.append(buffer, n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  run.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return run;
}

// The first `rows` rows of the default data, then `renamed` of them again under a hardware name
// no catalogue lists.
std::string CampaignWithAnUnlistedGpu(int rows, int renamed) {
  std::ifstream in(absl::StrCat(PERFCAST_SOURCE_DIR, "/data/default_benchmarks.csv"));
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/campaign_", rows, "_", renamed, "_",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".csv");
  std::ofstream out(path);
  std::string line;
  std::string body;
  for (int i = 0; i <= rows && std::getline(in, line); ++i) {
    out << line << "\n";
    if (i > 0 && i <= renamed) {
      body += absl::StrReplaceAll(line, {{"NVIDIA GH200,", "NVIDIA GH200 Imaginary,"}}) + "\n";
    }
  }
  out << body;
  return path;
}

TEST(EvalCommandTest, AnUnlistedHardwareStopsTheRunBeforeAnyTraining) {
  const std::string data = CampaignWithAnUnlistedGpu(120, 30);

  const absl::Time start = absl::Now();
  CliRun run = RunCli(absl::StrCat("eval --data ", data, " --protocol all --methods perfcast"));

  EXPECT_NE(run.exit_code, 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_THAT(run.err, HasSubstr("hardware 'NVIDIA GH200 Imaginary' (30 rows"));
  EXPECT_THAT(run.err, HasSubstr("--skip-unresolved"));
  EXPECT_THAT(run.out, IsEmpty());
}

TEST(EvalCommandTest, SkipUnresolvedLeavesTheRowsOutAndSaysSo) {
  const std::string data = CampaignWithAnUnlistedGpu(120, 30);

  CliRun run = RunCli(absl::StrCat(
      "eval --data ", data, " --protocol new-hardware --methods perfcast --skip-unresolved"));

  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("left out 30 rows"));
  EXPECT_THAT(run.out, HasSubstr("new-hardware  perfcast"));
  EXPECT_THAT(run.err, HasSubstr("left out 30 rows"));
}

// new-shape never holds a whole configuration out, so a name the catalogue lacks cannot stop it;
// and without a terminal no progress is printed.
TEST(EvalCommandTest, AProtocolThatKeepsEveryConfigurationRunsQuietlyDespiteAnUnlistedName) {
  const std::string data = CampaignWithAnUnlistedGpu(120, 30);

  CliRun run =
      RunCli(absl::StrCat("eval --data ", data, " --protocol new-shape --methods perfcast"));

  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("new-shape     perfcast"));
  EXPECT_THAT(run.err, IsEmpty());
}

}  // namespace
}  // namespace perfcast
