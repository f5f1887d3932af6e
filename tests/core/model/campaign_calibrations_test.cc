// Each campaign's own throughput calibration (docs/METHOD.md §5, "A campaign's own scores").
#include "core/model/campaign_calibrations.h"

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/bundle/bundle_format.h"
#include "core/bundle/model_codec.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "core/util/byte_coding.h"
#include "gtest/gtest.h"
#include "tests/core/older_bundles.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

std::vector<double> Scores(int count, double scale) {
  std::vector<double> scores;
  for (int i = 0; i < count; ++i) scores.push_back(scale * (i + 1) / count);
  return scores;
}

CampaignCalibrations TwoCampaignsOfScores() {
  std::map<std::string, CampaignCalibrations::Scores> scores;
  scores["many"].points[static_cast<int>(RowKind::kOtherConfiguration)] = Scores(100, 1.0);
  scores["many"].whole_curves[static_cast<int>(RowKind::kOtherConfiguration)] = Scores(30, 2.0);
  scores["many"].points[static_cast<int>(RowKind::kMeasurement)] = Scores(100, 0.1);
  scores["few"].points[static_cast<int>(RowKind::kOtherConfiguration)] =
      Scores(CampaignCalibrations::kMinScores - 1, 1.0);
  return CampaignCalibrations::FromScores(std::move(scores));
}

TEST(CampaignCalibrationsTest, ACampaignReadsItsOwnScoresOnlyWhereItHasEnough) {
  const CampaignCalibrations calibrations = TwoCampaignsOfScores();
  const IntervalCalibration* many =
      calibrations.Find("many", RowKind::kOtherConfiguration, 0.9, IntervalScope::kEachPoint);
  ASSERT_NE(many, nullptr);
  EXPECT_NEAR(many->ScoreQuantile(RowKind::kOtherConfiguration, 0.9), 0.91, 0.01);
  const IntervalCalibration* curves =
      calibrations.Find("many", RowKind::kOtherConfiguration, 0.9, IntervalScope::kWholeCurve);
  ASSERT_NE(curves, nullptr);
  EXPECT_GT(curves->ScoreQuantile(RowKind::kOtherConfiguration, 0.9), 1.5);
  // 30 whole curves are too few for 99% uncapped (0.99 x 31 / 30 > 1); 100 points are enough.
  EXPECT_EQ(
      calibrations.Find("many", RowKind::kOtherConfiguration, 0.99, IntervalScope::kWholeCurve),
      nullptr);
  EXPECT_NE(
      calibrations.Find("many", RowKind::kOtherConfiguration, 0.99, IntervalScope::kEachPoint),
      nullptr);
  // Too few scores, a situation without any, a campaign without any, and the measurement noise,
  // which is never split: the pooled calibration answers.
  EXPECT_EQ(calibrations.Find("few", RowKind::kOtherConfiguration, 0.9, IntervalScope::kEachPoint),
            nullptr);
  EXPECT_EQ(calibrations.Find("many", RowKind::kOtherShape, 0.9, IntervalScope::kEachPoint),
            nullptr);
  EXPECT_EQ(
      calibrations.Find("unknown", RowKind::kOtherConfiguration, 0.9, IntervalScope::kEachPoint),
      nullptr);
  EXPECT_EQ(calibrations.Find("many", RowKind::kMeasurement, 0.9, IntervalScope::kEachPoint),
            nullptr);
}

TEST(CampaignCalibrationsTest, RoundTripsAndRefusesCorruptBytes) {
  const CampaignCalibrations calibrations = TwoCampaignsOfScores();
  ByteWriter writer;
  calibrations.EncodeTo(writer);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  absl::StatusOr<CampaignCalibrations> decoded = CampaignCalibrations::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(decoded->Campaigns(), (std::vector<std::string>{"few", "many"}));
  for (const IntervalScope scope : {IntervalScope::kEachPoint, IntervalScope::kWholeCurve}) {
    const IntervalCalibration* before =
        calibrations.Find("many", RowKind::kOtherConfiguration, 0.9, scope);
    const IntervalCalibration* after =
        decoded->Find("many", RowKind::kOtherConfiguration, 0.9, scope);
    ASSERT_NE(before, nullptr);
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(before->ScoreQuantile(RowKind::kOtherConfiguration, 0.9),
              after->ScoreQuantile(RowKind::kOtherConfiguration, 0.9));
  }

  // A count of campaigns no training holds.
  std::string too_many = bytes;
  const uint32_t huge = 2000000;
  std::memcpy(too_many.data(), &huge, sizeof huge);
  ByteReader too_many_reader(too_many);
  EXPECT_EQ(CampaignCalibrations::DecodeFrom(too_many_reader).status().code(),
            absl::StatusCode::kDataLoss);

  // The same campaign twice.
  ByteWriter twice;
  twice.PutU32(2);
  for (int i = 0; i < 2; ++i) {
    twice.PutString("many");
    for (int scope = 0; scope < 2; ++scope) {
      IntervalCalibration::FromScores({}).EncodeTo(twice);
      IntervalCalibration::FromScores({}).EncodeLaterKindsTo(twice);
    }
  }
  const std::string twice_bytes = twice.Take();
  ByteReader twice_reader(twice_bytes);
  const absl::Status repeated = CampaignCalibrations::DecodeFrom(twice_reader).status();
  EXPECT_EQ(repeated.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(repeated.message().find("repeated"), std::string::npos) << repeated;

  // Measurement scores, which stay pooled, claimed for a campaign.
  std::array<std::vector<double>, kRowKindCount> measured;
  measured[static_cast<int>(RowKind::kMeasurement)] = Scores(50, 0.1);
  ByteWriter claimed;
  claimed.PutU32(1);
  claimed.PutString("many");
  for (const IntervalCalibration& calibration :
       {IntervalCalibration::FromScores(measured), IntervalCalibration::FromScores({})}) {
    calibration.EncodeTo(claimed);
    calibration.EncodeLaterKindsTo(claimed);
  }
  const std::string claimed_bytes = claimed.Take();
  ByteReader claimed_reader(claimed_bytes);
  const absl::Status pooled = CampaignCalibrations::DecodeFrom(claimed_reader).status();
  EXPECT_EQ(pooled.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(pooled.message().find("pooled situation"), std::string::npos) << pooled;
}

// Synthetic curves measured twice: by a steady harness, and by an erratic one whose every curve
// lies off the law by its own factor, so that its curves predict each other worse.
std::vector<BenchmarkRecord> RecordsOfASteadyAndAnErraticCampaign() {
  std::vector<BenchmarkRecord> records;
  for (const char* campaign : {"steady", "erratic"}) {
    for (BenchmarkRecord r : testing::SyntheticRecords()) {
      r.configuration.campaign = campaign;
      r.source = campaign;
      if (r.configuration.campaign == "erratic") {
        r.throughput_tokens_per_s *=
            std::exp(0.5 * std::sin(1.7 * r.configuration.num_gpus + r.shape.input_tokens / 97.0 +
                                    (r.configuration.hardware == "gpu-b" ? 2.3 : 0)));
      }
      records.push_back(r);
    }
  }
  return records;
}

std::shared_ptr<const PerfcastModel> TrainOn(const std::vector<BenchmarkRecord>& records) {
  auto trained = PerfcastModel::Train(records, TrainOptions{});
  EXPECT_TRUE(trained.ok()) << trained.status();
  return trained.ok() ? *trained : nullptr;
}

// The same model as format 20 saved it, which calibrates every campaign with the pooled scores.
std::shared_ptr<const PerfcastModel> AsFormat20(const PerfcastModel& model) {
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> decoded =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format20PayloadOf(model), 20));
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? *decoded : nullptr;
}

double HalfWidth(const PointPrediction& p) {
  return std::log(p.throughput_tokens_per_s / p.lower_tokens_per_s);
}

const Configuration kMeasured{"gpu-a", 2, "vllm", "org/model-7b", "fp16"};

TEST(CampaignCalibrationsModelTest, ACampaignThatErrsMoreReadsItsOwnWiderIntervals) {
  auto model = TrainOn(RecordsOfASteadyAndAnErraticCampaign());
  ASSERT_NE(model, nullptr);
  auto pooled = AsFormat20(*model);
  ASSERT_NE(pooled, nullptr);
  const int batches[] = {8, 32, 512};
  for (const char* campaign : {"steady", "erratic"}) {
    Configuration configuration = kMeasured;
    configuration.campaign = campaign;
    // A new shape of a measured configuration, whose anchors are of its own campaign. (Each
    // campaign's dozen held-out curves are too few for its own whole-curve calibration.)
    const PredictionQuery query{configuration, {300, 700}};
    auto own = model->Predict(query, batches, 0.9);
    auto then = pooled->Predict(query, batches, 0.9);
    ASSERT_TRUE(own.ok() && then.ok());
    for (size_t i = 0; i < own->size(); ++i) {
      ASSERT_EQ((*own)[i].prediction_case, PredictionCase::kExtrapolatedShape);
      EXPECT_EQ((*own)[i].throughput_tokens_per_s, (*then)[i].throughput_tokens_per_s)
          << "the calibration moves no answer";
      if (std::string(campaign) == "steady") {
        EXPECT_LT(HalfWidth((*own)[i]), HalfWidth((*then)[i]))
            << "steady: narrower than the pooled campaigns', batch " << batches[i];
      } else {
        EXPECT_GT(HalfWidth((*own)[i]), HalfWidth((*then)[i]))
            << "erratic: wider than the pooled campaigns', batch " << batches[i];
      }
    }
  }
}

TEST(CampaignCalibrationsModelTest, OneCampaignAnswersAsThePooledCalibrationDid) {
  auto model = TrainOn(testing::SyntheticRecords());
  ASSERT_NE(model, nullptr);
  auto pooled = AsFormat20(*model);
  ASSERT_NE(pooled, nullptr);
  Configuration unseen = kMeasured;
  unseen.num_gpus = 8;
  const int batches[] = {8, 32, 64, 512};
  for (const PredictionQuery& query :
       {PredictionQuery{kMeasured, {256, 256}}, PredictionQuery{kMeasured, {300, 700}},
        PredictionQuery{unseen, {256, 256}}}) {
    for (const IntervalScope scope : {IntervalScope::kEachPoint, IntervalScope::kWholeCurve}) {
      auto own = model->Predict(query, batches, 0.9, scope);
      auto then = pooled->Predict(query, batches, 0.9, scope);
      ASSERT_TRUE(own.ok() && then.ok());
      for (size_t i = 0; i < own->size(); ++i) {
        EXPECT_EQ((*own)[i].lower_tokens_per_s, (*then)[i].lower_tokens_per_s);
        EXPECT_EQ((*own)[i].upper_tokens_per_s, (*then)[i].upper_tokens_per_s);
      }
    }
  }
}

TEST(CampaignCalibrationsModelTest, CalibrationsOfACampaignNoCurveWasMeasuredInAreDataLoss) {
  auto model = TrainOn(RecordsOfASteadyAndAnErraticCampaign());
  ASSERT_NE(model, nullptr);
  std::map<std::string, CampaignCalibrations::Scores> scores;
  scores["elsewhere"].points[static_cast<int>(RowKind::kOtherShape)] = Scores(50, 1.0);
  ByteWriter section;
  CampaignCalibrations::FromScores(std::move(scores)).EncodeTo(section);
  const absl::Status status =
      DecodeModelBundle(SealBundle(testing::Format20PayloadOf(*model) + section.Take())).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("'elsewhere'"), std::string::npos) << status;
}

}  // namespace
}  // namespace perfcast
