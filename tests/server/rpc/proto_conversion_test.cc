#include "server/rpc/proto_conversion.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using testing::TestQuery;

v1::BenchmarkResult ValidResult() { return testing::ToProto(testing::TestRecords(1).front()); }

TEST(ValidateQueryTest, AcceptsAValidQueryWithDefaultConfidence) {
  ValidatedQuery out;
  auto error = ValidateQuery(TestQuery(0, 128, 128, {1, 8}), "queries[0]", RequestLimits{}, &out);
  EXPECT_FALSE(error.has_value());
  EXPECT_EQ(out.batch_sizes, (std::vector<int>{1, 8}));
  EXPECT_DOUBLE_EQ(out.confidence_level, 0.9);
  EXPECT_EQ(out.query.shape.input_tokens, 128);
}

TEST(ValidateQueryTest, NegativeTokensNameFieldAndValue) {
  ValidatedQuery out;
  auto error = ValidateQuery(TestQuery(0, -5, 128, {1}), "queries[3]", RequestLimits{}, &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "queries[3].input_tokens=-5: must be > 0");
  EXPECT_EQ(error->field, "input_tokens");
}

TEST(ValidateQueryTest, EmptyHardwareIsRejected) {
  v1::Query query = TestQuery(0, 128, 128, {1});
  query.mutable_configuration()->set_hardware("");
  ValidatedQuery out;
  auto error = ValidateQuery(query, "queries[0]", RequestLimits{}, &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "queries[0].configuration.hardware='': must not be empty");
}

TEST(ValidateQueryTest, TooManyBatchSizesIsRejected) {
  std::vector<int> batches(300, 4);
  ValidatedQuery out;
  auto error = ValidateQuery(TestQuery(0, 128, 128, batches), "queries[0]", RequestLimits{}, &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "queries[0].batch_sizes: 300 entries, at most 256");
}

TEST(ValidateQueryTest, ConfidenceOutsideOpenIntervalIsRejected) {
  v1::Query query = TestQuery(0, 128, 128, {1});
  query.set_confidence_level(1.0);
  ValidatedQuery out;
  auto error = ValidateQuery(query, "q", RequestLimits{}, &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "q.confidence_level=1: must be in (0, 1)");
}

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
}

TEST(ValidateBenchmarkResultTest, ValidResultKeepsSourceIdAndOptionalLatency) {
  v1::BenchmarkResult result = ValidResult();
  result.set_batch_latency_seconds(2.5);
  BenchmarkRecord out;
  EXPECT_FALSE(ValidateBenchmarkResult(result, "result", &out).has_value());
  EXPECT_EQ(out.source, "test");
  EXPECT_EQ(out.latency_s, 2.5);
}

}  // namespace
}  // namespace perfcast::server
