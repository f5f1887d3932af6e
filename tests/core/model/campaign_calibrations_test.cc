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
#include "core/model/score_quantiles.h"
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
  scores["many"][static_cast<int>(RowKind::kOtherConfiguration)] = Scores(100, 1.0);
  scores["many"][static_cast<int>(RowKind::kMeasurement)] = Scores(100, 0.1);
  scores["few"][static_cast<int>(RowKind::kOtherConfiguration)] =
      Scores(kMinCampaignScores - 1, 1.0);
  // Results without a campaign: a query never names it.
  scores[""][static_cast<int>(RowKind::kOtherConfiguration)] = Scores(100, 1.0);
  return CampaignCalibrations::FromScores(std::move(scores));
}

TEST(CampaignCalibrationsTest, ACampaignReadsItsOwnScoresOnlyWhereItHasEnough) {
  const CampaignCalibrations calibrations = TwoCampaignsOfScores();
  EXPECT_EQ(calibrations.Campaigns(), (std::vector<std::string>{"few", "many"}));
  const CampaignCalibration* many = calibrations.Of("many");
  ASSERT_NE(many, nullptr);
  const IntervalCalibration* points = many->Find(RowKind::kOtherConfiguration, 0.9);
  ASSERT_NE(points, nullptr);
  EXPECT_NEAR(points->ScoreQuantile(RowKind::kOtherConfiguration, 0.9), 0.91, 0.01);
  // Enough for 99% uncapped (0.99 x 101 / 100 <= 1); 19 would not be enough for 90% either.
  EXPECT_NE(many->Find(RowKind::kOtherConfiguration, 0.99), nullptr);
  // Too few scores, a situation without any, and the measurement noise, which is never split: the
  // pooled calibration answers. A campaign without scores has none of its own.
  const CampaignCalibration* few = calibrations.Of("few");
  ASSERT_NE(few, nullptr);
  EXPECT_EQ(few->Find(RowKind::kOtherConfiguration, 0.9), nullptr);
  EXPECT_EQ(many->Find(RowKind::kOtherShape, 0.9), nullptr);
  EXPECT_EQ(many->Find(RowKind::kMeasurement, 0.9), nullptr);
  EXPECT_EQ(calibrations.Of("unknown"), nullptr);
  EXPECT_EQ(calibrations.Of(""), nullptr);
}

TEST(CampaignCalibrationsTest, OneCampaignHasNoneOfItsOwn) {
  std::map<std::string, CampaignCalibrations::Scores> scores;
  scores["only"][static_cast<int>(RowKind::kOtherShape)] = Scores(100, 1.0);
  scores[""][static_cast<int>(RowKind::kOtherShape)] = Scores(100, 1.0);
  EXPECT_TRUE(CampaignCalibrations::FromScores(std::move(scores)).Campaigns().empty());
}

// A pooled calibration that holds `count` scores of every situation.
IntervalCalibration PooledOf(int count) {
  std::array<std::vector<double>, kRowKindCount> scores;
  for (std::vector<double>& kind : scores) kind = Scores(count, 1.0);
  return IntervalCalibration::FromScores(std::move(scores));
}

absl::Status DecodeStatus(const std::string& bytes, int pooled_count = 1000) {
  ByteReader reader(bytes);
  return CampaignCalibrations::DecodeFrom(reader, PooledOf(pooled_count)).status();
}

// The section of one campaign whose calibration is `points`.
std::string OneCampaignSection(const std::string& campaign, const IntervalCalibration& points) {
  ByteWriter writer;
  writer.PutU32(1);
  writer.PutString(campaign);
  points.EncodeTo(writer);
  points.EncodeLaterKindsTo(writer);
  return writer.Take();
}

TEST(CampaignCalibrationsTest, AGpuTheDataLackReadsThePooledScores) {
  std::map<std::string, CampaignCalibrations::Scores> scores;
  for (const char* campaign : {"a", "b"}) {
    scores[campaign][static_cast<int>(RowKind::kUnseenName)] = Scores(100, 1.0);
    scores[campaign][static_cast<int>(RowKind::kUnseenHardware)] = Scores(100, 3.0);
  }
  const CampaignCalibrations calibrations = CampaignCalibrations::FromScores(std::move(scores));
  const CampaignCalibration* a = calibrations.Of("a");
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a->Find(RowKind::kUnseenName, 0.9), nullptr);
  // However many scores a campaign has of a GPU the data lack, they are its few GPUs': not kept.
  EXPECT_EQ(a->Find(RowKind::kUnseenHardware, 0.9), nullptr);
  EXPECT_EQ(a->points().ScoreCount(RowKind::kUnseenHardware), 0u);
}

TEST(CampaignCalibrationsTest, RoundTripsAndRefusesCorruptBytes) {
  const CampaignCalibrations calibrations = TwoCampaignsOfScores();
  ByteWriter writer;
  calibrations.EncodeTo(writer);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  absl::StatusOr<CampaignCalibrations> decoded =
      CampaignCalibrations::DecodeFrom(reader, PooledOf(1000));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(decoded->Campaigns(), (std::vector<std::string>{"few", "many"}));
  const IntervalCalibration* before =
      calibrations.Of("many")->Find(RowKind::kOtherConfiguration, 0.9);
  const IntervalCalibration* after = decoded->Of("many")->Find(RowKind::kOtherConfiguration, 0.9);
  ASSERT_NE(before, nullptr);
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(before->ScoreQuantile(RowKind::kOtherConfiguration, 0.9),
            after->ScoreQuantile(RowKind::kOtherConfiguration, 0.9));

  // More scores over the campaigns than the pooled calibration holds (their union).
  const absl::Status more = DecodeStatus(bytes, /*pooled_count=*/50);
  EXPECT_EQ(more.code(), absl::StatusCode::kDataLoss) << more;
  EXPECT_NE(more.message().find("more scores than the pooled"), std::string::npos) << more;

  // A count of campaigns no training holds.
  std::string too_many = bytes;
  const uint32_t huge = 2000000;
  std::memcpy(too_many.data(), &huge, sizeof huge);
  EXPECT_EQ(DecodeStatus(too_many).code(), absl::StatusCode::kDataLoss);

  // The same campaign twice, and a campaign without a name.
  const IntervalCalibration none = IntervalCalibration::FromScores({});
  std::string twice = OneCampaignSection("many", none);
  twice = twice + twice.substr(sizeof(uint32_t));
  twice[0] = 2;
  const absl::Status repeated = DecodeStatus(twice);
  EXPECT_EQ(repeated.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(repeated.message().find("repeated"), std::string::npos) << repeated;
  EXPECT_EQ(DecodeStatus(OneCampaignSection("", none)).code(), absl::StatusCode::kDataLoss);

  // Scores of the situations that stay pooled, claimed for a campaign.
  for (const RowKind pooled : {RowKind::kMeasurement, RowKind::kCampaignSpread}) {
    std::array<std::vector<double>, kRowKindCount> claimed;
    claimed[static_cast<int>(pooled)] = Scores(50, 0.1);
    const absl::Status status =
        DecodeStatus(OneCampaignSection("many", IntervalCalibration::FromScores(claimed)));
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(status.message().find("pooled situation"), std::string::npos) << status;
  }
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
  auto trained = TrainOn(RecordsOfASteadyAndAnErraticCampaign());
  ASSERT_NE(trained, nullptr);
  // Answers averaged over their anchors, as format 20 does: only the calibration differs.
  auto model = testing::AsFormat22(*trained);
  ASSERT_NE(model, nullptr);
  auto pooled = AsFormat20(*trained);
  ASSERT_NE(pooled, nullptr);
  const int batches[] = {8, 32, 512};
  for (const char* campaign : {"steady", "erratic"}) {
    Configuration configuration = kMeasured;
    configuration.campaign = campaign;
    // A new shape of a measured configuration, whose anchors are of its own campaign.
    const PredictionQuery query{configuration, {300, 700}};
    auto own = model->Predict(query, batches, 0.9);
    auto then = pooled->Predict(query, batches, 0.9);
    auto whole = model->Predict(query, batches, 0.9, IntervalScope::kWholeCurve);
    ASSERT_TRUE(own.ok() && then.ok() && whole.ok());
    for (size_t i = 0; i < own->size(); ++i) {
      // A bound for every point at once, pooled, is no narrower than each point's own.
      EXPECT_GE(HalfWidth((*whole)[i]), HalfWidth((*own)[i]))
          << campaign << ", batch " << batches[i];
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

TEST(CampaignCalibrationsModelTest, ABundleKeepsEachCampaignsCalibration) {
  auto model = TrainOn(RecordsOfASteadyAndAnErraticCampaign());
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(PerfcastModelInternal::StateOf(*model).campaign_calibrations.Campaigns(),
            (std::vector<std::string>{"erratic", "steady"}));
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> decoded =
      DecodeModelBundle(EncodeModelBundle(*model));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  Configuration configuration = kMeasured;
  configuration.campaign = "erratic";
  const int batches[] = {8, 32, 512};
  for (const IntervalScope scope : {IntervalScope::kEachPoint, IntervalScope::kWholeCurve}) {
    auto before = model->Predict({configuration, {300, 700}}, batches, 0.9, scope);
    auto after = (*decoded)->Predict({configuration, {300, 700}}, batches, 0.9, scope);
    ASSERT_TRUE(before.ok() && after.ok());
    for (size_t i = 0; i < before->size(); ++i) {
      EXPECT_EQ((*before)[i].lower_tokens_per_s, (*after)[i].lower_tokens_per_s);
      EXPECT_EQ((*before)[i].upper_tokens_per_s, (*after)[i].upper_tokens_per_s);
    }
  }
}

TEST(CampaignCalibrationsModelTest, OneCampaignAnswersAsThePooledCalibrationDid) {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  // One curve of one configuration left: a new shape of it reads the one-curve situation.
  std::erase_if(records, [](const BenchmarkRecord& r) {
    return r.configuration.hardware == "gpu-b" && r.configuration.num_gpus == 4 &&
           r.shape.input_tokens != 256;
  });
  for (BenchmarkRecord& r : records) r.configuration.campaign = r.source = "solo";
  auto trained = TrainOn(records);
  ASSERT_NE(trained, nullptr);
  auto model = testing::AsFormat22(*trained);
  ASSERT_NE(model, nullptr);
  auto pooled = AsFormat20(*trained);
  ASSERT_NE(pooled, nullptr);
  Configuration measured = kMeasured;
  measured.campaign = "solo";
  Configuration unseen = measured;
  unseen.num_gpus = 8;
  Configuration one_curve = measured;
  one_curve.hardware = "gpu-b";
  one_curve.num_gpus = 4;
  const int batches[] = {8, 32, 64, 512};
  for (const PredictionQuery& query :
       {PredictionQuery{measured, {256, 256}}, PredictionQuery{measured, {300, 700}},
        PredictionQuery{unseen, {256, 256}}, PredictionQuery{one_curve, {512, 512}}}) {
    for (const double level : {0.9, 0.99}) {
      for (const IntervalScope scope : {IntervalScope::kEachPoint, IntervalScope::kWholeCurve}) {
        auto own = model->Predict(query, batches, level, scope);
        auto then = pooled->Predict(query, batches, level, scope);
        ASSERT_TRUE(own.ok() && then.ok());
        for (size_t i = 0; i < own->size(); ++i) {
          EXPECT_EQ((*own)[i].lower_tokens_per_s, (*then)[i].lower_tokens_per_s);
          EXPECT_EQ((*own)[i].upper_tokens_per_s, (*then)[i].upper_tokens_per_s);
        }
      }
    }
  }
}

TEST(CampaignCalibrationsModelTest, CalibrationsOfACampaignNoCurveWasMeasuredInAreDataLoss) {
  auto model = TrainOn(RecordsOfASteadyAndAnErraticCampaign());
  ASSERT_NE(model, nullptr);
  std::array<std::vector<double>, kRowKindCount> scores;
  scores[static_cast<int>(RowKind::kOtherShape)] = Scores(kMinCampaignScores, 1.0);
  const std::string section =
      OneCampaignSection("elsewhere", IntervalCalibration::FromScores(scores));
  const absl::Status status =
      DecodeModelBundle(testing::SealedAsFormat(testing::Format20PayloadOf(*model) + section, 21))
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("'elsewhere'"), std::string::npos) << status;
}

}  // namespace
}  // namespace perfcast
