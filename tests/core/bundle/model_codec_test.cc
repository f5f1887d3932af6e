#include "core/bundle/model_codec.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/bundle/bundle_format.h"
#include "core/catalogue/catalogue.h"
#include "core/fit/anchor_curve.h"
#include "core/ml/xgboost_regressor.h"
#include "core/model/campaign_calibrations.h"
#include "core/model/campaign_levels.h"
#include "core/model/error_predictor.h"
#include "core/model/interval_calibration.h"
#include "core/model/latency_model.h"
#include "core/model/model_info.h"
#include "core/model/perfcast_model.h"
#include "core/model/physical_exponents.h"
#include "core/model/workload_features.h"
#include "core/model/workload_similarity.h"
#include "core/util/byte_coding.h"
#include "core/util/status_macros.h"
#include "gtest/gtest.h"
#include "tests/core/older_bundles.h"
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
  absl::StatusOr<PhysicalExponents> exponents = PhysicalExponents::DecodeFrom(reader);
  ASSERT_TRUE(exponents.ok()) << exponents.status();
  EXPECT_EQ(*reader.GetU32(), 0u);  // trained without a catalogue
  ASSERT_TRUE(WorkloadScales::DecodeFrom(reader).ok());
  ASSERT_TRUE(ErrorPredictor::DecodeFrom(reader).ok());
  absl::StatusOr<IntervalCalibration> points = IntervalCalibration::DecodeFrom(reader);
  ASSERT_TRUE(points.ok());
  ASSERT_TRUE(CampaignLevels::DecodeFrom(reader).ok());
  absl::StatusOr<LatencyModel> latency =
      LatencyModel::DecodeFrom(reader, nullptr, kBundleFormatVersion);  // format 8
  ASSERT_TRUE(latency.ok()) << latency.status();
  absl::StatusOr<IntervalCalibration> whole_curves = IntervalCalibration::DecodeFrom(reader);
  ASSERT_TRUE(whole_curves.ok());  // format 9: whole curves
  // Format 15: each calibration's later kinds.
  ASSERT_TRUE(points->DecodeLaterKindsFrom(reader).ok());
  ASSERT_TRUE(whole_curves->DecodeLaterKindsFrom(reader).ok());
  // Format 16: the latency model's sibling curves and weights.
  ASSERT_TRUE(latency->DecodeSiblingsFrom(reader).ok());
  // Format 17: its disagreement quantiles by output length.
  ASSERT_TRUE(latency->DecodeDisagreementByOutputFrom(reader).ok());
  // Format 18: the shape's physical exponent.
  ASSERT_TRUE(exponents->DecodeShapeAndCeilingFrom(reader).ok());
  EXPECT_TRUE(exponents->shape.has_value());
  // Format 19: the latency model's 99th percentiles.
  ASSERT_TRUE(latency->DecodeTailsFrom(reader).ok());
  // Format 20: each campaign's own TTFT scores.
  ASSERT_TRUE(latency->DecodeCampaignScoresFrom(reader).ok());
  // Format 21: each campaign's own throughput calibration for each point.
  absl::StatusOr<CampaignCalibrations> campaigns =
      CampaignCalibrations::DecodeFrom(reader, *points);
  ASSERT_TRUE(campaigns.ok()) << campaigns.status();
  // Format 22: the scores of hardware the data lack, pooled and whole-curve.
  ASSERT_TRUE(points->DecodeUnseenHardwareFrom(reader).ok());
  ASSERT_TRUE(whole_curves->DecodeUnseenHardwareFrom(reader).ok());
  // Format 26: the weights of TTFT siblings more than one field apart.
  ASSERT_TRUE(latency->DecodeDistantSiblingWeightsFrom(reader).ok());
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

// Results of catalogued names, so that every anchor has a roofline: two GPUs, three GPU counts,
// four shapes, batches 1-64.
std::vector<BenchmarkRecord> CataloguedRecords() {
  std::vector<BenchmarkRecord> records;
  for (const auto& [hardware, speed] :
       std::vector<std::pair<std::string, double>>{{"NVIDIA H100", 1.8}, {"NVIDIA A100", 1.0}}) {
    for (int gpus : {1, 2, 4}) {
      for (int tokens : {128, 256, 512, 1024}) {
        for (int batch : {1, 4, 16, 64}) {
          BenchmarkRecord record;
          record.configuration = {hardware, gpus, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};
          record.shape = {tokens, tokens};
          record.batch_size = batch;
          record.throughput_tokens_per_s = 90.0 * speed * std::pow(gpus, 0.8) * batch /
                                           (1 + batch / 48.0) / (1 + tokens / 800.0);
          record.source = "catalogued";
          records.push_back(record);
        }
      }
    }
  }
  return records;
}

// A model trained on `records` with the shipped catalogue, whose anchors have rooflines.
absl::StatusOr<std::shared_ptr<const PerfcastModel>> TrainCatalogued(
    const std::vector<BenchmarkRecord>& records) {
  PERFCAST_ASSIGN_OR_RETURN(Catalogue catalogue,
                            Catalogue::Load(std::string(PERFCAST_SOURCE_DIR) + "/data/catalogue"));
  TrainOptions options;
  options.catalogue = std::make_shared<const Catalogue>(std::move(catalogue));
  return PerfcastModel::Train(records, options);
}

// The throughputs `model` predicts when its bundle is read as format `version`: today's bundle,
// format 17's, or format 14's payload (which formats 12 and 13 share) stamped with an older
// version.
std::vector<double> ThroughputsAsFormat(const PerfcastModel& model, uint8_t version,
                                        const PredictionQuery& query,
                                        absl::Span<const int> batches) {
  auto decoded = DecodeModelBundle(
      version == kBundleFormatVersion ? EncodeModelBundle(model)
      : version == 22 ? testing::SealedAsFormat(testing::Format25PayloadOf(model), version)
      : version == 17 ? testing::SealedAsFormat(testing::Format17PayloadOf(model), version)
                      : testing::SealedAsFormat(testing::Format14PayloadOf(model), version));
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  if (!decoded.ok()) return {};
  auto predicted = (*decoded)->Predict(query, batches, 0.9);
  EXPECT_TRUE(predicted.ok()) << predicted.status();
  if (!predicted.ok()) return {};
  std::vector<double> out;
  for (const PointPrediction& p : *predicted) out.push_back(p.throughput_tokens_per_s);
  return out;
}

TEST(ModelCodecRooflineTest, ADecodedModelFollowsTheRooflinesAndAnOlderFormatItsFits) {
  auto trained = TrainCatalogued(CataloguedRecords());
  ASSERT_TRUE(trained.ok()) << trained.status();
  const PredictionQuery query{{"NVIDIA H100", 2, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"},
                              {256, 256}};
  const int batches[] = {16, 1024};
  auto before = (*trained)->Predict(query, batches, 0.9);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ((*before)[1].prediction_case, PredictionCase::kExtrapolatedBatch);

  const std::vector<double> after =
      ThroughputsAsFormat(**trained, kBundleFormatVersion, query, batches);
  ASSERT_EQ(after.size(), 2u);
  for (int i = 0; i < 2; ++i) EXPECT_DOUBLE_EQ(after[i], (*before)[i].throughput_tokens_per_s);

  // Under format 13 these sweeps of four points follow their rooflines as they were trained to,
  // as under format 17, whose anchors of other shapes are not scaled by the shape's step.
  const std::vector<double> as_format17 = ThroughputsAsFormat(**trained, 17, query, batches);
  const std::vector<double> as_format13 = ThroughputsAsFormat(**trained, 13, query, batches);
  ASSERT_EQ(as_format17.size(), 2u);
  ASSERT_EQ(as_format13.size(), 2u);
  EXPECT_DOUBLE_EQ(as_format13[1], as_format17[1]);
  // Format 22 averages the anchors as format 17 does: what differs is the shape's step.
  const std::vector<double> as_format22 = ThroughputsAsFormat(**trained, 22, query, batches);
  ASSERT_EQ(as_format22.size(), 2u);
  EXPECT_NE(as_format17[1], as_format22[1]);

  // Under format 12, whose anchors followed their fits past their last batch, the measured batch
  // reads the same, the one past every curve does not.
  const std::vector<double> as_format12 = ThroughputsAsFormat(**trained, 12, query, batches);
  ASSERT_EQ(as_format12.size(), 2u);
  EXPECT_DOUBLE_EQ(as_format12[0], (*before)[0].throughput_tokens_per_s);
  EXPECT_NE(as_format12[1], as_format13[1]);
}

TEST(ModelCodecRooflineTest, AFormat13BundleKeepsAPublishedMaximumsLineBelowIt) {
  std::vector<BenchmarkRecord> records = CataloguedRecords();
  PredictionQuery query{{"NVIDIA H100", 1, "tensorrt-llm", "meta-llama/Meta-Llama-3-8B", "fp16"},
                        {128, 128}};
  query.configuration.batch_semantics = BatchSemantics::kMaxThroughput;
  BenchmarkRecord maximum;
  maximum.configuration = query.configuration;
  maximum.shape = query.shape;
  maximum.batch_size = kSaturationBatchSize;
  maximum.throughput_tokens_per_s = 9000;
  maximum.source = "catalogued";
  records.push_back(maximum);
  auto trained = TrainCatalogued(records);
  ASSERT_TRUE(trained.ok()) << trained.status();
  const int batches[] = {16, kSaturationBatchSize};
  auto before = (*trained)->Predict(query, batches, 0.9);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ((*before)[1].prediction_case, PredictionCase::kMeasured);

  const std::vector<double> after =
      ThroughputsAsFormat(**trained, kBundleFormatVersion, query, batches);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_DOUBLE_EQ(after[0], (*before)[0].throughput_tokens_per_s);

  // Format 13's correction was trained on the maximum's straight line below it.
  const std::vector<double> as_format13 = ThroughputsAsFormat(**trained, 13, query, batches);
  ASSERT_EQ(as_format13.size(), 2u);
  EXPECT_DOUBLE_EQ(as_format13[1], (*before)[1].throughput_tokens_per_s);
  EXPECT_NE(as_format13[0], (*before)[0].throughput_tokens_per_s);
}

}  // namespace
}  // namespace perfcast
