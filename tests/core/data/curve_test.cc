#include "core/data/curve.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

BenchmarkRecord Record(const std::string& hardware, int input_tokens, int output_tokens,
                       int batch_size, double throughput) {
  BenchmarkRecord record;
  record.configuration = {hardware, 1, "vllm", "llama", "fp16"};
  record.shape = {input_tokens, output_tokens};
  record.batch_size = batch_size;
  record.throughput_tokens_per_s = throughput;
  return record;
}

// (batch_size, throughput) pairs of a curve, for compact assertions.
std::vector<std::pair<int, double>> Points(const Curve& curve) {
  std::vector<std::pair<int, double>> points;
  for (const CurvePoint& point : curve.points) {
    points.emplace_back(point.batch_size, point.throughput_tokens_per_s);
  }
  return points;
}

TEST(GroupIntoCurvesTest, NoRecordsGiveNoCurves) { EXPECT_THAT(GroupIntoCurves({}), IsEmpty()); }

TEST(GroupIntoCurvesTest, SortsPointsByBatchSize) {
  const std::vector<BenchmarkRecord> records = {Record("A100", 128, 128, 16, 900),
                                                Record("A100", 128, 128, 1, 100),
                                                Record("A100", 128, 128, 4, 350)};
  const std::vector<Curve> curves = GroupIntoCurves(records);
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_THAT(Points(curves[0]),
              ElementsAre(std::pair(1, 100.0), std::pair(4, 350.0), std::pair(16, 900.0)));
  EXPECT_EQ(curves[0].max_batch_size(), 16);
}

TEST(GroupIntoCurvesTest, MergesOddNumberOfRepeatsByMedian) {
  const std::vector<BenchmarkRecord> records = {Record("A100", 128, 128, 8, 500),
                                                Record("A100", 128, 128, 8, 100),
                                                Record("A100", 128, 128, 8, 300)};
  const std::vector<Curve> curves = GroupIntoCurves(records);
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_THAT(Points(curves[0]), ElementsAre(std::pair(8, 300.0)));
}

TEST(GroupIntoCurvesTest, MergesEvenNumberOfRepeatsByMeanOfMiddleValues) {
  const std::vector<BenchmarkRecord> records = {
      Record("A100", 128, 128, 8, 400), Record("A100", 128, 128, 8, 100),
      Record("A100", 128, 128, 8, 1000), Record("A100", 128, 128, 8, 200)};
  const std::vector<Curve> curves = GroupIntoCurves(records);
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_THAT(Points(curves[0]), ElementsAre(std::pair(8, 300.0)));
}

TEST(GroupIntoCurvesTest, MergesTheNinetyNinthPercentilesOverTheRepeatsThatHaveThem) {
  std::vector<BenchmarkRecord> records = {Record("A100", 128, 128, 8, 500),
                                          Record("A100", 128, 128, 8, 100),
                                          Record("A100", 128, 128, 8, 300)};
  records[0].p99_ttft_s = 3.0;
  records[1].p99_ttft_s = 1.0;
  records[2].p99_tpot_s = 0.05;
  const std::vector<Curve> curves = GroupIntoCurves(records);
  ASSERT_EQ(curves.size(), 1u);
  ASSERT_EQ(curves[0].points.size(), 1u);
  EXPECT_EQ(curves[0].points[0].p99_ttft_s, 2.0);
  EXPECT_EQ(curves[0].points[0].p99_tpot_s, 0.05);
  std::vector<BenchmarkRecord> back;
  AppendRecordsOf(curves[0], back);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].p99_ttft_s, 2.0);
  EXPECT_EQ(back[0].p99_tpot_s, 0.05);
}

TEST(GroupIntoCurvesTest, SeparatesCurvesByConfigurationAndShape) {
  BenchmarkRecord two_gpus = Record("A100", 128, 128, 1, 150);
  two_gpus.configuration.num_gpus = 2;
  const std::vector<BenchmarkRecord> records = {Record("H100", 128, 128, 1, 200),
                                                Record("A100", 256, 128, 1, 90),
                                                two_gpus,
                                                Record("A100", 128, 128, 1, 100),
                                                Record("A100", 128, 128, 2, 180),
                                                Record("A100", 128, 64, 1, 110)};
  const std::vector<Curve> curves = GroupIntoCurves(records);
  ASSERT_EQ(curves.size(), 5u);
  // Configuration first (hardware, then num_gpus), then shape (input, then output tokens).
  EXPECT_EQ(curves[0].configuration.hardware, "A100");
  EXPECT_EQ(curves[0].shape, (Shape{128, 64}));
  EXPECT_EQ(curves[1].shape, (Shape{128, 128}));
  EXPECT_THAT(Points(curves[1]), ElementsAre(std::pair(1, 100.0), std::pair(2, 180.0)));
  EXPECT_EQ(curves[2].shape, (Shape{256, 128}));
  EXPECT_EQ(curves[3].configuration.num_gpus, 2);
  EXPECT_EQ(curves[4].configuration.hardware, "H100");
}

TEST(GroupIntoCurvesTest, ResultDoesNotDependOnInputOrder) {
  std::vector<BenchmarkRecord> records = {
      Record("H100", 128, 128, 1, 200), Record("A100", 128, 128, 2, 180),
      Record("A100", 128, 128, 2, 170), Record("A100", 128, 128, 1, 100),
      Record("A100", 512, 128, 4, 300)};
  const std::vector<Curve> forward = GroupIntoCurves(records);
  std::reverse(records.begin(), records.end());
  const std::vector<Curve> backward = GroupIntoCurves(records);
  ASSERT_EQ(forward.size(), backward.size());
  for (std::size_t i = 0; i < forward.size(); ++i) {
    EXPECT_EQ(forward[i].configuration, backward[i].configuration);
    EXPECT_EQ(forward[i].shape, backward[i].shape);
    EXPECT_EQ(Points(forward[i]), Points(backward[i]));
  }
}

TEST(CurveCodingTest, RoundTrip) {
  const Curve curve{{"NVIDIA H100", 4, "vllm", "org/model-7b", "fp8"},
                    {1024, 128},
                    {{1, 100.5}, {8, 700.25}, {64, 2100}}};
  ByteWriter writer;
  curve.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::StatusOr<Curve> decoded = Curve::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->configuration, curve.configuration);
  EXPECT_EQ(decoded->shape, curve.shape);
  EXPECT_EQ(Points(*decoded), Points(curve));
  EXPECT_TRUE(reader.empty());
}

TEST(CurveCodingTest, ACurveWithoutPointsIsDataLoss) {
  ByteWriter writer;
  Curve{{"gpu", 1, "vllm", "m", "fp16"}, {1, 1}, {}}.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::Status status = Curve::DecodeFrom(reader).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "bundle: curve with an impossible point count");
}

}  // namespace
}  // namespace perfcast
