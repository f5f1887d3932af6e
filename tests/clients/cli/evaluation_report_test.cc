// Runs the built `perfcast eval --report` and reads the SVG files it writes.
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/clients/cli/cli_run.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;

using testing::CliRun;

CliRun RunCli(const std::string& arguments) {
  return testing::RunCli(arguments, "evaluation_report_test");
}

std::string TestName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int CountOf(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// One campaign measuring 1-, 2- and 4-GPU systems of one made-up GPU at three shapes, five batch
// sizes a curve (45 rows); no catalogue lists the GPU, so the runs pass --catalogue none.
std::string SyntheticData() {
  const std::string path = absl::StrCat(::testing::TempDir(), "/report_", TestName(), ".csv");
  std::ofstream out(path);
  out << "source,hardware,num_gpus,framework,model,precision,input_tokens,output_tokens,"
         "batch_size,output_tokens_per_s\n";
  for (int gpus : {1, 2, 4}) {
    for (int tokens : {128, 512, 1024}) {
      for (int batch : {1, 4, 16, 64, 128}) {
        const double ceiling = 3000.0 * gpus / (1 + tokens / 800.0);
        out << "lab,gpu-x," << gpus << ",vllm,org/model-7b,fp16," << tokens << "," << tokens << ","
            << batch << "," << ceiling * (1 - 0.95 * std::exp(-0.03 * batch)) << "\n";
      }
    }
  }
  return path;
}

std::string ReportDir() { return absl::StrCat(::testing::TempDir(), "/report_", TestName()); }

TEST(EvaluationReportTest, WritesAnErrorCdfPerMethodAndAReliabilityDiagramWithLevels) {
  const std::string dir = ReportDir();

  const CliRun run = RunCli(absl::StrCat("eval --data ", SyntheticData(),
                                         " --protocol new-shape --methods perfcast,nearest-curve "
                                         "--catalogue none --levels 0.5,0.8 --threads 1 --report ",
                                         dir));

  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("new-shape     perfcast"));  // the tables, as without --report
  EXPECT_THAT(run.err, HasSubstr(absl::StrCat("wrote ", dir, "/ape_new-shape.svg")));
  const std::string ape = ReadFile(dir + "/ape_new-shape.svg");
  EXPECT_THAT(ape, HasSubstr(">Error distribution, new-shape</text>"));
  EXPECT_EQ(CountOf(ape, "<polyline class=\"line\""), 2);
  EXPECT_THAT(ape, HasSubstr("data-series=\"perfcast ("));
  EXPECT_THAT(ape, HasSubstr("data-series=\"nearest-curve ("));
  EXPECT_THAT(ape, HasSubstr(">absolute percentage error (%)</text>"));

  const std::string reliability = ReadFile(dir + "/reliability_new-shape.svg");
  // perfcast alone gives intervals; its line, then the ideal diagonal.
  EXPECT_EQ(CountOf(reliability, "<polyline class=\"line\""), 2);
  EXPECT_THAT(reliability, HasSubstr("<polyline class=\"line\" data-series=\"perfcast\""));
  EXPECT_THAT(reliability, HasSubstr("data-series=\"ideal\""));
  // One dot per level: the two asked for and the headline 0.9.
  EXPECT_EQ(CountOf(reliability, "<circle class=\"vertex\""), 3);
  EXPECT_THAT(reliability, HasSubstr(">nominal level</text>"));
}

TEST(EvaluationReportTest, WithoutLevelsOrIntervalsThereIsNoReliabilityDiagram) {
  const std::string dir = ReportDir();

  const CliRun run = RunCli(absl::StrCat("eval --data ", SyntheticData(),
                                         " --protocol larger-batch --methods nearest-curve "
                                         "--catalogue none --threads 1 --json --report ",
                                         dir));

  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, ::testing::StartsWith("{"));  // stdout keeps to the JSON lines
  EXPECT_EQ(CountOf(ReadFile(dir + "/ape_larger-batch.svg"), "<polyline class=\"line\""), 1);
  EXPECT_FALSE(std::filesystem::exists(dir + "/reliability_larger-batch.svg"));
}

TEST(EvaluationReportTest, AReportPathThatIsAFileFailsBeforeAnyTraining) {
  const std::string file = absl::StrCat(::testing::TempDir(), "/report_is_a_file");
  std::ofstream(file) << "x";

  const CliRun run = RunCli(absl::StrCat("eval --data ", SyntheticData(),
                                         " --protocol new-shape --methods nearest-curve "
                                         "--catalogue none --report ",
                                         file));

  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, HasSubstr(absl::StrCat("--report=", file, ": cannot make the directory")));
  EXPECT_EQ(run.out, "");
}

}  // namespace
}  // namespace perfcast
