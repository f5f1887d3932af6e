#include "core/catalogue/name_matching.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(NameMatchingTest, FoldingIgnoresCaseAndOuterSpaces) {
  EXPECT_EQ(FoldName("  vLLM "), "vllm");
  EXPECT_EQ(FoldName("NVIDIA H100"), "nvidia h100");
}

TEST(NameMatchingTest, LeavesOffATrailingVersion) {
  EXPECT_EQ(WithoutVersion("vllm-0.6.3"), "vllm");
  EXPECT_EQ(WithoutVersion("sglang v0.4"), "sglang");
  EXPECT_EQ(WithoutVersion("tensorrt-llm==0.12"), "tensorrt-llm");
  EXPECT_EQ(WithoutVersion("vLLM 0.4.3+rocm614"), "vLLM");
  EXPECT_EQ(WithoutVersion("vllm==0.6.3.post1"), "vllm");
  EXPECT_EQ(WithoutVersion("vllm-0.7.0rc1"), "vllm");
  EXPECT_EQ(WithoutVersion("sglang v0.4.1.post5"), "sglang");
  EXPECT_EQ(WithoutVersion("llama.cpp-b3600"), "llama.cpp");
  EXPECT_EQ(WithoutVersion("tensorrt-llm 0.12.0.dev2024073000"), "tensorrt-llm");
}

TEST(NameMatchingTest, KeepsDigitsThatArePartOfTheName) {
  EXPECT_EQ(WithoutVersion("llama.cpp"), "llama.cpp");
  EXPECT_EQ(WithoutVersion("llama2"), "llama2");
  EXPECT_EQ(WithoutVersion("2"), "2");
  EXPECT_EQ(WithoutVersion("vllm"), "vllm");
}

TEST(NameMatchingTest, SuggestsTheNearestNamesFirst) {
  const std::vector<std::string> names = {"sglang", "vllm", "tensorrt-llm"};

  EXPECT_THAT(ClosestNames("vlm", names, 2), ElementsAre("vllm"));
  EXPECT_THAT(ClosestNames("TensorRT-LLM ", names, 3), ElementsAre("tensorrt-llm"));
}

TEST(NameMatchingTest, SuggestsNothingFarAway) {
  const std::vector<std::string> names = {"sglang", "vllm"};

  EXPECT_THAT(ClosestNames("my-new-engine", names, 3), IsEmpty());
  EXPECT_EQ(DidYouMean({}), "");
}

TEST(NameMatchingTest, DidYouMeanQuotesEverySuggestion) {
  EXPECT_EQ(DidYouMean({"a", "b"}), " (did you mean 'a' or 'b'?)");
}

}  // namespace
}  // namespace perfcast
