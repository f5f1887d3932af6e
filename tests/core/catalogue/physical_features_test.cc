#include "core/catalogue/physical_features.h"

#include <cmath>
#include <string>

#include "core/catalogue/catalogue.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

std::string CatalogueDirectory() { return PERFCAST_SOURCE_DIR "/data/catalogue"; }

class PhysicalFeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Catalogue> loaded = Catalogue::Load(CatalogueDirectory());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    catalogue_ = std::make_unique<Catalogue>(*std::move(loaded));
  }

  ResolvedConfiguration Resolve(const Configuration& configuration) {
    absl::StatusOr<ResolvedConfiguration> resolved = catalogue_->Resolve(configuration);
    EXPECT_TRUE(resolved.ok()) << resolved.status();
    return resolved.ok() ? *resolved : ResolvedConfiguration{};
  }

  std::unique_ptr<Catalogue> catalogue_;
};

// Llama-3-8B in fp16 on one H100 SXM (80 GiB, 3.35 TB/s, 989.5 dense BF16 TFLOP/s), 1024 tokens
// in and 1024 out.
//   weights       = 8,030,261,248 params x 2 B            = 16,060,522,496 B (16.06 GB)
//   KV per token  = 2 x 32 layers x 8 KV heads x (4096 / 32) x 2 B = 131,072 B
//   mean context  = 1024 + 1024 / 2 = 1536 tokens -> 201,326,592 B of KV per sequence per step
TEST_F(PhysicalFeaturesTest, Llama3_8bOnOneH100ByHand) {
  const ResolvedConfiguration h100 =
      Resolve({"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"});
  const Shape shape{1024, 1024};

  const PhysicalCeilings batch1 = ComputePhysicalCeilings(h100, shape, 1);
  const PhysicalCeilings batch64 = ComputePhysicalCeilings(h100, shape, 64);

  EXPECT_DOUBLE_EQ(WeightBytesReadPerDecodeStep(h100, 64), 16060522496.0);
  EXPECT_DOUBLE_EQ(KvCacheBytesPerToken(h100), 131072.0);
  // 3.35e12 B/s / (16,060,522,496 + 201,326,592) B = 206.00 tokens/s.
  EXPECT_NEAR(batch1.decode_batch1_tokens_per_s, 206.0036, 1e-3);
  EXPECT_DOUBLE_EQ(batch1.decode_tokens_per_s, batch1.decode_batch1_tokens_per_s);
  // 64 x 3.35e12 / (16,060,522,496 + 64 x 201,326,592 = 28,945,424,384) = 7407.04 tokens/s.
  EXPECT_NEAR(batch64.decode_tokens_per_s, 7407.0429, 1e-3);
  // 989.5e12 FLOP/s / (2 x 8,030,261,248) FLOP per token = 61,610.70 tokens/s.
  EXPECT_NEAR(batch64.prefill_tokens_per_s, 61610.698, 1e-2);
  // (80 x 2^30 - 16,060,522,496 = 69,838,823,424 B) / (131,072 x 2048 = 268,435,456 B per
  // sequence) = 260.17 sequences.
  EXPECT_NEAR(batch64.kv_cache_capacity_sequences, 260.1699, 1e-3);
  // Static batch of 64: prefill 64 x 1024 / 61,610.70 = 1.06371 s; a decode step is memory-bound
  // (64 / 7407.04 = 8.6404 ms against 64 x 2 x 8.03e9 / 989.5e12 = 1.0388 ms of compute), so
  // 64 x 1024 / (1.06371 + 1024 x 0.0086404) = 6612.11 tokens/s.
  EXPECT_NEAR(batch64.roofline_output_tokens_per_s, 6612.11, 1e-2);
}

// Mixtral-8x7B in fp16 on two MI300X (192 GiB, 5.3 TB/s, 1307.4 dense BF16 TFLOP/s, 896 GB/s
// Infinity Fabric each), 128 tokens in and 128 out. 46,702,792,704 parameters, 12,879,925,248
// active, 2 of 8 experts:
//   experts E = (46,702,792,704 - 12,879,925,248) / (1 - 2/8) = 45,097,156,608
//   shared  S = 46,702,792,704 - E = 1,605,636,096 (attention, norms, embeddings)
//   KV per token = 2 x 32 x 8 x 128 x 2 B = 131,072 B; mean context 128 + 64 = 192 tokens
TEST_F(PhysicalFeaturesTest, Mixtral8x7bOnTwoMi300xByHand) {
  const ResolvedConfiguration mi300x =
      Resolve({"AMD MI300X", 2, "vllm", "mistralai/Mixtral-8x7B-v0.1", "fp16"});
  const Shape shape{128, 128};

  const PhysicalCeilings batch1 = ComputePhysicalCeilings(mi300x, shape, 1);
  const PhysicalCeilings batch16 = ComputePhysicalCeilings(mi300x, shape, 16);

  // One token reads the active weights: (S + E x 2/8) x 2 B = 25,759,850,496 B.
  EXPECT_NEAR(WeightBytesReadPerDecodeStep(mi300x, 1), 25759850496.0, 1.0);
  // 16 tokens touch an expert with probability 1 - (6/8)^16 = 0.989977:
  // (S + E x 0.989977) x 2 B = 92,501,604,267 B.
  EXPECT_NEAR(WeightBytesReadPerDecodeStep(mi300x, 16), 92501604267.0, 1.0);
  // Streaming a step: (25,759,850,496 + 131,072 x 192) B / (2 x 5.3e12 B/s) = 2.432549 ms.
  // Its all-reduces: 2 per layer x 32 layers x (10 us + 2 x (2 - 1) / 2 x (1 x 4096 x 2 B) /
  // (896 / 2 GB/s)) = 64 x 10.018286 us = 0.641170 ms. 1 / 3.073719 ms = 325.34 tokens/s.
  EXPECT_NEAR(batch1.decode_batch1_tokens_per_s, 325.3388, 1e-3);
  // 16 tokens: (92,501,604,267 + 16 x 131,072 x 192) / 1.06e13 = 8.764553 ms of streaming and
  // 64 x (10 us + 16 x 8192 B / 448e9 B/s) = 0.658725 ms of all-reduce: 16 / 9.423278 ms =
  // 1697.92 tokens/s.
  EXPECT_NEAR(batch16.decode_tokens_per_s, 1697.923, 1e-2);
  // 2 x 1307.4e12 / (2 x 12,879,925,248) = 101,506.80 tokens/s.
  EXPECT_NEAR(batch16.prefill_tokens_per_s, 101506.80, 1e-2);
  // (2 x 192 x 2^30 - 2 x 46,702,792,704 = 318,911,275,008 B) / (131,072 x 256 B) = 9504.30.
  EXPECT_NEAR(batch16.kv_cache_capacity_sequences, 9504.2966, 1e-3);
}

// Llama-3-8B at batch 1 on eight H100 SXM (900 GB/s NVLink each), shape as above: streaming
// (16,060,522,496 + 201,326,592) B / (8 x 3.35e12 B/s) = 0.606785 ms, all-reduces 2 x 32 x
// (10 us + 2 x 7 / 8 x 8192 B / 450e9 B/s) = 0.642039 ms, so 1 / 1.248824 ms = 800.75 tokens/s:
// 3.9 times one GPU's 206.00, not 8.
TEST_F(PhysicalFeaturesTest, AllReducesKeepEightGpusFromDecodingEightTimesAsFast) {
  const Shape shape{1024, 1024};
  const PhysicalCeilings eight = ComputePhysicalCeilings(
      Resolve({"NVIDIA H100", 8, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"}), shape, 1);

  EXPECT_NEAR(eight.decode_batch1_tokens_per_s, 800.753, 1e-2);
}

TEST_F(PhysicalFeaturesTest, AnInterconnectNoDatasheetGivesLeavesTheAllReduceLatency) {
  const Shape shape{1024, 1024};
  const ResolvedConfiguration one =
      Resolve({"AMD MI250", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"});
  const ResolvedConfiguration two =
      Resolve({"AMD MI250", 2, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"});
  ASSERT_FALSE(two.accelerator->interconnect_gb_per_s.has_value());

  const double one_gpu_step_s = 1 / ComputePhysicalCeilings(one, shape, 1).decode_tokens_per_s;
  const double two_gpu_step_s = 1 / ComputePhysicalCeilings(two, shape, 1).decode_tokens_per_s;

  // Half the streaming plus 2 x 32 all-reduces of 10 us each.
  EXPECT_NEAR(two_gpu_step_s, one_gpu_step_s / 2 + 64 * 10e-6, 1e-9);
}

TEST_F(PhysicalFeaturesTest, FewerBytesPerWeightRaiseTheDecodeCeiling) {
  const Shape shape{128, 128};
  const PhysicalCeilings fp16 = ComputePhysicalCeilings(
      Resolve({"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"}), shape, 1);
  const PhysicalCeilings fp8 = ComputePhysicalCeilings(
      Resolve({"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp8"}), shape, 1);

  EXPECT_GT(fp8.decode_batch1_tokens_per_s, 1.9 * fp16.decode_batch1_tokens_per_s);
  // FP8 math runs at the H100's FP8 peak, twice its BF16 peak.
  EXPECT_DOUBLE_EQ(fp8.prefill_tokens_per_s, 2 * fp16.prefill_tokens_per_s);
}

TEST_F(PhysicalFeaturesTest, WeightsThatDoNotFitLeaveNoCapacity) {
  // Llama-2-70B in fp16 is 138 GB of weights: more than one 40 GiB A100 holds.
  const PhysicalCeilings ceilings = ComputePhysicalCeilings(
      Resolve({"NVIDIA A100", 1, "vllm", "meta-llama/Llama-2-70b-hf", "fp16"}), {128, 128}, 1);

  EXPECT_LT(ceilings.kv_cache_capacity_sequences, 0);
}

TEST_F(PhysicalFeaturesTest, AFigureNoDatasheetGivesMakesItsCeilingsMissing) {
  // SambaNova publishes no HBM bandwidth for the SN40L; its FLOP/s are known.
  const PhysicalCeilings ceilings = ComputePhysicalCeilings(
      Resolve({"SambaNova SN40L", 8, "sambaflow", "meta-llama/Meta-Llama-3-8B", "bf16"}),
      {128, 128}, 1);

  EXPECT_TRUE(std::isnan(ceilings.decode_batch1_tokens_per_s));
  EXPECT_TRUE(std::isnan(ceilings.roofline_output_tokens_per_s));
  EXPECT_FALSE(std::isnan(ceilings.prefill_tokens_per_s));
}

}  // namespace
}  // namespace perfcast
