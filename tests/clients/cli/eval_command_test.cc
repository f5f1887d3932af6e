// Runs the built `perfcast eval` on small CSVs cut from the default data, as a newcomer would on
// a campaign of their own.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/clients/cli/cli_run.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

using testing::CliRun;

CliRun RunCli(const std::string& arguments) {
  return testing::RunCli(arguments, "eval_command_test");
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

// A small synthetic data set: `campaigns` campaigns (lab-0, lab-1, ...), each measuring its own
// 1-, 2- and 4-GPU systems at 3 shapes, 5 batch sizes a curve (9 curves a campaign). No catalogue
// is needed: the tests run the baselines, which learn from configurations alone.
std::string SyntheticCampaigns(int campaigns) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/campaigns_", campaigns, "_",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".csv");
  std::ofstream out(path);
  out << "source,hardware,num_gpus,framework,model,precision,input_tokens,output_tokens,"
         "batch_size,output_tokens_per_s\n";
  for (int c = 0; c < campaigns; ++c) {
    for (int gpus : {1, 2, 4}) {
      for (int tokens : {128, 512, 1024}) {
        for (int batch : {1, 4, 16, 64, 128}) {
          const double ceiling = (3000.0 + 500 * c) * gpus / (1 + tokens / 800.0);
          out << "lab-" << c << ",gpu-x," << gpus << ",vllm,org/model-7b,fp16," << tokens << ","
              << tokens << "," << batch << "," << ceiling * (1 - 0.95 * std::exp(-0.03 * batch))
              << "\n";
        }
      }
    }
  }
  return path;
}

TEST(EvalNewCampaignCommandTest, JsonLinesCarryTheCampaignAndTheShotsOfEachRun) {
  const std::string data = SyntheticCampaigns(2);

  CliRun run = RunCli(absl::StrCat("eval --data ", data,
                                   " --protocol new-campaign --shots 0,0.5 --methods nearest-curve "
                                   "--json --threads 1"));

  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* shots : {"0", "0.5"}) {
    for (const char* campaign : {"lab-0", "lab-1", "all"}) {
      EXPECT_THAT(run.out, HasSubstr(absl::StrCat("\"protocol\":\"new-campaign\",\"method\":"
                                                  "\"nearest-curve\",\"campaign\":\"",
                                                  campaign, "\",\"shots\":", shots, ",")));
    }
  }
  // 2 runs of (2 campaigns + all).
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 6);
}

TEST(EvalNewCampaignCommandTest, TheTableAndThePointsCarryTheCampaignAndTheShots) {
  const std::string data = SyntheticCampaigns(2);
  const std::string points = absl::StrCat(::testing::TempDir(), "/new_campaign_points.csv");

  CliRun run = RunCli(absl::StrCat("eval --data ", data,
                                   " --protocol new-campaign --shots 0.3 --methods nearest-curve "
                                   "--threads 1 --points ",
                                   points));

  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("new-campaign  nearest-curve   lab-1      0.3"));
  EXPECT_THAT(run.out, HasSubstr("new-campaign  nearest-curve   all        0.3"));
  std::ifstream in(points);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_THAT(header, HasSubstr("protocol,method,shots,"));
  EXPECT_THAT(header, HasSubstr(",precision,campaign,"));
  EXPECT_THAT(row, ::testing::StartsWith("new-campaign,nearest-curve,0.3,gpu-x,"));
  EXPECT_THAT(row, HasSubstr(",fp16,lab-0,"));
}

// A hardware name that one campaign alone carries is left without training data when that
// campaign is held out; one that every campaign carries is not.
TEST(EvalNewCampaignCommandTest, ANameOfOneCampaignOnlyThatTheCatalogueLacksStopsTheRun) {
  std::ifstream in(SyntheticCampaigns(2));
  const std::string data = absl::StrCat(::testing::TempDir(), "/one_campaign_gpu.csv");
  std::ofstream out(data);
  for (std::string line; std::getline(in, line);) {
    // lab-1's 4-GPU system gets a hardware name of its own; gpu-x stays in both campaigns.
    out << (line.starts_with("lab-1,gpu-x,4,")
                ? absl::StrReplaceAll(line, {{"gpu-x", "gpu-of-lab-1"}})
                : line)
        << "\n";
  }
  out.close();

  CliRun run =
      RunCli(absl::StrCat("eval --data ", data, " --protocol new-campaign --methods perfcast"));

  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, HasSubstr("hardware 'gpu-of-lab-1' (15 rows"));
  EXPECT_THAT(run.err, ::testing::Not(HasSubstr("'gpu-x'")));
  EXPECT_THAT(run.out, IsEmpty());
}

TEST(EvalNewCampaignCommandTest, RefusesShotsThatAreNotAShareNamingTheFlag) {
  const std::string data = SyntheticCampaigns(2);
  for (const char* shots : {"-0.1", "1", "1.5", "abc", "0.1,x"}) {
    CliRun run = RunCli(absl::StrCat(
        "eval --data ", data, " --protocol new-campaign --methods nearest-curve --shots ", shots));

    EXPECT_EQ(run.exit_code, 2) << shots;  // INVALID_ARGUMENT
    EXPECT_THAT(run.err, HasSubstr("--shots")) << shots;
    EXPECT_THAT(run.out, IsEmpty());
  }
}

TEST(EvalNewCampaignCommandTest, RefusesShotsForAProtocolThatTakesNone) {
  const std::string data = SyntheticCampaigns(2);

  CliRun run = RunCli(absl::StrCat("eval --data ", data,
                                   " --protocol new-config --methods nearest-curve --shots 0.1"));

  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("--shots"));
}

TEST(EvalNewCampaignCommandTest, DataOfOneCampaignIsAClearErrorForNewCampaign) {
  const std::string data = SyntheticCampaigns(1);

  CliRun run = RunCli(
      absl::StrCat("eval --data ", data, " --protocol new-campaign --methods nearest-curve"));

  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, HasSubstr("new-campaign needs data of 2 campaigns or more"));
  EXPECT_THAT(run.err, HasSubstr("'lab-0'"));
  EXPECT_THAT(run.out, IsEmpty());
}

TEST(EvalNewCampaignCommandTest, AllSkipsNewCampaignOnDataOfOneCampaignWithANote) {
  const std::string data = SyntheticCampaigns(1);

  CliRun run = RunCli(
      absl::StrCat("eval --data ", data, " --protocol all --methods nearest-curve --threads 1"));

  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("new-campaign skipped: new-campaign needs data of 2 campaigns"));
  EXPECT_THAT(run.err, HasSubstr("new-campaign skipped"));
  EXPECT_THAT(run.out, HasSubstr("new-hardware  nearest-curve"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("new-campaign  nearest-curve")));
}

}  // namespace
}  // namespace perfcast
