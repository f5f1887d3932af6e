#include "proto/convert/prediction_conversion.h"

#include <vector>

#include "gtest/gtest.h"

namespace perfcast {
namespace {

PredictionQuery H100Query(int input_tokens, int output_tokens) {
  return PredictionQuery{
      Configuration{"H100-SXM-80GB", 1, "vllm", "meta-llama/Llama-3.1-8B", "fp16"},
      Shape{input_tokens, output_tokens}};
}

v1::Query TestQuery(int input_tokens, int output_tokens, const std::vector<int>& batch_sizes) {
  return QueryToProto(H100Query(input_tokens, output_tokens), batch_sizes);
}

TEST(ValidateQueryTest, AcceptsAValidQueryWithDefaultConfidence) {
  ValidatedQuery out;
  auto error = ValidateQuery(TestQuery(128, 128, {1, 8}), "queries[0]", RequestLimits{}, &out);
  EXPECT_FALSE(error.has_value());
  EXPECT_EQ(out.batch_sizes, (std::vector<int>{1, 8}));
  EXPECT_DOUBLE_EQ(out.confidence_level, 0.9);
  EXPECT_EQ(out.query.shape.input_tokens, 128);
}

TEST(ValidateQueryTest, RoundTripsWhatAClientSends) {
  const PredictionQuery sent = H100Query(300, 700);
  ValidatedQuery out;
  auto error = ValidateQuery(QueryToProto(sent, {4}, 0.8), "q", RequestLimits{}, &out);
  ASSERT_FALSE(error.has_value()) << error->message;
  EXPECT_EQ(out.query.configuration, sent.configuration);
  EXPECT_EQ(out.query.shape, sent.shape);
  EXPECT_DOUBLE_EQ(out.confidence_level, 0.8);
}

TEST(ValidateQueryTest, NegativeTokensNameFieldAndValue) {
  ValidatedQuery out;
  auto error = ValidateQuery(TestQuery(-5, 128, {1}), "queries[3]", RequestLimits{}, &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "queries[3].input_tokens=-5: must be > 0");
  EXPECT_EQ(error->field, "input_tokens");
}

TEST(ValidateQueryTest, EmptyHardwareIsRejectedNamingTheConfigurationField) {
  v1::Query query = TestQuery(128, 128, {1});
  query.mutable_configuration()->set_hardware("");
  ValidatedQuery out;
  auto error = ValidateQuery(query, "queries[0]", RequestLimits{}, &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "queries[0].configuration.hardware='': must not be empty");
  EXPECT_EQ(error->field, "configuration.hardware");
  EXPECT_EQ(error->reason, "field_missing");
}

TEST(ValidateQueryTest, TooManyBatchSizesIsRejected) {
  std::vector<int> batches(300, 4);
  ValidatedQuery out;
  auto error = ValidateQuery(TestQuery(128, 128, batches), "queries[0]", RequestLimits{}, &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "queries[0].batch_sizes: 300 entries, at most 256");
}

TEST(ValidateQueryTest, ConfidenceOutsideOpenIntervalIsRejected) {
  v1::Query query = TestQuery(128, 128, {1});
  query.set_confidence_level(1.0);
  ValidatedQuery out;
  auto error = ValidateQuery(query, "q", RequestLimits{}, &out);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "q.confidence_level=1: must be in (0, 1)");
}

constexpr PredictionCase kAllCases[] = {
    PredictionCase::kMeasured, PredictionCase::kInterpolated, PredictionCase::kExtrapolatedBatch,
    PredictionCase::kExtrapolatedShape, PredictionCase::kNewConfiguration};

TEST(PredictionCaseTest, EveryCaseRoundTripsThroughTheWire) {
  for (PredictionCase c : kAllCases) {
    EXPECT_EQ(PredictionCaseFromProto(PredictionCaseToProto(c)), c) << PredictionCaseName(c);
  }
  EXPECT_EQ(PredictionCaseFromProto(v1::PREDICTION_CASE_UNSPECIFIED), std::nullopt);
}

TEST(PredictionCaseTest, ApiNamesAreTheEnumNamesWithoutPrefix) {
  EXPECT_EQ(PredictionCaseApiName(v1::PREDICTION_CASE_EXTRAPOLATED_BATCH), "extrapolated_batch");
  EXPECT_EQ(PredictionCaseApiName(v1::PREDICTION_CASE_NEW_CONFIGURATION), "new_configuration");
  EXPECT_EQ(PredictionCaseApiName(v1::PREDICTION_CASE_UNSPECIFIED), "unspecified");
  EXPECT_EQ(PredictionCaseApiName(static_cast<v1::PredictionCase>(99)), "unspecified");
}

TEST(PredictionToProtoTest, PointsRoundTripAndTheLeastSupportedCaseIsReported) {
  std::vector<PointPrediction> points(2);
  points[0] = {1, 185.964, 166.001, 208.328, 0.688305, 0.1, PredictionCase::kMeasured};
  points[1] = {200, 9000.5, 7000.25, 11000.75, 2.5, 0.2, PredictionCase::kExtrapolatedBatch};
  v1::Prediction proto;

  const PredictionCase least = PredictionToProto(points, 0.8, &proto);
  const std::vector<PointPrediction> back = PointsFromProto(proto);

  EXPECT_EQ(least, PredictionCase::kExtrapolatedBatch);
  EXPECT_EQ(proto.prediction_case(), v1::PREDICTION_CASE_EXTRAPOLATED_BATCH);
  EXPECT_DOUBLE_EQ(proto.confidence_level(), 0.8);
  ASSERT_EQ(back.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(back[i].batch_size, points[i].batch_size);
    // Doubles cross the wire bit for bit: a client prints what the server computed.
    EXPECT_EQ(back[i].throughput_tokens_per_s, points[i].throughput_tokens_per_s);
    EXPECT_EQ(back[i].lower_tokens_per_s, points[i].lower_tokens_per_s);
    EXPECT_EQ(back[i].upper_tokens_per_s, points[i].upper_tokens_per_s);
    EXPECT_EQ(back[i].batch_latency_s, points[i].batch_latency_s);
    EXPECT_EQ(back[i].prediction_case, points[i].prediction_case);
  }
}

TEST(PredictionToProtoTest, TheNinetyNinthPercentilesRoundTripWithTheMeans) {
  std::vector<PointPrediction> points(2);
  for (PointPrediction& p : points) {
    p.batch_size = 8;
    p.throughput_tokens_per_s = 100;
    p.latency_statistic = LatencyStatistic::kMean;
    p.ttft_s = 0.2;
    p.itl_s = 0.01;
  }
  points[0].p99_ttft_s = 1.25;
  points[0].p99_ttft_lower_s = 0.75;
  points[0].p99_ttft_upper_s = 2.5;
  points[0].p99_tpot_s = 0.0125;
  points[0].p99_tpot_lower_s = 0.011;
  points[0].p99_tpot_upper_s = 0.015;
  v1::Prediction proto;
  PredictionToProto(points, 0.9, &proto);
  EXPECT_EQ(proto.points(0).p99_ttft_seconds(), 1.25);
  EXPECT_EQ(proto.points(0).p99_tpot_upper_seconds(), 0.015);
  EXPECT_EQ(proto.points(1).p99_ttft_seconds(), 0) << "no tail answered";
  const std::vector<PointPrediction> back = PointsFromProto(proto);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].p99_ttft_s, 1.25);
  EXPECT_EQ(back[0].p99_ttft_lower_s, 0.75);
  EXPECT_EQ(back[0].p99_ttft_upper_s, 2.5);
  EXPECT_EQ(back[0].p99_tpot_s, 0.0125);
  EXPECT_EQ(back[0].p99_tpot_lower_s, 0.011);
  EXPECT_EQ(back[0].p99_tpot_upper_s, 0.015);
  EXPECT_EQ(back[1].p99_ttft_s, 0);
  EXPECT_EQ(back[1].p99_tpot_s, 0);
}

TEST(PredictionToProtoTest, MemoryFitRoundTripsAndTheLargestFittingBatchIsTheQuerys) {
  std::vector<PointPrediction> points(3);
  points[0].batch_size = 8;
  points[0].memory = {MemoryVerdict::kFits, "weights 12.6 GiB + ...", 14.5, 72.0, 180};
  points[1].batch_size = 1;
  points[1].memory = {MemoryVerdict::kDoesNotFit, "weights 128.5 GiB per GPU > ...", 128.7, 72.0,
                      180};
  points[2].batch_size = 2;
  points[2].memory = {MemoryVerdict::kUnknown, "precision 'na' is not in the catalogue", 0, 0, 180};
  v1::Prediction proto;

  PredictionToProto(points, 0.9, &proto);
  const std::vector<PointPrediction> back = PointsFromProto(proto);

  EXPECT_EQ(proto.largest_fitting_batch_size(), 180);
  EXPECT_EQ(proto.points(0).memory_fit(), v1::MEMORY_FIT_FITS);
  EXPECT_EQ(proto.points(1).memory_fit(), v1::MEMORY_FIT_DOES_NOT_FIT);
  EXPECT_EQ(proto.points(2).memory_fit(), v1::MEMORY_FIT_UNKNOWN);
  ASSERT_EQ(back.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(back[i].memory.verdict, points[i].memory.verdict);
    EXPECT_EQ(back[i].memory.reason, points[i].memory.reason);
    EXPECT_EQ(back[i].memory.required_gib_per_gpu, points[i].memory.required_gib_per_gpu);
    EXPECT_EQ(back[i].memory.available_gib_per_gpu, points[i].memory.available_gib_per_gpu);
    EXPECT_EQ(back[i].memory.largest_fitting_batch_size, 180);
  }
}

// An old server sends no memory fit: the point reads as unknown, saying why.
TEST(PredictionToProtoTest, APointWithoutAMemoryFitIsUnknown) {
  v1::Prediction proto;
  proto.add_points()->set_batch_size(4);

  const std::vector<PointPrediction> back = PointsFromProto(proto);

  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].memory.verdict, MemoryVerdict::kUnknown);
  EXPECT_EQ(back[0].memory.reason, "the server sent no memory fit");
  EXPECT_EQ(MemoryVerdictFromProto(static_cast<v1::MemoryFit>(99)), MemoryVerdict::kUnknown);
}

TEST(PredictionToProtoTest, LatenciesCrossTheWireAsMeansAndAnUnavailableOneStaysUnset) {
  std::vector<PointPrediction> points(2);
  points[0].batch_size = 8;
  points[0].latency_statistic = LatencyStatistic::kMean;
  points[0].ttft_s = 0.125;
  points[0].ttft_lower_s = 0.1;
  points[0].ttft_upper_s = 0.2;
  points[0].itl_s = 0.0125;
  points[0].itl_lower_s = 0.01;
  points[0].itl_upper_s = 0.02;
  points[1].batch_size = 16;
  v1::Prediction proto;

  PredictionToProto(points, 0.9, &proto);
  const std::vector<PointPrediction> back = PointsFromProto(proto);

  EXPECT_EQ(proto.points(0).latency_statistic(), v1::LATENCY_STATISTIC_MEAN);
  EXPECT_EQ(proto.points(1).latency_statistic(), v1::LATENCY_STATISTIC_UNSPECIFIED);
  EXPECT_EQ(proto.points(1).ttft_seconds(), 0);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].latency_statistic, LatencyStatistic::kMean);
  EXPECT_EQ(back[0].ttft_s, 0.125);
  EXPECT_EQ(back[0].ttft_lower_s, 0.1);
  EXPECT_EQ(back[0].ttft_upper_s, 0.2);
  EXPECT_EQ(back[0].itl_s, 0.0125);
  EXPECT_EQ(back[0].itl_lower_s, 0.01);
  EXPECT_EQ(back[0].itl_upper_s, 0.02);
  EXPECT_EQ(back[1].latency_statistic, LatencyStatistic::kUnavailable);
}

}  // namespace
}  // namespace perfcast
