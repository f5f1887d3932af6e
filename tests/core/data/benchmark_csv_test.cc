#include "core/data/benchmark_csv.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kHeader[] =
    "hardware,num_gpus,framework,model,precision,input_tokens,output_tokens,batch_size,"
    "output_tokens_per_s\n";

// Parses with kSkip and expects success.
CsvReadResult ParseOk(const std::string& text) {
  absl::StatusOr<CsvReadResult> result = ParseBenchmarkCsv(text, "t.csv", BadRowPolicy::kSkip);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : CsvReadResult{};
}

// The single rejected row of `row` appended after kHeader (the row is on line 2).
RejectedRow RejectOne(const std::string& row) {
  const CsvReadResult result = ParseOk(std::string(kHeader) + row + "\n");
  EXPECT_THAT(result.records, IsEmpty());
  EXPECT_EQ(result.rejected_rows.size(), 1u);
  return result.rejected_rows.empty() ? RejectedRow{} : result.rejected_rows.front();
}

TEST(ParseBenchmarkCsvTest, ReadsAllMappedColumns) {
  const CsvReadResult result = ParseOk(
      "source,hardware,num_gpus,framework,model,precision,input_tokens,output_tokens,"
      "batch_size,output_tokens_per_s,ttft_s,itl_s,latency_s\n"
      "argonne,NVIDIA A100,4,vllm,meta-llama/Llama-2-7b-hf,fp16,128,256,16,2410.5,0.25,0.01,1.7\n");
  ASSERT_EQ(result.records.size(), 1u);
  const BenchmarkRecord& record = result.records[0];
  EXPECT_EQ(record.configuration.hardware, "NVIDIA A100");
  EXPECT_EQ(record.configuration.num_gpus, 4);
  EXPECT_EQ(record.configuration.framework, "vllm");
  EXPECT_EQ(record.configuration.model, "meta-llama/Llama-2-7b-hf");
  EXPECT_EQ(record.configuration.precision, "fp16");
  EXPECT_EQ(record.shape.input_tokens, 128);
  EXPECT_EQ(record.shape.output_tokens, 256);
  EXPECT_EQ(record.batch_size, 16);
  EXPECT_DOUBLE_EQ(record.throughput_tokens_per_s, 2410.5);
  EXPECT_EQ(record.ttft_s, 0.25);
  EXPECT_EQ(record.itl_s, 0.01);
  EXPECT_EQ(record.latency_s, 1.7);
  EXPECT_EQ(record.source, "argonne");
  EXPECT_THAT(result.rejected_rows, IsEmpty());
  EXPECT_EQ(result.filtered_row_count, 0);
}

TEST(ParseBenchmarkCsvTest, ReadsTheCampaignAndTheBatchSemantics) {
  const CsvReadResult result = ParseOk(
      "source,batch_semantics,input_tokens,output_tokens,batch_size,output_tokens_per_s\n"
      "lab-a,static,128,128,8,100\n"
      "lab-b,concurrency,128,128,8,100\n"
      "lab-b,\"max concurrent requests, online client, continuous batching\",128,128,8,100\n"
      "trt,max_throughput,128,128,,5000\n"
      "trt,\"max-throughput point; runtime-chosen batch\",128,128,,5000\n"
      ",,128,128,8,100\n");
  ASSERT_EQ(result.records.size(), 6u) << result.rejected_rows.front().reason;
  EXPECT_EQ(result.records[0].configuration.campaign, "lab-a");
  EXPECT_EQ(result.records[0].configuration.batch_semantics, BatchSemantics::kStatic);
  EXPECT_EQ(result.records[1].configuration.batch_semantics, BatchSemantics::kConcurrency);
  EXPECT_EQ(result.records[2].configuration.batch_semantics, BatchSemantics::kConcurrency);
  for (int i : {3, 4}) {
    EXPECT_EQ(result.records[i].configuration.batch_semantics, BatchSemantics::kMaxThroughput);
    EXPECT_EQ(result.records[i].batch_size, kSaturationBatchSize);
  }
  EXPECT_EQ(result.records[5].configuration.campaign, "");
  EXPECT_EQ(result.records[5].configuration.batch_semantics, BatchSemantics::kStatic);
}

TEST(ParseBenchmarkCsvTest, ACampaignColumnWinsOverSource) {
  const CsvReadResult result = ParseOk(
      "source,campaign,input_tokens,output_tokens,batch_size,output_tokens_per_s\n"
      "file-a,my-pipeline,128,128,8,100\n");
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].configuration.campaign, "my-pipeline");
  EXPECT_EQ(result.records[0].source, "file-a");
}

TEST(ParseBenchmarkCsvTest, UnknownSemanticsOrAMissingStaticBatchIsReportedWithItsLine) {
  const CsvReadResult result = ParseOk(
      "batch_semantics,input_tokens,output_tokens,batch_size,output_tokens_per_s\n"
      "prompt chunks,128,128,8,100\n"
      "static,128,128,,100\n"
      "static,128,128,8,100\n");
  EXPECT_EQ(result.records.size(), 1u);
  ASSERT_EQ(result.rejected_rows.size(), 2u);
  EXPECT_EQ(result.rejected_rows[0].location, "t.csv:2");
  EXPECT_THAT(result.rejected_rows[0].reason, HasSubstr("batch_semantics: 'prompt chunks'"));
  EXPECT_EQ(result.rejected_rows[1].location, "t.csv:3");
  EXPECT_THAT(result.rejected_rows[1].reason, HasSubstr("batch_size"));
}

TEST(ParseBenchmarkCsvTest, AnOverLongCampaignIsRejected) {
  const CsvReadResult result =
      ParseOk("source,input_tokens,output_tokens,batch_size,output_tokens_per_s\n" +
              std::string(kMaxCampaignBytes + 1, 'c') + ",128,128,8,100\n");
  EXPECT_THAT(result.records, IsEmpty());
  ASSERT_EQ(result.rejected_rows.size(), 1u);
  EXPECT_THAT(result.rejected_rows[0].reason, HasSubstr("campaign"));
}

TEST(ParseBenchmarkCsvTest, AbsentConfigurationColumnsReadAsNotAvailable) {
  const CsvReadResult result =
      ParseOk("input_tokens,output_tokens,batch_size,output_tokens_per_s\n128,128,1,100\n");
  ASSERT_EQ(result.records.size(), 1u);
  const Configuration& configuration = result.records[0].configuration;
  EXPECT_EQ(configuration.hardware, "na");
  EXPECT_EQ(configuration.num_gpus, 1);
  EXPECT_EQ(configuration.framework, "na");
  EXPECT_EQ(configuration.model, "na");
  EXPECT_EQ(configuration.precision, "na");
  EXPECT_FALSE(result.records[0].ttft_s.has_value());
  EXPECT_FALSE(result.records[0].itl_s.has_value());
  EXPECT_FALSE(result.records[0].latency_s.has_value());
  EXPECT_EQ(result.records[0].source, "");
}

TEST(ParseBenchmarkCsvTest, EmptyConfigurationCellsReadAsNotAvailable) {
  const CsvReadResult result = ParseOk(std::string(kHeader) + ",,,,,128,128,1,100\n");
  ASSERT_EQ(result.records.size(), 1u);
  const Configuration& configuration = result.records[0].configuration;
  EXPECT_EQ(configuration.hardware, "na");
  EXPECT_EQ(configuration.num_gpus, 1);
  EXPECT_EQ(configuration.framework, "na");
  EXPECT_EQ(configuration.model, "na");
  EXPECT_EQ(configuration.precision, "na");
}

TEST(ParseBenchmarkCsvTest, ReadsMeanLatencyColumnsAsAliases) {
  const CsvReadResult result = ParseOk(
      "input_tokens,output_tokens,batch_size,output_tokens_per_s,mean_ttft_s,mean_itl_s\n"
      "128,128,1,100,0.5,0.02\n");
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].ttft_s, 0.5);
  EXPECT_EQ(result.records[0].itl_s, 0.02);
}

TEST(ParseBenchmarkCsvTest, ReadsTheNinetyNinthPercentilesOfTtftAndTpotButNotOfSingleGaps) {
  const CsvReadResult result = ParseOk(
      "input_tokens,output_tokens,batch_size,output_tokens_per_s,mean_ttft_s,p99_ttft_s,"
      "p99_itl_s,p99_tpot_s\n"
      "128,128,1,100,0.5,2.5,0.9,0.03\n"
      "128,128,2,180,0.6,,,\n");
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[0].p99_ttft_s, 2.5);
  // The 99th percentile of single gaps between tokens is another figure than the TPOT's.
  EXPECT_EQ(result.records[0].p99_tpot_s, 0.03);
  EXPECT_FALSE(result.records[1].p99_ttft_s.has_value());
  EXPECT_FALSE(result.records[1].p99_tpot_s.has_value());
  const CsvReadResult gaps_only = ParseOk(
      "input_tokens,output_tokens,batch_size,output_tokens_per_s,p99_itl_s\n128,128,1,100,0.9\n");
  ASSERT_EQ(gaps_only.records.size(), 1u);
  EXPECT_FALSE(gaps_only.records[0].p99_tpot_s.has_value());
}

TEST(ParseBenchmarkCsvTest, EmptyOrNanOptionalLatencyReadsAsAbsent) {
  const CsvReadResult result = ParseOk(
      "input_tokens,output_tokens,batch_size,output_tokens_per_s,ttft_s,latency_s\n"
      "128,128,1,100,,nan\n");
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_FALSE(result.records[0].ttft_s.has_value());
  EXPECT_FALSE(result.records[0].latency_s.has_value());
}

TEST(ParseBenchmarkCsvTest, QuotedFieldsKeepCommasEscapedQuotesAndNewlines) {
  const CsvReadResult result = ParseOk(
      "hardware,model,input_tokens,output_tokens,batch_size,output_tokens_per_s,notes\n"
      "\"GPU, 80GB\",\"the \"\"big\"\" one\",\"128\",128,2,50,\"two\nlines\"\n"
      "A100,m,128,128,4,90,plain\n");
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[0].configuration.hardware, "GPU, 80GB");
  EXPECT_EQ(result.records[0].configuration.model, "the \"big\" one");
  EXPECT_EQ(result.records[0].shape.input_tokens, 128);
  EXPECT_EQ(result.records[1].batch_size, 4);
}

TEST(ParseBenchmarkCsvTest, AcceptsCrlfLineEndings) {
  const CsvReadResult result = ParseOk(
      "input_tokens,output_tokens,batch_size,output_tokens_per_s,hardware\r\n"
      "128,128,1,100,A100\r\n"
      "128,128,2,180,\"H100\"\r\n");
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[0].configuration.hardware, "A100");
  EXPECT_EQ(result.records[1].configuration.hardware, "H100");
  EXPECT_DOUBLE_EQ(result.records[1].throughput_tokens_per_s, 180);
}

TEST(ParseBenchmarkCsvTest, LastRowWithoutNewlineIsRead) {
  const CsvReadResult result = ParseOk(std::string(kHeader) + "A100,1,vllm,m,fp16,128,128,1,100");
  EXPECT_EQ(result.records.size(), 1u);
}

TEST(ParseBenchmarkCsvTest, MissingRequiredColumnFailsUnderEitherPolicy) {
  const std::string text = "input_tokens,batch_size,output_tokens_per_s\n128,1,100\n";
  for (BadRowPolicy policy : {BadRowPolicy::kSkip, BadRowPolicy::kFail}) {
    const absl::StatusOr<CsvReadResult> result = ParseBenchmarkCsv(text, "t.csv", policy);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(result.status().message(), "t.csv: missing column 'output_tokens'");
  }
}

TEST(ParseBenchmarkCsvTest, EmptyTextFails) {
  EXPECT_EQ(ParseBenchmarkCsv("", "t.csv", BadRowPolicy::kSkip).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseBenchmarkCsvTest, RejectsWrongFieldCount) {
  const RejectedRow rejected = RejectOne("A100,1,vllm,m,fp16,128,128,1");
  EXPECT_EQ(rejected.location, "t.csv:2");
  EXPECT_EQ(rejected.reason, "expected 9 fields, got 8");
}

TEST(ParseBenchmarkCsvTest, RejectsNonNumericThroughput) {
  const RejectedRow rejected = RejectOne("A100,1,vllm,m,fp16,128,128,1,abc");
  EXPECT_EQ(rejected.location, "t.csv:2");
  EXPECT_EQ(rejected.reason, "output_tokens_per_s: 'abc' is not a number");
}

TEST(ParseBenchmarkCsvTest, RejectsNonPositiveThroughput) {
  EXPECT_EQ(RejectOne("A100,1,vllm,m,fp16,128,128,1,0").reason,
            "output_tokens_per_s: '0' is not positive");
  EXPECT_EQ(RejectOne("A100,1,vllm,m,fp16,128,128,1,-5").reason,
            "output_tokens_per_s: '-5' is not positive");
}

TEST(ParseBenchmarkCsvTest, RejectsInfiniteThroughput) {
  EXPECT_EQ(RejectOne("A100,1,vllm,m,fp16,128,128,1,inf").reason,
            "output_tokens_per_s: 'inf' is not finite");
}

TEST(ParseBenchmarkCsvTest, RejectsNonNumericTokens) {
  EXPECT_EQ(RejectOne("A100,1,vllm,m,fp16,many,128,1,100").reason,
            "input_tokens: 'many' is not a number");
}

TEST(ParseBenchmarkCsvTest, RejectsNonPositiveTokens) {
  EXPECT_EQ(RejectOne("A100,1,vllm,m,fp16,128,0,1,100").reason,
            "output_tokens: '0' is not positive");
}

TEST(ParseBenchmarkCsvTest, RejectsNonIntegerBatchSize) {
  EXPECT_EQ(RejectOne("A100,1,vllm,m,fp16,128,128,2.5,100").reason,
            "batch_size: '2.5' is not an integer");
}

TEST(ParseBenchmarkCsvTest, AcceptsIntegralValueWrittenAsDecimal) {
  const CsvReadResult result =
      ParseOk(std::string(kHeader) + "A100,1,vllm,m,fp16,128,128,8.0,100\n");
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].batch_size, 8);
}

TEST(ParseBenchmarkCsvTest, RejectsEmptyBatchSize) {
  EXPECT_EQ(RejectOne("A100,1,vllm,m,fp16,128,128,,100").reason, "batch_size: '' is not a number");
}

TEST(ParseBenchmarkCsvTest, RejectsNegativeBatchSize) {
  EXPECT_EQ(RejectOne("A100,1,vllm,m,fp16,128,128,-4,100").reason,
            "batch_size: '-4' is not positive");
}

TEST(ParseBenchmarkCsvTest, RejectsNonPositiveNumGpus) {
  EXPECT_EQ(RejectOne("A100,0,vllm,m,fp16,128,128,1,100").reason, "num_gpus: '0' is not positive");
}

TEST(ParseBenchmarkCsvTest, RejectsNonNumericOptionalLatency) {
  const CsvReadResult result = ParseOk(
      "input_tokens,output_tokens,batch_size,output_tokens_per_s,ttft_s\n128,128,1,100,soon\n");
  ASSERT_EQ(result.rejected_rows.size(), 1u);
  EXPECT_EQ(result.rejected_rows[0].reason, "ttft_s: 'soon' is not a number");
}

TEST(ParseBenchmarkCsvTest, RejectsUnterminatedQuote) {
  const RejectedRow rejected = RejectOne("\"A100,1,vllm,m,fp16,128,128,1,100");
  EXPECT_EQ(rejected.location, "t.csv:2");
  EXPECT_EQ(rejected.reason, "unterminated quoted field");
}

TEST(ParseBenchmarkCsvTest, RejectsTextAfterClosingQuote) {
  const RejectedRow rejected = RejectOne("\"A100\"x,1,vllm,m,fp16,128,128,1,100");
  EXPECT_EQ(rejected.location, "t.csv:2");
  EXPECT_EQ(rejected.reason, "unexpected text after the closing quote of field 1");
}

TEST(ParseBenchmarkCsvTest, IgnoresByteOrderMark) {
  const CsvReadResult result = ParseOk(
      "\xEF\xBB\xBFinput_tokens,output_tokens,batch_size,output_tokens_per_s\n128,128,1,100\n");
  EXPECT_EQ(result.records.size(), 1u);
}

TEST(ParseBenchmarkCsvTest, LocationsArePhysicalLinesAcrossMultilineFieldsAndBlankLines) {
  const CsvReadResult result = ParseOk(
      "input_tokens,output_tokens,batch_size,output_tokens_per_s,notes\n"  // line 1
      "128,128,1,100,\"a\nb\nc\"\n"                                        // lines 2-4
      "\n"                                                                 // line 5
      "128,128,x,100,ok\n");                                               // line 6
  EXPECT_EQ(result.records.size(), 1u);
  ASSERT_EQ(result.rejected_rows.size(), 1u);
  EXPECT_EQ(result.rejected_rows[0].location, "t.csv:6");
}

TEST(ParseBenchmarkCsvTest, SkipPolicyRecordsEveryBadRowAndKeepsGoodOnes) {
  const CsvReadResult result = ParseOk(std::string(kHeader) +
                                       "A100,1,vllm,m,fp16,128,128,1,100\n"
                                       "A100,1,vllm,m,fp16,128,128,x,100\n"
                                       "A100,1,vllm,m,fp16,128,128,4,350\n"
                                       "A100,1,vllm,m,fp16,128,128,8\n");
  EXPECT_THAT(result.records, ElementsAre(Field(&BenchmarkRecord::batch_size, 1),
                                          Field(&BenchmarkRecord::batch_size, 4)));
  EXPECT_THAT(result.rejected_rows, ElementsAre(Field(&RejectedRow::location, "t.csv:3"),
                                                Field(&RejectedRow::location, "t.csv:5")));
}

TEST(ParseBenchmarkCsvTest, FailPolicyStopsAtFirstBadRowNamingFileAndLine) {
  const absl::StatusOr<CsvReadResult> result =
      ParseBenchmarkCsv(std::string(kHeader) +
                            "A100,1,vllm,m,fp16,128,128,1,100\n"
                            "A100,1,vllm,m,fp16,128,128,x,100\n"
                            "A100,1,vllm,m,fp16,128,128,8\n",
                        "t.csv", BadRowPolicy::kFail);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "t.csv:3: batch_size: 'x' is not a number");
}

TEST(ParseBenchmarkCsvTest, FailPolicySucceedsOnCleanInput) {
  const absl::StatusOr<CsvReadResult> result = ParseBenchmarkCsv(
      std::string(kHeader) + "A100,1,vllm,m,fp16,128,128,1,100\n", "t.csv", BadRowPolicy::kFail);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->records.size(), 1u);
}

TEST(ParseBenchmarkCsvTest, FiltersOutOfScopeRowsWithoutRejectingThem) {
  const CsvReadResult result = ParseOk(
      "input_tokens,output_tokens,batch_size,output_tokens_per_s,status,batch_semantics\n"
      "128,128,1,100,ok,static batch\n"                   // kept
      "128,128,2,180,,static batch\n"                     // kept: empty status counts as ok
      "128,128,4,300,failed,static batch\n"               // filtered: status
      "128,128,8,500,ok,prompt chunk (llama-bench -b)\n"  // filtered: llama-bench
      "128,128,16,,ok,static batch\n"                     // filtered: empty throughput
      "128,128,32,nan,ok,static batch\n"                  // filtered: nan throughput
      "128,128,x,,failed,static batch\n");                // filtered before validation
  EXPECT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.filtered_row_count, 5);
  EXPECT_THAT(result.rejected_rows, IsEmpty());
}

TEST(ParseBenchmarkCsvTest, FilteredRowsDoNotTriggerFailPolicy) {
  const absl::StatusOr<CsvReadResult> result = ParseBenchmarkCsv(
      std::string(kHeader) + "A100,1,vllm,m,fp16,128,128,1,\n", "t.csv", BadRowPolicy::kFail);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->filtered_row_count, 1);
}

TEST(ReadBenchmarkCsvTest, ReadsFileAndNamesItInLocations) {
  const std::string path = ::testing::TempDir() + "/benchmark_csv_test.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << kHeader << "A100,1,vllm,m,fp16,128,128,1,100\nA100,1,vllm,m,fp16,128,128,0,100\n";
  }
  const absl::StatusOr<CsvReadResult> result = ReadBenchmarkCsv(path, BadRowPolicy::kSkip);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->records.size(), 1u);
  ASSERT_EQ(result->rejected_rows.size(), 1u);
  EXPECT_EQ(result->rejected_rows[0].location, path + ":3");
  std::remove(path.c_str());
}

TEST(ReadBenchmarkCsvTest, MissingFileIsNotFound) {
  const absl::StatusOr<CsvReadResult> result =
      ReadBenchmarkCsv(::testing::TempDir() + "/no_such_dir/none.csv", BadRowPolicy::kSkip);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("none.csv"));
}

}  // namespace
}  // namespace perfcast
