// Predict answers each batch size of a query as it would alone: the neighbourhoods, the error
// predictor and the latency corrections are worked out for all of a query's points at once.
#include <vector>

#include "gtest/gtest.h"
#include "tests/core/synthetic_model.h"

namespace perfcast {
namespace {

class BatchedPredictTest : public testing::SyntheticModelTest {};

void ExpectSamePoint(const PointPrediction& a, const PointPrediction& b) {
  EXPECT_EQ(a.batch_size, b.batch_size);
  EXPECT_EQ(a.prediction_case, b.prediction_case);
  EXPECT_EQ(a.throughput_tokens_per_s, b.throughput_tokens_per_s);
  EXPECT_EQ(a.lower_tokens_per_s, b.lower_tokens_per_s);
  EXPECT_EQ(a.upper_tokens_per_s, b.upper_tokens_per_s);
  EXPECT_EQ(a.expected_relative_error, b.expected_relative_error);
  EXPECT_EQ(a.ttft_s, b.ttft_s);
  EXPECT_EQ(a.ttft_upper_s, b.ttft_upper_s);
  EXPECT_EQ(a.itl_s, b.itl_s);
  EXPECT_EQ(a.itl_upper_s, b.itl_upper_s);
}

TEST_F(BatchedPredictTest, ManyBatchSizesAnswerAsEachAlone) {
  // Measured, interpolated and extrapolated points of a measured curve; a new shape; a new GPU
  // count; unsorted and repeated batch sizes.
  const std::vector<PredictionQuery> queries = {
      {{"gpu-a", 1, "vllm", "org/model-7b", "fp16"}, {256, 256}},
      {{"gpu-b", 2, "vllm", "org/model-7b", "fp16"}, {700, 300}},
      {{"gpu-a", 8, "vllm", "org/model-7b", "fp16"}, {512, 512}}};
  const std::vector<int> batch_sizes = {200, 1, 7, 7, 16, 64, 2, 3000, 32, 20};
  for (const PredictionQuery& query : queries) {
    SCOPED_TRACE(query.configuration.ToString());
    auto together = model().Predict(query, batch_sizes, 0.9);
    ASSERT_TRUE(together.ok()) << together.status();
    ASSERT_EQ(together->size(), batch_sizes.size());
    for (size_t i = 0; i < batch_sizes.size(); ++i) {
      const int one[] = {batch_sizes[i]};
      auto alone = model().Predict(query, one, 0.9);
      ASSERT_TRUE(alone.ok()) << alone.status();
      ExpectSamePoint((*together)[i], alone->front());
    }
  }
}

}  // namespace
}  // namespace perfcast
