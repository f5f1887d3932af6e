#include "core/model/trained_names.h"

#include <vector>

#include "core/catalogue/catalogue.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Catalogue ShippedCatalogue() {
  absl::StatusOr<Catalogue> catalogue =
      Catalogue::Load(std::string(PERFCAST_SOURCE_DIR) + "/data/catalogue");
  EXPECT_TRUE(catalogue.ok()) << catalogue.status();
  return *std::move(catalogue);
}

const std::vector<Configuration> kTrained = {
    {"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"},
    {"NVIDIA H100", 1, "tensorrt-llm", "meta-llama/Meta-Llama-3-8B", "fp16"},
};

TEST(TrainedNamesTest, ADifferentSpellingReachesTheTrainedName) {
  const Catalogue catalogue = ShippedCatalogue();
  const TrainedNames names(kTrained, &catalogue);

  const Configuration asked{"NVIDIA H100 SXM 80GB", 1, "vLLM 0.6.3", "meta-llama/Meta-Llama-3-8B",
                            "FP16"};

  EXPECT_EQ(names.AsTrained(asked), kTrained[0]);
  EXPECT_THAT(names.UnseenNamesOf(asked), IsEmpty());
}

TEST(TrainedNamesTest, APrecisionOfTheSameBytesAndMathRunsAsTheTrainedOne) {
  const Catalogue catalogue = ShippedCatalogue();
  const TrainedNames names(kTrained, &catalogue);

  const Configuration asked{"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "bf16"};

  EXPECT_EQ(names.AsTrained(asked).precision, "fp16");
}

TEST(TrainedNamesTest, AnEngineNobodyKnowsIsReportedAndLeftAsItIs) {
  const Catalogue catalogue = ShippedCatalogue();
  const TrainedNames names(kTrained, &catalogue);

  const Configuration asked{"NVIDIA H100", 1, "my-new-engine", "meta-llama/Meta-Llama-3-8B", "fp8"};

  EXPECT_EQ(names.AsTrained(asked).framework, "my-new-engine");
  EXPECT_THAT(names.UnseenNamesOf(asked),
              ElementsAre(UnseenName{ConfigurationField::kFramework, "my-new-engine"},
                          UnseenName{ConfigurationField::kPrecision, "fp8"}));
  EXPECT_EQ(names.UnseenNamesOf(asked)[0].ToString(), "framework 'my-new-engine'");
}

TEST(TrainedNamesTest, WithoutACatalogueOnlyCaseAndSpacesAreForgiven) {
  const TrainedNames names(kTrained, nullptr);

  const Configuration asked{" nvidia h100", 1, "VLLM", "meta-llama/Meta-Llama-3-8B", "bf16"};

  EXPECT_EQ(names.AsTrained(asked).hardware, "NVIDIA H100");
  EXPECT_EQ(names.AsTrained(asked).framework, "vllm");
  EXPECT_THAT(names.UnseenNamesOf(asked),
              ElementsAre(UnseenName{ConfigurationField::kPrecision, "bf16"}));
}

TEST(TrainedNamesTest, AMatchButForCaseComesBeforeAnotherSpellingOfTheEntry) {
  std::vector<Configuration> trained = kTrained;
  // Two spellings of one catalogue entry in the data, as two sources write it.
  trained.push_back({"NVIDIA H100 80GB", 1, "tensorrt-llm", "meta-llama/Meta-Llama-3-8B", "fp16"});
  const Catalogue catalogue = ShippedCatalogue();
  const TrainedNames names(trained, &catalogue);

  const Configuration asked{"nvidia h100 80gb", 1, "tensorrt-llm", "meta-llama/Meta-Llama-3-8B",
                            "fp16"};

  EXPECT_EQ(names.AsTrained(asked).hardware, "NVIDIA H100 80GB");
}

TEST(TrainedNamesTest, AnEightBitKvCacheIsNotTakenForAnother) {
  std::vector<Configuration> trained = kTrained;
  trained.push_back(
      {"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "Weight = fp16, KV Cache = int8"});
  const Catalogue catalogue = ShippedCatalogue();
  const TrainedNames names(trained, &catalogue);

  const Configuration asked{"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B",
                            "Weight = fp16, KV Cache = fp8"};

  EXPECT_EQ(names.AsTrained(asked).precision, "Weight = fp16, KV Cache = fp8");
  ASSERT_EQ(names.UnseenNamesOf(asked).size(), 1u);
  EXPECT_EQ(names.UnseenNamesOf(asked)[0].field, ConfigurationField::kPrecision);
}

TEST(TrainedNamesTest, ANameTheDataCarriesIsNeverReplaced) {
  std::vector<Configuration> trained = kTrained;
  trained.push_back({"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "bf16"});
  const Catalogue catalogue = ShippedCatalogue();
  const TrainedNames names(trained, &catalogue);

  EXPECT_EQ(names.AsTrained(trained.back()).precision, "bf16");
}

TEST(TrainedNamesTest, ASystemIsSpelledEveryWayTheDataSpellIt) {
  std::vector<Configuration> trained = kTrained;
  // Two sources' spellings of one GPU and of one 16-bit precision.
  trained.push_back({"NVIDIA H100 80GB HBM3", 1, "vllm", "meta-llama/Meta-Llama-3-8B",
                     "Weight = fp16, KV Cache = fp16"});
  const Catalogue catalogue = ShippedCatalogue();
  const TrainedNames names(trained, &catalogue);

  const std::vector<Configuration> spellings = names.SpellingsOf(kTrained[0]);

  // Its own spelling first, then every other combination of the trained names (2 x 2), and never
  // another engine.
  ASSERT_EQ(spellings.size(), 4u);
  EXPECT_EQ(spellings[0], kTrained[0]);
  EXPECT_THAT(spellings, ::testing::Contains(trained.back()));
  for (const Configuration& spelled : spellings) EXPECT_EQ(spelled.framework, "vllm");
}

TEST(TrainedNamesTest, ASystemWhoseNamesHaveNoOtherSpellingIsItsOwnOnly) {
  const Catalogue catalogue = ShippedCatalogue();
  const TrainedNames names(kTrained, &catalogue);

  EXPECT_THAT(names.SpellingsOf(kTrained[1]), ElementsAre(kTrained[1]));
  // A name the data lack keeps its spelling: nothing to swap it for.
  const Configuration unknown{"gpu-nobody-has", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};
  EXPECT_THAT(names.SpellingsOf(unknown), ElementsAre(unknown));
}

}  // namespace
}  // namespace perfcast
