#include "core/catalogue/memory_fit.h"

#include <string>

#include "core/catalogue/catalogue.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;

constexpr double kGib = 1024.0 * 1024.0 * 1024.0;

const Catalogue& ShippedCatalogue() {
  static const Catalogue* catalogue = [] {
    absl::StatusOr<Catalogue> loaded = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new Catalogue(*std::move(loaded));
  }();
  return *catalogue;
}

Configuration Llama2_70bFp16(int num_gpus) {
  return {"NVIDIA H100", num_gpus, "vllm", "meta-llama/Llama-2-70b-hf", "fp16"};
}

// 68,976,648,192 parameters x 2 B = 128.48 GiB of weights against 0.9 x 80 = 72 GiB usable.
TEST(MemoryFitTest, Llama2_70bInFp16DoesNotFitOnOneH100) {
  const MemoryBudget budget = MemoryBudget::Of(&ShippedCatalogue(), Llama2_70bFp16(1), {128, 128});

  const MemoryFit fit = budget.At(1);

  EXPECT_EQ(fit.verdict, MemoryVerdict::kDoesNotFit);
  EXPECT_EQ(fit.reason,
            "weights 128.5 GiB per GPU > 72.0 GiB usable of one NVIDIA H100 SXM 80GB (90% of 80 "
            "GiB)");
  EXPECT_NEAR(fit.required_gib_per_gpu, 68976648192.0 * 2 / kGib + 256 * 327680.0 / kGib, 1e-9);
  EXPECT_DOUBLE_EQ(fit.available_gib_per_gpu, 72.0);
  EXPECT_EQ(fit.largest_fitting_batch_size, 0);
  EXPECT_EQ(budget.largest_fitting_batch_size(), 0);
}

// On 4 GPUs: weights 32.12 GiB per GPU; KV cache 2 x 80 layers x 8 heads x 128 x 2 B = 327,680 B
// per token, a quarter of it per GPU, so a 2,048-token sequence takes 0.15625 GiB per GPU and
// (72 - 32.12) / 0.15625 = 255.2 sequences fit at once.
TEST(MemoryFitTest, Llama2_70bInFp16FitsOnFourH100s) {
  const MemoryBudget budget =
      MemoryBudget::Of(&ShippedCatalogue(), Llama2_70bFp16(4), {1024, 1024});

  const MemoryFit batch64 = budget.At(64);
  const MemoryFit batch512 = budget.At(512);

  EXPECT_EQ(budget.largest_fitting_batch_size(), 255);
  EXPECT_EQ(batch64.verdict, MemoryVerdict::kFits);
  EXPECT_NEAR(batch64.required_gib_per_gpu, 68976648192.0 * 2 / 4 / kGib + 64 * 0.15625, 1e-9);
  EXPECT_EQ(batch64.reason,
            "weights 32.1 GiB + KV cache 10.0 GiB for batch 64 at 2048 tokens = 42.1 GiB per GPU "
            "<= 72.0 GiB usable on each of 4 NVIDIA H100 SXM 80GB (90% of 80 GiB)");
  // Beyond 255 the sequences run in waves: 255 resident, the rest wait.
  EXPECT_EQ(batch512.verdict, MemoryVerdict::kFits);
  EXPECT_NEAR(batch512.required_gib_per_gpu, 68976648192.0 * 2 / 4 / kGib + 255 * 0.15625, 1e-9);
  EXPECT_THAT(batch512.reason, HasSubstr("the 255 of 512 sequences resident at once"));
  EXPECT_THAT(batch512.reason, HasSubstr("the other 257 wait for memory"));
}

// Llama-3-8B in fp16 on one A100 40GB: 14.96 GiB of weights, 128 KiB of KV cache per token, so
// (36 - 14.96) GiB hold about 172,000 tokens and the whole 40 GiB about 205,000: a 240,000-token
// sequence alone does not fit.
TEST(MemoryFitTest, AShapeAloneBeyondMemoryDoesNotFitAtBatchOne) {
  const MemoryBudget budget = MemoryBudget::Of(
      &ShippedCatalogue(), {"NVIDIA A100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"},
      {120000, 120000});

  const MemoryFit fit = budget.At(1);

  EXPECT_EQ(fit.verdict, MemoryVerdict::kDoesNotFit);
  EXPECT_THAT(fit.reason, HasSubstr("KV cache 29.3 GiB for batch 1 at 240000 tokens"));
  EXPECT_THAT(fit.reason, HasSubstr("> 36.0 GiB usable of one NVIDIA A100 SXM4 40GB"));
  EXPECT_EQ(fit.largest_fitting_batch_size, 0);
  EXPECT_THAT(budget.At(8).reason, HasSubstr("for one sequence at 240000 tokens"));
}

// A 200,000-token sequence needs 39.4 GiB: more than the 36 usable at the default share, less
// than the 40 the GPU has. A framework allowed more than its default runs it: unknown, not
// impossible, and the point keeps its throughput.
TEST(MemoryFitTest, BetweenTheUsableShareAndTheWholeMemoryIsUnknown) {
  const MemoryBudget budget = MemoryBudget::Of(
      &ShippedCatalogue(), {"NVIDIA A100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"},
      {100000, 100000});

  const MemoryFit fit = budget.At(1);

  EXPECT_EQ(fit.verdict, MemoryVerdict::kUnknown);
  EXPECT_THAT(fit.reason, HasSubstr("= 39.4 GiB per GPU > 36.0 GiB usable"));
  EXPECT_THAT(fit.reason, HasSubstr("within the whole memory"));
  EXPECT_EQ(fit.largest_fitting_batch_size, 0);
  EXPECT_DOUBLE_EQ(fit.available_gib_per_gpu, 36.0);
}

TEST(MemoryFitTest, TheLargestFittingBatchNeverGrowsWithTheShape) {
  for (const Configuration& configuration :
       {Llama2_70bFp16(4),
        Configuration{"AMD MI300X", 1, "vllm", "mistralai/Mixtral-8x7B-v0.1", "fp16"},
        Configuration{"NVIDIA H200", 8, "vllm", "deepseek-ai/DeepSeek-R1", "fp8"}}) {
    int previous = -1;
    for (int tokens = 64; tokens <= 1 << 23; tokens *= 2) {
      for (const Shape& shape : {Shape{tokens, 128}, Shape{128, tokens}, Shape{tokens, tokens}}) {
        const int largest = MemoryBudget::Of(&ShippedCatalogue(), configuration, shape)
                                .largest_fitting_batch_size();
        EXPECT_GE(largest, 0);
        if (shape.input_tokens == tokens && shape.output_tokens == tokens) {
          if (previous >= 0) {
            EXPECT_LE(largest, previous) << configuration.ToString() << tokens;
          }
          previous = largest;
        }
        // Fits exactly when the largest batch is 1 or more; otherwise does not fit, or is unknown
        // between the usable share and the whole memory.
        const MemoryBudget budget = MemoryBudget::Of(&ShippedCatalogue(), configuration, shape);
        if (largest >= 1) {
          EXPECT_EQ(budget.At(1).verdict, MemoryVerdict::kFits);
        } else {
          EXPECT_NE(budget.At(1).verdict, MemoryVerdict::kFits);
        }
      }
    }
    EXPECT_EQ(previous, 0) << configuration.ToString() << ": an 8-million-token shape still fits";
  }
}

TEST(MemoryFitTest, RequiredMemoryRisesWithTheBatchUpToTheLargestFittingOne) {
  const MemoryBudget budget =
      MemoryBudget::Of(&ShippedCatalogue(), Llama2_70bFp16(4), {1024, 1024});
  double previous = 0;
  for (int batch = 1; batch <= 1024; batch *= 2) {
    const MemoryFit fit = budget.At(batch);
    EXPECT_GE(fit.required_gib_per_gpu, previous);
    EXPECT_LE(fit.required_gib_per_gpu, fit.available_gib_per_gpu);
    previous = fit.required_gib_per_gpu;
  }
}

// DeciLM-7B's KV heads vary by layer: the catalogue leaves kv_heads empty.
TEST(MemoryFitTest, UnknownWhenTheModelHasNoKvHeads) {
  const MemoryFit fit =
      MemoryBudget::Of(&ShippedCatalogue(), {"NVIDIA H100", 1, "vllm", "Deci/DeciLM-7B", "fp16"},
                       {128, 128})
          .At(1);

  EXPECT_EQ(fit.verdict, MemoryVerdict::kUnknown);
  EXPECT_THAT(fit.reason, HasSubstr("no kv_heads for 'Deci/DeciLM-7B'"));
  EXPECT_EQ(fit.required_gib_per_gpu, 0);
  EXPECT_EQ(fit.available_gib_per_gpu, 0);
  EXPECT_EQ(fit.largest_fitting_batch_size, 0);
}

TEST(MemoryFitTest, UnknownWhenANameIsNotInTheCatalogueOrThereIsNoCatalogue) {
  const Catalogue& catalogue = ShippedCatalogue();
  const Shape shape{128, 128};

  const MemoryFit precision =
      MemoryBudget::Of(&catalogue,
                       {"NVIDIA H100", 1, "vllm", "meta-llama/Llama-2-7b-hf", "unknown"}, shape)
          .At(1);
  const MemoryFit hardware =
      MemoryBudget::Of(&catalogue, {"GPU 9000", 1, "vllm", "meta-llama/Llama-2-7b-hf", "fp16"},
                       shape)
          .At(1);
  const MemoryFit model =
      MemoryBudget::Of(&catalogue, {"NVIDIA H100", 1, "vllm", "org/new-model", "fp16"}, shape)
          .At(1);
  const MemoryFit none =
      MemoryBudget::Of(nullptr, {"NVIDIA H100", 1, "vllm", "meta-llama/Llama-2-7b-hf", "fp16"},
                       shape)
          .At(1);

  EXPECT_EQ(precision.verdict, MemoryVerdict::kUnknown);
  EXPECT_THAT(precision.reason, HasSubstr("precision 'unknown' is not in the catalogue"));
  EXPECT_EQ(hardware.verdict, MemoryVerdict::kUnknown);
  EXPECT_THAT(hardware.reason, HasSubstr("hardware 'GPU 9000' is not in the catalogue"));
  EXPECT_EQ(model.verdict, MemoryVerdict::kUnknown);
  EXPECT_THAT(model.reason, HasSubstr("model 'org/new-model' is not in the catalogue"));
  EXPECT_EQ(none.verdict, MemoryVerdict::kUnknown);
  EXPECT_THAT(none.reason, HasSubstr("no hardware/model catalogue"));
}

// A run that records no precision is judged in its model's checkpoint precision (Llama-2-70B's
// weights are stored in fp16); a model without one in the catalogue stays unknown, named.
TEST(MemoryFitTest, ARunWithoutAPrecisionIsJudgedInItsCheckpointPrecision) {
  const Catalogue& catalogue = ShippedCatalogue();
  Configuration unrecorded = Llama2_70bFp16(1);
  unrecorded.precision = "na";

  const MemoryFit fit = MemoryBudget::Of(&catalogue, unrecorded, {128, 128}).At(1);
  const MemoryFit named = MemoryBudget::Of(&catalogue, Llama2_70bFp16(1), {128, 128}).At(1);
  const MemoryFit no_checkpoint =
      MemoryBudget::Of(&catalogue, {"NVIDIA H100", 1, "vllm", "openai/gpt-oss-120b", "na"},
                       {128, 128})
          .At(1);

  EXPECT_EQ(fit.verdict, MemoryVerdict::kDoesNotFit);
  EXPECT_EQ(fit.reason, named.reason);
  EXPECT_DOUBLE_EQ(fit.required_gib_per_gpu, named.required_gib_per_gpu);
  EXPECT_EQ(no_checkpoint.verdict, MemoryVerdict::kUnknown);
  EXPECT_THAT(no_checkpoint.reason, HasSubstr("precision 'na' is not in the catalogue"));
}

// Bad input: an accelerator row whose memory_gib is empty loads, and its fit is unknown, named.
TEST(MemoryFitTest, UnknownWhenTheAcceleratorRowHasNoMemory) {
  const std::string accelerators =
      "name,memory_gib,memory_bandwidth_gb_per_s,bf16_dense_tflops,fp8_dense_tflops,"
      "interconnect_gb_per_s,source\n"
      "GPU Z,,3350,989.5,1979,900,https://example.com/z\n";
  const std::string models =
      "name,parameters,active_parameters,layers,hidden_size,attention_heads,kv_heads,head_dim,"
      "kv_cache_elements_per_token_per_layer,experts,experts_per_token,vocabulary,source\n"
      "org/model,8030261248,,32,4096,32,8,,,,,128256,https://example.com/m\n";
  const std::string precisions =
      "name,weight_bytes_per_parameter,kv_cache_bytes_per_element,math,source\n"
      "fp16,2,2,bf16,https://example.com/p\n";
  absl::StatusOr<Catalogue> catalogue =
      Catalogue::Parse({accelerators, models, precisions, "kind,alias,entry\n", ""}, "cat");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();

  const MemoryBudget budget =
      MemoryBudget::Of(&*catalogue, {"GPU Z", 1, "vllm", "org/model", "fp16"}, {128, 128});

  EXPECT_FALSE(budget.known());
  EXPECT_EQ(budget.At(16).verdict, MemoryVerdict::kUnknown);
  EXPECT_EQ(budget.At(16).reason, "the catalogue gives no memory_gib for 'GPU Z'");
  EXPECT_EQ(budget.largest_fitting_batch_size(), 0);
}

// A mixture keeps every expert resident: Mixtral-8x7B's 46.7e9 parameters, not its 12.9e9 active
// ones (86.99 GiB in fp16), do not fit on one 80 GB H100.
TEST(MemoryFitTest, EveryExpertOfAMixtureIsResident) {
  const MemoryFit fit =
      MemoryBudget::Of(&ShippedCatalogue(),
                       {"NVIDIA H100", 1, "vllm", "mistralai/Mixtral-8x7B-v0.1", "fp16"},
                       {128, 128})
          .At(1);

  EXPECT_EQ(fit.verdict, MemoryVerdict::kDoesNotFit);
  EXPECT_THAT(fit.reason, HasSubstr("weights 87.0 GiB per GPU > 72.0 GiB"));
}

TEST(MemoryFitTest, VerdictNamesAreTheApiNames) {
  EXPECT_EQ(MemoryVerdictName(MemoryVerdict::kFits), "fits");
  EXPECT_EQ(MemoryVerdictName(MemoryVerdict::kDoesNotFit), "does_not_fit");
  EXPECT_EQ(MemoryVerdictName(MemoryVerdict::kUnknown), "unknown");
}

}  // namespace
}  // namespace perfcast
