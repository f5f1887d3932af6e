#include "proto/convert/benchmark_conversion.h"

#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace perfcast {
namespace {

BenchmarkRecord TestRecord() {
  BenchmarkRecord record;
  record.configuration =
      Configuration{"H100-SXM-80GB", 1, "vllm", "meta-llama/Llama-3.1-8B", "fp16"};
  record.shape = Shape{128, 128};
  record.batch_size = 8;
  record.throughput_tokens_per_s = 1000;
  return record;
}

v1::BenchmarkResult ValidResult() { return BenchmarkResultToProto(TestRecord(), "test"); }

TEST(ValidateBenchmarkResultTest, NanThroughputIsRejected) {
  v1::BenchmarkResult result = ValidResult();
  result.set_throughput_tokens_per_second(std::numeric_limits<double>::quiet_NaN());
  BenchmarkRecord out;
  auto error = ValidateBenchmarkResult(result, "results[7]", &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "results[7].throughput_tokens_per_second=nan: must be finite and > 0");
  EXPECT_EQ(error->reason, "not_finite");
}

TEST(ValidateBenchmarkResultTest, MissingConfigurationIsRejected) {
  v1::BenchmarkResult result = ValidResult();
  result.clear_configuration();
  BenchmarkRecord out;
  auto error = ValidateBenchmarkResult(result, "result", &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "result.configuration: must be set");
  EXPECT_EQ(error->field, "configuration");
}

TEST(ValidateBenchmarkResultTest, ZeroGpusNameTheConfigurationField) {
  v1::BenchmarkResult result = ValidResult();
  result.mutable_configuration()->set_gpu_count(0);
  BenchmarkRecord out;
  auto error = ValidateBenchmarkResult(result, "results[2]", &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "results[2].configuration.gpu_count=0: must be > 0");
  EXPECT_EQ(error->field, "configuration.gpu_count");
}

TEST(ValidateBenchmarkResultTest, ValidResultKeepsSourceIdAndOptionalLatency) {
  v1::BenchmarkResult result = ValidResult();
  result.set_batch_latency_seconds(2.5);
  BenchmarkRecord out;
  EXPECT_FALSE(ValidateBenchmarkResult(result, "result", &out).has_value());
  EXPECT_EQ(out.source, "test");
  EXPECT_EQ(out.latency_s, 2.5);
  EXPECT_FALSE(out.ttft_s.has_value());
  EXPECT_FALSE(out.p99_ttft_s.has_value());
  EXPECT_FALSE(out.p99_tpot_s.has_value());
}

TEST(ValidateBenchmarkResultTest, ANonPositiveOrNonFiniteP99NamesTheField) {
  v1::BenchmarkResult result = ValidResult();
  result.set_p99_time_to_first_token_seconds(0);
  BenchmarkRecord out;
  auto error = ValidateBenchmarkResult(result, "results[4]", &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field, "p99_time_to_first_token_seconds");
  EXPECT_EQ(error->message, "results[4].p99_time_to_first_token_seconds=0: must be finite and > 0");

  result = ValidResult();
  result.set_p99_time_per_output_token_seconds(std::numeric_limits<double>::infinity());
  error = ValidateBenchmarkResult(result, "results[4]", &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field, "p99_time_per_output_token_seconds");
  EXPECT_EQ(error->reason, "not_finite");

  result.set_p99_time_per_output_token_seconds(-0.01);
  error = ValidateBenchmarkResult(result, "results[4]", &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field, "p99_time_per_output_token_seconds");
}

TEST(ValidateBenchmarkResultTest, AnEmptyOrOverLongCampaignNamesTheField) {
  v1::BenchmarkResult result = ValidResult();
  result.mutable_configuration()->set_campaign("");
  BenchmarkRecord out;
  auto error = ValidateBenchmarkResult(result, "result", &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field, "configuration.campaign");
  EXPECT_EQ(error->message, "result.configuration.campaign='': must not be empty");

  result.mutable_configuration()->set_campaign(std::string(kMaxCampaignBytes + 1, 'c'));
  error = ValidateBenchmarkResult(result, "result", &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field, "configuration.campaign");
  EXPECT_NE(error->message.find("at most 128"), std::string::npos) << error->message;
}

TEST(ValidateBenchmarkResultTest, AnUnknownBatchSemanticsNamesTheField) {
  v1::BenchmarkResult result = ValidResult();
  result.mutable_configuration()->set_batch_semantics(static_cast<v1::BatchSemantics>(9));
  BenchmarkRecord out;
  auto error = ValidateBenchmarkResult(result, "result", &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field, "configuration.batch_semantics");
  EXPECT_EQ(error->message,
            "result.configuration.batch_semantics=9: none of static, concurrency, max_throughput");
}

TEST(ValidateBenchmarkResultTest, CampaignAndSemanticsRoundTrip) {
  BenchmarkRecord record = TestRecord();
  record.configuration.campaign = "my-pipeline";
  record.configuration.batch_semantics = BatchSemantics::kConcurrency;
  BenchmarkRecord out;
  ASSERT_FALSE(ValidateBenchmarkResult(BenchmarkResultToProto(record, "id"), "r", &out));
  EXPECT_EQ(out.configuration, record.configuration);
  // Unset: the submitter's unnamed campaign, a static batch.
  v1::BenchmarkResult plain = ValidResult();
  plain.mutable_configuration()->clear_campaign();
  plain.mutable_configuration()->clear_batch_semantics();
  ASSERT_FALSE(ValidateBenchmarkResult(plain, "r", &out));
  EXPECT_EQ(out.configuration.campaign, "");
  EXPECT_EQ(out.configuration.batch_semantics, BatchSemantics::kStatic);
}

TEST(ValidateBenchmarkResultTest, AMaxThroughputResultSitsAtTheSaturationBatch) {
  v1::BenchmarkResult result = ValidResult();
  result.mutable_configuration()->set_batch_semantics(v1::BATCH_SEMANTICS_MAX_THROUGHPUT);
  result.set_batch_size(7);
  BenchmarkRecord out;
  ASSERT_FALSE(ValidateBenchmarkResult(result, "r", &out));
  EXPECT_EQ(out.batch_size, kSaturationBatchSize);
}

TEST(BenchmarkResultToProtoTest, WhatAClientSendsTheServerReadsBack) {
  BenchmarkRecord sent = TestRecord();
  sent.ttft_s = 0.05;
  sent.itl_s = 0.01;
  sent.p99_ttft_s = 0.125;
  sent.p99_tpot_s = 0.03125;
  BenchmarkRecord out;
  ASSERT_FALSE(ValidateBenchmarkResult(BenchmarkResultToProto(sent, "run-1"), "r", &out));
  EXPECT_EQ(out.configuration, sent.configuration);
  EXPECT_EQ(out.shape, sent.shape);
  EXPECT_EQ(out.batch_size, sent.batch_size);
  EXPECT_EQ(out.throughput_tokens_per_s, sent.throughput_tokens_per_s);
  EXPECT_EQ(out.ttft_s, sent.ttft_s);
  EXPECT_EQ(out.itl_s, sent.itl_s);
  EXPECT_EQ(out.p99_ttft_s, sent.p99_ttft_s);
  EXPECT_EQ(out.p99_tpot_s, sent.p99_tpot_s);
  EXPECT_FALSE(out.latency_s.has_value());
  EXPECT_EQ(out.source, "run-1");
}

TEST(BenchmarkResultToProtoTest, UnsetP99sStayUnsetOnTheWire) {
  BenchmarkRecord sent = TestRecord();
  sent.p99_ttft_s = 0.125;

  const v1::BenchmarkResult proto = BenchmarkResultToProto(sent, "run-1");

  EXPECT_TRUE(proto.has_p99_time_to_first_token_seconds());
  EXPECT_EQ(proto.p99_time_to_first_token_seconds(), 0.125);
  EXPECT_FALSE(proto.has_p99_time_per_output_token_seconds());
}

TEST(RejectionToProtoTest, ALongSourceIdIsCutToTheStringLimit) {
  const FieldError error{"batch_size", "results[0].batch_size=0: must be > 0", "out_of_range"};
  v1::Rejection rejection;
  RejectionToProto(3, std::string(1000, 's'), error, &rejection);
  EXPECT_EQ(rejection.index(), 3);
  EXPECT_EQ(rejection.source_id(), std::string(256, 's'));
  EXPECT_EQ(rejection.field(), "batch_size");
  EXPECT_EQ(rejection.reason(), error.message);
}

}  // namespace
}  // namespace perfcast
