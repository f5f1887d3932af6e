// The `perfcast` CLI binary's --server commands against an in-process server: output, --json and
// exit codes; and `predict` from the server's own bundle, which must print as the server does.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/cli/prediction_printer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/convert/prediction_conversion.h"
#include "server/perfcast_server.h"
#include "server/rpc/authorization.h"
#include "tests/clients/cli/cli_run.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using ::perfcast::server::testing::SeededServerOptions;
using ::perfcast::server::testing::StartServer;
using ::perfcast::server::testing::TempDir;
using ::perfcast::server::testing::TestRecords;
using ::perfcast::server::testing::WriteSeedCsv;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCliBinary[] = PERFCAST_CLI_BINARY;

using ::perfcast::testing::CliRun;

class PerfcastCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartServer(SeededServerOptions(dir_.path()));
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", server_->port());
  }

  // Runs `perfcast <arguments>` (a shell word list) and captures stdout, stderr and the exit code.
  static CliRun Run(const std::string& arguments) {
    return ::perfcast::testing::RunCli(arguments, "perfcast_cli");
  }

  std::string Server() const { return absl::StrCat("--server ", address_); }

  // Query flags for synthetic configuration 0 (H100-SXM-80GB x1) at 128/128.
  static std::string QueryFlags() {
    return "--hardware H100-SXM-80GB --num-gpus 1 --framework vllm "
           "--model meta-llama/Llama-3.1-8B-Instruct --precision fp16 --input-tokens 128 "
           "--output-tokens 128";
  }

  TempDir dir_;
  std::unique_ptr<PerfcastServer> server_;
  std::string address_;
};

TEST_F(PerfcastCliTest, PredictPrintsATableFromTheServer) {
  const CliRun run =
      Run(absl::StrCat("predict ", Server(), " ", QueryFlags(), " --batch-size 1,16"));

  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("90% interval"));
  EXPECT_TRUE(std::regex_search(
      run.out, std::regex("\\n +16 +[0-9.]+ +[0-9.]+ - +[0-9.]+ +[0-9.]+  measured +unknown\\n")))
      << run.out;
  // The test server has no catalogue: the memory fit is unknown, said once.
  EXPECT_THAT(run.out,
              HasSubstr("memory fit unknown: the model has no hardware/model catalogue\n"));
  EXPECT_EQ(run.err, "");
}

// The server keeps each version it trains as a bundle directory: the CLI can read the very model
// the server answers with, and both paths must print alike.
TEST_F(PerfcastCliTest, PredictPrintsTheSameTableAndJsonFromTheBundleAndFromTheServer) {
  const std::string bundle = absl::StrCat("--bundle ", dir_.path(), "/models/1");
  // Measured, interpolated and beyond the measured batches; a new shape; a new configuration.
  const std::string queries[] = {
      absl::StrCat(QueryFlags(), " --batch-size 1,3,16,1000"),
      "--hardware H100-SXM-80GB --num-gpus 1 --framework vllm "
      "--model meta-llama/Llama-3.1-8B-Instruct --precision fp16 --input-tokens 300 "
      "--output-tokens 200 --batch-size 1,50 --confidence 0.8",
      "--hardware H100-SXM-80GB --num-gpus 3 --framework vllm "
      "--model meta-llama/Llama-3.1-8B-Instruct --precision fp16 --input-tokens 128 "
      "--output-tokens 128 --batch-size 8",
  };
  std::string all_output;
  for (const std::string& query : queries) {
    for (const char* format : {"", " --json"}) {
      const CliRun local = Run(absl::StrCat("predict ", bundle, " ", query, format));
      const CliRun remote = Run(absl::StrCat("predict ", Server(), " ", query, format));

      EXPECT_EQ(local.exit_code, 0) << local.err;
      EXPECT_EQ(remote.exit_code, 0) << remote.err;
      EXPECT_NE(local.out, "") << query << format;
      EXPECT_EQ(local.out, remote.out) << query << format;
      all_output += remote.out;
    }
  }
  // The API's case names, whichever path printed them.
  for (const char* name : {"\"measured\"", "\"interpolated\"", "\"extrapolated_batch\"",
                           "\"extrapolated_shape\"", "\"new_configuration\""}) {
    EXPECT_THAT(all_output, HasSubstr(name));
  }
  EXPECT_THAT(all_output, Not(HasSubstr("extrapolated-")));
}

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

// The same chart from the server's bundle and from the server; only the bundle holds the
// measured points (the API does not send them).
TEST_F(PerfcastCliTest, PredictSvgDrawsTheCurveAndBandAndTheBundlesMeasuredPoints) {
  const std::string from_bundle = dir_.path() + "/bundle.svg";
  const std::string from_server = dir_.path() + "/server.svg";
  const std::string query = absl::StrCat(QueryFlags(), " --batch-size 1,2,4,8,16,32,64");

  const CliRun local = Run(
      absl::StrCat("predict --bundle ", dir_.path(), "/models/1 ", query, " --svg ", from_bundle));
  const CliRun remote = Run(absl::StrCat("predict ", Server(), " ", query, " --svg ", from_server));

  ASSERT_EQ(local.exit_code, 0) << local.err;
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  EXPECT_EQ(local.out, remote.out);  // the table is printed as without --svg
  for (const std::string& svg : {ReadFile(from_bundle), ReadFile(from_server)}) {
    EXPECT_THAT(svg, ::testing::StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    EXPECT_EQ(CountOf(svg, "<polygon class=\"band\" data-series=\"90% interval\""), 1);
    EXPECT_EQ(CountOf(svg, "<polyline class=\"line\" data-series=\"predicted\""), 1);
    EXPECT_THAT(svg, HasSubstr(">H100-SXM-80GB x1 | vllm | meta-llama/Llama-3.1-8B-Instruct | "
                               "fp16</text>"));
    EXPECT_THAT(svg, HasSubstr(">128 input / 128 output tokens, population of campaigns</text>"));
  }
  const std::string bundle_svg = ReadFile(from_bundle);
  EXPECT_THAT(bundle_svg, HasSubstr("data-series=\"measured, unnamed campaign\""));
  EXPECT_EQ(CountOf(bundle_svg, "<circle class=\"point\""),
            static_cast<int>(testing::TestBatchSizes().size()));
  EXPECT_EQ(CountOf(ReadFile(from_server), "<circle class=\"point\""), 0);
}

TEST_F(PerfcastCliTest, PredictSvgIntoAMissingDirectoryFailsNamingTheFlag) {
  const CliRun run = Run(absl::StrCat("predict ", Server(), " ", QueryFlags(),
                                      " --batch-size 1 --svg ", dir_.path(), "/no/such/x.svg"));

  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, HasSubstr("--svg="));
  EXPECT_THAT(run.err, HasSubstr("cannot write the file"));
}

// Core names cases without gRPC (a CLI built without the server has no proto); its names must
// stay the API's.
TEST(PredictionPrinterTest, CaseNamesAreTheApiNames) {
  for (PredictionCase c : kPredictionCases) {
    EXPECT_EQ(PredictionCaseName(c), PredictionCaseApiName(PredictionCaseToProto(c)));
  }
}

// A 99th percentile is printed where the model answered one (non-zero), with its interval, and
// left out (JSON) or "-" (table) where it did not.
TEST(PredictionPrinterTest, NinetyNinthPercentilesAppearWhereAnswered) {
  std::vector<PointPrediction> points(2);
  for (PointPrediction& p : points) {
    p.batch_size = 4;
    p.throughput_tokens_per_s = 100;
    p.latency_statistic = LatencyStatistic::kMean;
    p.ttft_s = 0.25;
    p.itl_s = 0.01;
  }
  points[0].p99_ttft_s = 1.5;
  points[0].p99_ttft_lower_s = 1;
  points[0].p99_ttft_upper_s = 2;
  points[0].p99_tpot_s = 0.0125;
  points[0].p99_tpot_lower_s = 0.011;
  points[0].p99_tpot_upper_s = 0.014;
  const std::string json = FormatPredictionJsonLines(points);
  const std::string first = json.substr(0, json.find('\n'));
  const std::string second = json.substr(json.find('\n') + 1);
  EXPECT_THAT(first, HasSubstr("\"p99_ttft_s\":1.5,\"p99_ttft_lower_s\":1,\"p99_ttft_upper_s\":2"));
  EXPECT_THAT(first, HasSubstr("\"p99_tpot_s\":0.0125,\"p99_tpot_lower_s\":0.011"));
  EXPECT_THAT(second, Not(HasSubstr("p99_")));
  const std::string table = FormatPredictionTable(points, 0.9);
  EXPECT_THAT(table, HasSubstr("p99_ttft_s"));
  EXPECT_THAT(table, HasSubstr("p99_tpot_s"));
  points[0].p99_ttft_s = points[0].p99_tpot_s = 0;
  EXPECT_THAT(FormatPredictionTable(points, 0.9), Not(HasSubstr("p99_")));
}

TEST_F(PerfcastCliTest, PredictWithInvalidTokensExitsTwoNamingTheField) {
  const CliRun run = Run(absl::StrCat("predict ", Server(),
                                      " --hardware H --num-gpus 1 --framework f --model m "
                                      "--precision p --input-tokens -5 --output-tokens 8 "
                                      "--batch-size 1"));

  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("queries[0].input_tokens=-5"));
  EXPECT_EQ(run.out, "");
}

TEST_F(PerfcastCliTest, SubmitCountsAcceptedThenDuplicates) {
  const std::string csv = WriteSeedCsv(dir_.path(), TestRecords(1, "cli-run"));

  const CliRun first =
      Run(absl::StrCat("submit ", Server(), " --data ", csv, " --chunk-size 5 --json"));
  const CliRun second = Run(absl::StrCat("submit ", Server(), " --data ", csv));

  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("\"accepted_count\": \"16\""));
  EXPECT_THAT(first.err, Not(HasSubstr("sent")));  // no progress when stderr is no terminal
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("16 results sent"));
  EXPECT_THAT(second.out, ::testing::ContainsRegex("0 +16 +0 +0"));
}

TEST_F(PerfcastCliTest, SubmitWithRejectedRowsExitsFiveAndSaysWhy) {
  const std::string csv = dir_.path() + "/bad.csv";
  std::ofstream(csv) << "source,hardware,num_gpus,framework,model,precision,input_tokens,"
                        "output_tokens,batch_size,output_tokens_per_s\n"
                        "bad,H100,1,vllm,m,fp16,128,128,70000,100\n"
                        "good,H100,1,vllm,m,fp16,128,128,4,100\n";

  const CliRun run = Run(absl::StrCat("submit ", Server(), " --data ", csv));

  EXPECT_EQ(run.exit_code, 5);
  EXPECT_THAT(run.out, HasSubstr("results[0].batch_size=70000: must be <= 65536"));
  EXPECT_THAT(run.out, ::testing::ContainsRegex("1 +0 +1 +0"));
}

// memory-check reads the CSV locally with the built-in catalogue: Llama-2-70B in fp16 on one
// 80 GB H100 is impossible (128.5 GiB of weights), on four it fits, an unknown precision is
// unknown.
TEST(PerfcastMemoryCheckTest, CountsPerCampaignListsImpossibleRunsAndExitsFive) {
  TempDir dir;
  const std::string csv = dir.path() + "/runs.csv";
  std::ofstream(csv) << "source,hardware,num_gpus,framework,model,precision,input_tokens,"
                        "output_tokens,batch_size,output_tokens_per_s\n"
                        "c,NVIDIA H100,1,vllm,meta-llama/Llama-2-70b-hf,fp16,128,128,1,20\n"
                        "c,NVIDIA H100,4,vllm,meta-llama/Llama-2-70b-hf,fp16,128,128,8,300\n"
                        "c,NVIDIA H100,4,vllm,meta-llama/Llama-2-70b-hf,unknown,128,128,8,300\n";
  const std::string command =
      absl::StrCat(kCliBinary, " memory-check --data ", csv, " 2>", dir.path(), "/err.txt");

  std::string out;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);

  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 5) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("c +3 +1 +1 +1"));
  EXPECT_THAT(out, HasSubstr(absl::StrCat("impossible ", csv, ":2: ")));
  EXPECT_THAT(out, HasSubstr("weights 128.5 GiB per GPU > 72.0 GiB usable"));
  EXPECT_THAT(out, HasSubstr("precision 'unknown' is not in the catalogue"));
}

TEST_F(PerfcastCliTest, SubmitOfAMissingFileExitsTwo) {
  const CliRun run = Run(absl::StrCat("submit ", Server(), " --data ", dir_.path(), "/none.csv"));

  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("--data "));
  EXPECT_EQ(run.out, "");
}

TEST_F(PerfcastCliTest, StatusShowsTheServingVersionAsTableAndJson) {
  const CliRun table = Run(absl::StrCat("status ", Server()));
  const CliRun json = Run(absl::StrCat("status ", Server(), " --json"));

  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("stored results: 64"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex("1 +AVAILABLE +64"));
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"state\": \"STATE_AVAILABLE\""));
}

TEST_F(PerfcastCliTest, RefitWaitPrintsTheNewVersion) {
  const CliRun run = Run(absl::StrCat("refit ", Server(), " --wait"));

  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("model version 2 serves"));
}

TEST_F(PerfcastCliTest, ConfigsAndUncertaintyAnswer) {
  const CliRun configs = Run(absl::StrCat("configs ", Server()));
  const CliRun uncertainty =
      Run(absl::StrCat("uncertainty ", Server(), " ", QueryFlags(), " --batch-size 16"));

  EXPECT_EQ(configs.exit_code, 0) << configs.err;
  EXPECT_THAT(configs.out, HasSubstr("4 configurations (model version 1)"));
  EXPECT_EQ(uncertainty.exit_code, 0) << uncertainty.err;
  EXPECT_THAT(uncertainty.out, HasSubstr("similarity score:         1.000"));
}

TEST_F(PerfcastCliTest, BenchReportsQpsAndLatencyWithoutErrors) {
  const CliRun run =
      Run(absl::StrCat("bench ", Server(), " --duration 0.5 --warmup 0 --concurrency 4 --json"));

  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("\"errors\":0"));
  EXPECT_THAT(run.out, HasSubstr("\"p99_ms\":"));
  EXPECT_THAT(run.out, Not(HasSubstr("\"requests\":0,")));
}

TEST_F(PerfcastCliTest, BenchSpreadsUnevenConcurrencyOverChannels) {
  // 3 calls over 2 channels (2 + 1), and more channels than calls: every lane must finish.
  for (const char* flags : {"--concurrency 3 --channels 2", "--concurrency 2 --channels 3"}) {
    const CliRun run = Run(absl::StrCat("bench ", Server(), " --duration 0.3 --warmup 0 ", flags,
                                        " --batch-sizes 1,8 --json"));

    EXPECT_EQ(run.exit_code, 0) << flags << ": " << run.err;
    EXPECT_THAT(run.out, HasSubstr("\"errors\":0")) << flags;
    EXPECT_THAT(run.out, Not(HasSubstr("\"requests\":0,"))) << flags;
  }
}

TEST_F(PerfcastCliTest, BenchAtARateSendsOnItsScheduleOverEveryChannel) {
  // 200 calls/s for 1 s over 2 channels: each lane sends every 10 ms, 100 calls or one fewer
  // when its first send comes a moment after the measured second starts.
  const CliRun run = Run(absl::StrCat("bench ", Server(),
                                      " --rate 200 --duration 1 --warmup 0 --concurrency 4 "
                                      "--channels 2 --json"));

  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("\"rate\":200.0"));
  std::smatch requests;
  ASSERT_TRUE(std::regex_search(run.out, requests, std::regex("\"requests\":(\\d+)"))) << run.out;
  EXPECT_GE(std::stoi(requests[1]), 198);
  EXPECT_LE(std::stoi(requests[1]), 200);
}

TEST_F(PerfcastCliTest, BenchRefusesANegativeRateNamingIt) {
  const CliRun run = Run(absl::StrCat("bench ", Server(), " --rate -5 --duration 0.2"));

  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, HasSubstr("--rate >= 0"));
}

// bench reaches the server as every --server command does: with a token where one is required.
TEST_F(PerfcastCliTest, BenchSendsTheTokenOfAServerThatRequiresOne) {
  TempDir dir;
  ServerOptions options = SeededServerOptions(dir.path());
  absl::StatusOr<Authorizer> tokens =
      Authorizer::FromCsv("token,name,role\nread-token-0123456789,dashboard,read\n", "tokens.csv");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  options.authorizer = std::make_shared<const Authorizer>(*std::move(tokens));
  std::string error;
  std::unique_ptr<PerfcastServer> server = StartServer(options, &error);
  ASSERT_NE(server, nullptr) << error;
  const std::string bench = absl::StrCat("bench --server 127.0.0.1:", server->port(),
                                         " --duration 0.3 --warmup 0 --concurrency 2 --json");

  const CliRun with_token = Run(absl::StrCat(bench, " --token read-token-0123456789"));
  const CliRun without = Run(bench);

  EXPECT_EQ(with_token.exit_code, 0) << with_token.err;
  EXPECT_THAT(with_token.out, HasSubstr("\"errors\":0"));
  EXPECT_THAT(with_token.out, Not(HasSubstr("\"requests\":0,")));
  EXPECT_NE(without.exit_code, 0);
  EXPECT_THAT(without.err, HasSubstr("authorization metadata: missing"));
}

TEST_F(PerfcastCliTest, BenchCountsFailedCallsAndExitsNonZeroNamingTheFirst) {
  const CliRun run = Run(absl::StrCat(
      "bench ", Server(), " --duration 0.3 --warmup 0 --concurrency 2 --input-tokens 0"));

  EXPECT_NE(run.exit_code, 0);
  // INVALID_ARGUMENT, from every call.
  EXPECT_THAT(run.out, HasSubstr("first error: 3: queries[0].input_tokens"));
  EXPECT_THAT(run.err, HasSubstr("calls failed"));
}

// `perfcast <arguments>` with stderr merged into stdout: the exit code and everything printed.
std::pair<int, std::string> RunMerged(const std::string& arguments) {
  std::FILE* pipe = ::popen(absl::StrCat(kCliBinary, " ", arguments, " 2>&1").c_str(), "r");
  std::string out;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(PerfcastCliCatalogueTest, ListsWhatEachNameOfTheDataResolvesToAndExitsFiveOnUnknowns) {
  const auto [code, out] = RunMerged(absl::StrCat("catalogue --catalogue ", PERFCAST_SOURCE_DIR,
                                                  "/data/catalogue --data ", PERFCAST_SOURCE_DIR,
                                                  "/data/default_benchmarks.csv"));
  EXPECT_EQ(code, 5) << out;
  EXPECT_THAT(out, HasSubstr("catalogue ok: "));
  EXPECT_THAT(out, ::testing::ContainsRegex("NVIDIA H100 +-> NVIDIA H100 SXM 80GB"));
  EXPECT_THAT(out, ::testing::ContainsRegex("precision +unknown +-> UNKNOWN"));
  // A run without a precision is listed by model, read in its checkpoint's.
  EXPECT_THAT(out,
              ::testing::ContainsRegex(
                  "precision +'na' of meta-llama/Llama-2-70b-hf +-> fp16 \\(its checkpoint\\)"));
}

TEST(PerfcastCliCatalogueTest, ABadRowExitsTwoNamingFileAndLine) {
  TempDir dir;
  for (const char* file : {"accelerators.csv", "models.csv", "precisions.csv", "aliases.csv"}) {
    std::filesystem::copy_file(absl::StrCat(PERFCAST_SOURCE_DIR, "/data/catalogue/", file),
                               absl::StrCat(dir.path(), "/", file));
  }
  std::ofstream(absl::StrCat(dir.path(), "/accelerators.csv"), std::ios::app)
      << "Broken GPU,eighty,1000,100,,,CUDA,https://example.com,\n";
  const auto [code, out] = RunMerged(absl::StrCat("catalogue --catalogue ", dir.path()));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("accelerators.csv:"));
  EXPECT_THAT(out, HasSubstr("memory_gib"));
}

TEST(PerfcastCliEvalTest, PointsWritesAHeaderAndOneRowPerHeldOutPoint) {
  TempDir dir;
  const std::string points = absl::StrCat(dir.path(), "/points.csv");
  const auto [code, out] = RunMerged(absl::StrCat(
      "eval --data ", PERFCAST_SOURCE_DIR, "/data/default_benchmarks.csv --protocol new-config ",
      "--methods nearest-curve --json --points ", points));
  ASSERT_EQ(code, 0) << out;
  // {"protocol":"new-config","method":"nearest-curve","points":N,"declined":M,...}
  const std::string points_field = "\"points\":", declined_field = "\"declined\":";
  const int predicted = std::stoi(out.substr(out.find(points_field) + points_field.size()));
  const int declined = std::stoi(out.substr(out.find(declined_field) + declined_field.size()));
  std::ifstream file(points);
  std::string header, row;
  ASSERT_TRUE(std::getline(file, header));
  EXPECT_THAT(header, ::testing::StartsWith("protocol,method,shots,hardware,num_gpus,"));
  int rows = 0;
  while (std::getline(file, row)) {
    ++rows;
    EXPECT_THAT(row, ::testing::StartsWith("new-config,nearest-curve,"));
  }
  EXPECT_GT(rows, 0);
  EXPECT_EQ(rows, predicted + declined);
}

TEST(PerfcastCliEvalTest, PointsToAnUnwritablePathExitsTwoNamingTheFlag) {
  const auto [code, out] = RunMerged(absl::StrCat(
      "eval --data ", PERFCAST_SOURCE_DIR, "/data/default_benchmarks.csv --methods nearest-curve ",
      "--points /nonexistent-directory/points.csv"));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("--points=/nonexistent-directory/points.csv"));
}

TEST(PerfcastCliFitTest, ZeroThreadsExitsTwoNamingTheFlag) {
  const auto [code, out] = RunMerged(absl::StrCat("fit --data ", PERFCAST_SOURCE_DIR,
                                                  "/data/default_benchmarks.csv --out ",
                                                  ::testing::TempDir(), "/unused --threads 0"));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("--threads=0"));
}

TEST(PerfcastCliExitCodeTest, UnreachableServerExitsThree) {
  TempDir dir;
  const std::string command =
      absl::StrCat(kCliBinary, " status --server 127.0.0.1:1 --timeout 2", " >/dev/null 2>&1");
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST(PerfcastCliExitCodeTest, HelpDocumentsTheExitCodes) {
  std::FILE* pipe = ::popen(absl::StrCat(kCliBinary, " --help").c_str(), "r");
  std::string out;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0);
  EXPECT_THAT(out, HasSubstr("exit codes:"));
  EXPECT_THAT(out, HasSubstr("5  submit finished, but some rows were rejected"));
}

}  // namespace
}  // namespace perfcast::server
