#include "core/bundle/model_codec.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/bundle/bundle_format.h"
#include "core/catalogue/catalogue.h"
#include "core/fit/anchor_curve.h"
#include "core/ml/xgboost_regressor.h"
#include "core/model/campaign_levels.h"
#include "core/model/error_predictor.h"
#include "core/model/interval_calibration.h"
#include "core/model/latency_model.h"
#include "core/model/model_info.h"
#include "core/model/physical_exponents.h"
#include "core/model/workload_features.h"
#include "core/model/workload_similarity.h"
#include "core/util/byte_coding.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_model.h"

namespace perfcast {
namespace {

using ModelCodecTest = testing::SyntheticModelTest;

TEST_F(ModelCodecTest, DecodingThenEncodingGivesTheSameBytes) {
  const std::string bytes = EncodeModelBundle(model());
  auto decoded = DecodeModelBundle(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(EncodeModelBundle(**decoded) == bytes);
  EXPECT_EQ((*decoded)->info().curve_count, model().info().curve_count);
  EXPECT_EQ((*decoded)->info().configuration_count, model().info().configuration_count);
  EXPECT_EQ((*decoded)->info().point_count, model().info().point_count);
}

// The payload is the sections model_codec.h lists, in that order, each read by its own type.
TEST_F(ModelCodecTest, ThePayloadIsTheListedSectionsInOrder) {
  const std::string bytes = EncodeModelBundle(model());
  const absl::StatusOr<absl::string_view> payload = OpenBundle(bytes);
  ASSERT_TRUE(payload.ok()) << payload.status();
  ByteReader reader(*payload);

  const absl::StatusOr<std::string> manifest = reader.GetString();
  ASSERT_TRUE(manifest.ok());
  EXPECT_TRUE(absl::StartsWith(
      *manifest, absl::StrCat("perfcast model bundle; format ", kBundleFormatVersion, "; curves ")))
      << *manifest;
  const absl::StatusOr<ModelInfo> info = ModelInfo::DecodeFrom(reader);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->trained_at_unix_s, model().info().trained_at_unix_s);
  EXPECT_EQ(info->point_count, model().info().point_count);
  ASSERT_TRUE(FeatureVocabulary::DecodeFrom(reader).ok());
  const absl::StatusOr<uint32_t> curve_count = reader.GetU32();
  ASSERT_TRUE(curve_count.ok());
  ASSERT_EQ(static_cast<int>(*curve_count), model().info().curve_count);
  for (uint32_t i = 0; i < *curve_count; ++i) ASSERT_TRUE(AnchorCurve::DecodeFrom(reader).ok());
  ASSERT_TRUE(XGBoostRegressor::DecodeFrom(reader).ok());
  ASSERT_TRUE(PhysicalExponents::DecodeFrom(reader).ok());
  EXPECT_EQ(*reader.GetU32(), 0u);  // trained without a catalogue
  ASSERT_TRUE(WorkloadScales::DecodeFrom(reader).ok());
  ASSERT_TRUE(ErrorPredictor::DecodeFrom(reader).ok());
  ASSERT_TRUE(IntervalCalibration::DecodeFrom(reader).ok());
  ASSERT_TRUE(CampaignLevels::DecodeFrom(reader).ok());
  ASSERT_TRUE(LatencyModel::DecodeFrom(reader, nullptr, kBundleFormatVersion).ok());  // format 8
  ASSERT_TRUE(IntervalCalibration::DecodeFrom(reader).ok());  // format 9: whole curves
  EXPECT_TRUE(reader.empty());
}

TEST_F(ModelCodecTest, TrailingBytesAreDataLoss) {
  const std::string bytes = EncodeModelBundle(model());
  const absl::StatusOr<absl::string_view> payload = OpenBundle(bytes);
  ASSERT_TRUE(payload.ok());
  auto decoded = DecodeModelBundle(SealBundle(std::string(*payload) + "x"));
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(decoded.status().message(), "bundle: trailing bytes after the last section");
}

TEST_F(ModelCodecTest, ATruncatedPayloadIsDataLoss) {
  const std::string bytes = EncodeModelBundle(model());
  const absl::StatusOr<absl::string_view> payload = OpenBundle(bytes);
  ASSERT_TRUE(payload.ok());
  for (size_t keep : {size_t{0}, size_t{100}, payload->size() / 2, payload->size() - 1}) {
    auto decoded = DecodeModelBundle(SealBundle(payload->substr(0, keep)));
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << "keep " << keep;
  }
}

}  // namespace
}  // namespace perfcast
