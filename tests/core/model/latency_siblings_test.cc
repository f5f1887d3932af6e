#include "core/model/latency_siblings.h"

#include <cmath>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

Configuration ConfigurationOf(const std::string& hardware, int gpus, const std::string& framework,
                              const std::string& model, const std::string& precision,
                              const std::string& campaign = "lab") {
  Configuration c;
  c.hardware = hardware;
  c.num_gpus = gpus;
  c.framework = framework;
  c.model = model;
  c.precision = precision;
  c.campaign = campaign;
  c.batch_semantics = BatchSemantics::kConcurrency;
  return c;
}

// A curve of `configuration` at `shape` whose log share is `level` plus the batch's log2 (so a
// read tells which curve and which batch it came from).
void AddCurve(std::vector<LatencySample>& samples, const Configuration& configuration,
              const Shape& shape, double level, std::vector<int> batches = {4, 16, 64}) {
  for (int b : batches) samples.push_back({configuration, shape, b, level + std::log2(b)});
}

const Shape kShape{1024, 1024};
const Configuration kQuery = ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp8");

TEST(LatencySiblingsTest, PrefersTheSameModelThenHardwareAndNeverItself) {
  std::vector<LatencySample> samples;
  AddCurve(samples, kQuery, kShape, 100);                                                  // itself
  AddCurve(samples, ConfigurationOf("H100", 2, "sglang", "llama-8b", "fp8"), kShape, 1);   // 5
  AddCurve(samples, ConfigurationOf("B200", 2, "vllm", "llama-70b", "fp8"), kShape, 2);    // 8
  AddCurve(samples, ConfigurationOf("H100", 4, "sglang", "llama-70b", "fp4"), kShape, 3);  // 7
  const LatencySiblings siblings = LatencySiblings::Build(samples);

  const std::optional<double> found = siblings.LogShareAt(kQuery, kShape, 16);
  ASSERT_TRUE(found.has_value());
  EXPECT_DOUBLE_EQ(*found, 2 + 4) << "the B200 curve";
}

TEST(LatencySiblingsTest, OnATieTheNearestGpuCountWins) {
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 8, "vllm", "llama-70b", "fp8"), kShape, 1);
  AddCurve(samples, ConfigurationOf("H100", 4, "vllm", "llama-70b", "fp8"), kShape, 2);
  AddCurve(samples, ConfigurationOf("H100", 1, "vllm", "llama-70b", "bf16"), kShape, 3);
  const std::optional<double> found = LatencySiblings::Build(samples).LogShareAt(kQuery, kShape, 4);
  ASSERT_TRUE(found.has_value());
  EXPECT_DOUBLE_EQ(*found, 2 + 2) << "the 4-GPU curve, batch 4";
}

TEST(LatencySiblingsTest, OnlyTheSameCampaignAxisAndShape) {
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp4", "other"), kShape, 1);
  Configuration static_batch = ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp4");
  static_batch.batch_semantics = BatchSemantics::kStatic;
  AddCurve(samples, static_batch, kShape, 2);
  AddCurve(samples, ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp4"), {1024, 128}, 3);
  const LatencySiblings siblings = LatencySiblings::Build(samples);
  EXPECT_FALSE(siblings.LogShareAt(kQuery, kShape, 16).has_value());
  EXPECT_TRUE(siblings.LogShareAt(kQuery, {1024, 128}, 16).has_value());
}

TEST(LatencySiblingsTest, InterpolatesInLogBatchAndHoldsAtTheEnds) {
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 4, "vllm", "llama-70b", "fp8"), kShape, 0);
  const LatencySiblings siblings = LatencySiblings::Build(samples);
  EXPECT_DOUBLE_EQ(*siblings.LogShareAt(kQuery, kShape, 8), 3);
  EXPECT_DOUBLE_EQ(*siblings.LogShareAt(kQuery, kShape, 1), 2) << "held at the first batch";
  EXPECT_DOUBLE_EQ(*siblings.LogShareAt(kQuery, kShape, 256), 6) << "held at the last batch";
}

TEST(LatencySiblingsTest, RoundTripsAndRejectsATruncatedTable) {
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 4, "vllm", "llama-70b", "fp8"), kShape, 0.5);
  AddCurve(samples, ConfigurationOf("B200", 8, "sglang", "llama-70b", "fp4"), {128, 2048}, 1.5,
           {1});
  const LatencySiblings built = LatencySiblings::Build(samples);
  ByteWriter writer;
  built.EncodeTo(writer);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  absl::StatusOr<LatencySiblings> decoded = LatencySiblings::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(reader.empty());
  for (int batch : {1, 6, 100}) {
    for (const Shape& shape : {kShape, Shape{128, 2048}}) {
      const std::optional<double> a = built.LogShareAt(kQuery, shape, batch);
      const std::optional<double> b = decoded->LogShareAt(kQuery, shape, batch);
      ASSERT_TRUE(a.has_value() && b.has_value());
      EXPECT_EQ(*a, *b);
    }
  }
  ByteReader truncated(absl::string_view(bytes).substr(0, bytes.size() - 3));
  EXPECT_EQ(LatencySiblings::DecodeFrom(truncated).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace perfcast
