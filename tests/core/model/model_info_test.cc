#include "core/model/model_info.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

TEST(ModelInfoTest, KeepsWhatTheCurvesDoNotTell) {
  const ModelInfo info{.trained_at_unix_s = 1700000000,
                       .training_seconds = 4.25,
                       .point_count = 3202,
                       .curve_count = 787,
                       .configuration_count = 168};
  ByteWriter writer;
  info.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::StatusOr<ModelInfo> decoded = ModelInfo::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->trained_at_unix_s, 1700000000);
  EXPECT_EQ(decoded->training_seconds, 4.25);
  EXPECT_EQ(decoded->point_count, 3202);
  EXPECT_EQ(decoded->curve_count, 0);
  EXPECT_EQ(decoded->configuration_count, 0);
  EXPECT_TRUE(reader.empty());
}

TEST(ModelInfoTest, ATruncatedInfoIsDataLoss) {
  ByteWriter writer;
  ModelInfo{}.EncodeTo(writer);
  std::string bytes = writer.Take();
  bytes.pop_back();

  ByteReader reader(bytes);
  EXPECT_EQ(ModelInfo::DecodeFrom(reader).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace perfcast
