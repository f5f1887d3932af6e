#include "core/bundle/model_bundle.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/bundle/bundle_format.h"
#include "core/bundle/model_codec.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_model.h"

namespace perfcast {
namespace {

class ModelBundleTest : public testing::SyntheticModelTest {
 protected:
  std::string TemporaryDirectory() {
    const std::string path = std::filesystem::temp_directory_path() /
                             ("perfcast_bundle_test_" + std::to_string(::getpid()) + "_" +
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path);
    return path;
  }
};

void ExpectSamePredictions(const PerfcastModel& a, const PerfcastModel& b) {
  const int batches[] = {1, 3, 16, 100, 1000};
  const std::vector<PredictionQuery> queries = {
      {{"gpu-a", 2, "vllm", "org/model-7b", "fp16"}, {256, 256}},
      {{"gpu-a", 2, "vllm", "org/model-7b", "fp16"}, {333, 777}},
      {{"gpu-c", 2, "vllm", "org/model-7b", "fp16"}, {256, 256}},
  };
  for (const PredictionQuery& query : queries) {
    auto left = a.Predict(query, batches, 0.8);
    auto right = b.Predict(query, batches, 0.8);
    ASSERT_TRUE(left.ok() && right.ok());
    for (size_t i = 0; i < left->size(); ++i) {
      EXPECT_EQ((*left)[i].throughput_tokens_per_s, (*right)[i].throughput_tokens_per_s);
      EXPECT_EQ((*left)[i].lower_tokens_per_s, (*right)[i].lower_tokens_per_s);
      EXPECT_EQ((*left)[i].prediction_case, (*right)[i].prediction_case);
    }
  }
}

TEST_F(ModelBundleTest, RoundTripKeepsEveryPrediction) {
  const std::string directory = TemporaryDirectory();
  ASSERT_TRUE(SaveBundle(model(), directory).ok());
  auto loaded = LoadBundle(directory);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSamePredictions(model(), **loaded);
  EXPECT_EQ((*loaded)->info().curve_count, model().info().curve_count);
  EXPECT_EQ((*loaded)->info().trained_at_unix_s, model().info().trained_at_unix_s);
  EXPECT_EQ(EncodeModelBundle(**loaded), EncodeModelBundle(model()));
  std::filesystem::remove_all(directory);
}

TEST_F(ModelBundleTest, StartsWithAReadableManifest) {
  const std::string bytes = EncodeModelBundle(model());
  EXPECT_EQ(bytes.substr(0, 8), "PERFCAST");
  EXPECT_NE(bytes.find(absl::StrCat("perfcast model bundle; format ", kBundleFormatVersion,
                                    "; curves 24")),
            std::string::npos);
}

TEST_F(ModelBundleTest, RefusesAFlippedByteAsDataLoss) {
  std::string bytes = EncodeModelBundle(model());
  bytes[bytes.size() / 2] ^= 0x40;
  auto loaded = DecodeModelBundle(bytes);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("checksum"), std::string::npos);
}

TEST_F(ModelBundleTest, RefusesATruncatedFileAsDataLoss) {
  const std::string bytes = EncodeModelBundle(model());
  auto loaded = DecodeModelBundle(bytes.substr(0, bytes.size() - 10));
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  auto header_only = DecodeModelBundle(bytes.substr(0, 12));
  EXPECT_EQ(header_only.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(ModelBundleTest, RefusesAForeignFileAsInvalidArgument) {
  auto loaded = DecodeModelBundle("hardware,num_gpus\nA100,1\n");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find("not a perfcast model bundle"), std::string::npos);
}

TEST_F(ModelBundleTest, RefusesAnotherFormatVersion) {
  std::string bytes = EncodeModelBundle(model());
  bytes[8] = 99;  // the little-endian format version follows the magic
  auto loaded = DecodeModelBundle(bytes);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find("format version 99"), std::string::npos);
}

TEST_F(ModelBundleTest, RefusesAValidContainerWithGarbageInside) {
  auto loaded = DecodeModelBundle(SealBundle("not a payload"));
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
}

// A version directory is renamed into place whole, so one without its bundle is damaged; only a
// directory that is not there at all is a version that is gone.
TEST_F(ModelBundleTest, ADirectoryWithoutItsBundleIsDataLossAndAMissingOneNotFound) {
  const std::string directory = TemporaryDirectory();
  std::filesystem::create_directories(directory);
  EXPECT_EQ(LoadBundle(directory).status().code(), absl::StatusCode::kDataLoss);
  std::filesystem::remove_all(directory);
  EXPECT_EQ(LoadBundle(directory).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelBundleTest, CorruptFileOnDiskNamesThePath) {
  const std::string directory = TemporaryDirectory();
  ASSERT_TRUE(SaveBundle(model(), directory).ok());
  {
    std::fstream file(directory + "/model.perfcast",
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('\x7f');
  }
  auto loaded = LoadBundle(directory);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find(directory), std::string::npos);
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace perfcast
