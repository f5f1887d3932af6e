// Normalised split-conformal intervals (ErrorPredictor + IntervalCalibration) on synthetic
// predictions whose log error follows a known law: Laplace noise whose scale grows with one
// feature.
#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/ml/feature_matrix.h"
#include "core/ml/xgboost_regressor.h"
#include "core/model/error_predictor.h"
#include "core/model/interval_calibration.h"
#include "core/model/score_quantiles.h"
#include "core/util/byte_coding.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

// Noise scale of the log error, known to the test, seen by the predictor through anchor_spread.
double ScaleAt(double spread) { return 0.02 + 0.3 * spread; }

std::vector<ErrorRecord> Draw(int count, std::mt19937_64& random) {
  std::uniform_real_distribution<double> spread(0, 1);
  std::exponential_distribution<double> magnitude(1);
  std::vector<ErrorRecord> records;
  for (int i = 0; i < count; ++i) {
    ErrorRecord record;
    record.features.prediction_case = PredictionCase::kExtrapolatedShape;
    record.features.shape = {256, 256};
    record.features.batch_size = 16;
    record.features.anchor_count = 3;
    record.features.anchor_spread = spread(random);
    // |Laplace(0, s)| is exponential with mean s.
    record.absolute_log_error = ScaleAt(record.features.anchor_spread) * magnitude(random);
    records.push_back(record);
  }
  return records;
}

class ConformalIntervalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 random(7);
    const std::vector<ErrorRecord> training = Draw(3000, random);
    const std::vector<ErrorRecord> calibration = Draw(3000, random);
    test_ = Draw(20000, random);
    absl::StatusOr<ErrorPredictor> predictor = ErrorPredictor::Train(training, 1, 1);
    ASSERT_TRUE(predictor.ok()) << predictor.status();
    predictor_.emplace(*std::move(predictor));
    std::array<std::vector<double>, kRowKindCount> scores;
    for (const ErrorRecord& record : calibration) {
      scores[static_cast<int>(RowKind::kOtherShape)].push_back(
          record.absolute_log_error / predictor_->ExpectedAbsoluteLogError(record.features));
    }
    calibration_ = IntervalCalibration::FromScores(std::move(scores));
  }

  double HalfWidth(const ErrorFeatures& features, double level) const {
    return calibration_.ScoreQuantile(PredictionCase::kExtrapolatedShape, level) *
           predictor_->ExpectedAbsoluteLogError(features);
  }

  std::vector<ErrorRecord> test_;
  std::optional<ErrorPredictor> predictor_;
  IntervalCalibration calibration_;
};

TEST_F(ConformalIntervalTest, CoverageMatchesEveryNominalLevel) {
  for (double level : {0.5, 0.8, 0.9, 0.95}) {
    int inside = 0;
    for (const ErrorRecord& record : test_) {
      inside += record.absolute_log_error <= HalfWidth(record.features, level);
    }
    const double coverage = static_cast<double>(inside) / test_.size();
    EXPECT_NEAR(coverage, level, 0.05) << "level " << level;
  }
}

TEST_F(ConformalIntervalTest, IntervalsAreNarrowWhereTheErrorIsSmall) {
  ErrorFeatures calm = test_[0].features, noisy = test_[0].features;
  calm.anchor_spread = 0.05;
  noisy.anchor_spread = 0.95;
  // The true scales differ by a factor of 6.9; the predicted ones should clearly follow.
  EXPECT_GT(HalfWidth(noisy, 0.9), 3 * HalfWidth(calm, 0.9));
}

TEST_F(ConformalIntervalTest, HigherLevelsGiveWiderIntervals) {
  const ErrorFeatures& features = test_[0].features;
  EXPECT_LT(HalfWidth(features, 0.5), HalfWidth(features, 0.8));
  EXPECT_LT(HalfWidth(features, 0.8), HalfWidth(features, 0.95));
}

TEST(ErrorPredictorTest, NeedsSomeRecordsToLearnFrom) {
  EXPECT_EQ(ErrorPredictor::Train({}, 1, 1).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ConformalIntervalTest, CalibrationRoundTripKeepsEveryQuantile) {
  ByteWriter writer;
  calibration_.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::StatusOr<IntervalCalibration> decoded = IntervalCalibration::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(reader.empty());
  for (PredictionCase prediction_case :
       {PredictionCase::kMeasured, PredictionCase::kExtrapolatedShape,
        PredictionCase::kNewConfiguration}) {
    for (double level : {0.1, 0.5, 0.9, 0.99}) {
      EXPECT_EQ(decoded->ScoreQuantile(prediction_case, level),
                calibration_.ScoreQuantile(prediction_case, level));
    }
  }
}

TEST(IntervalCalibrationTest, WeightedScoresCoverEachGroupAsMuchAsTheGroupsCount) {
  // A large group with small scores and a small one with large scores. Pooled, the 90% quantile
  // is the large group's; weighted so that each group counts once, it reaches into the small
  // group's scores, as it must for a draw of the group first (a campaign the data lack).
  std::array<std::vector<double>, kRowKindCount> scores;
  std::array<std::vector<double>, kRowKindCount> weights;
  const int spread = static_cast<int>(RowKind::kCampaignSpread);
  for (int i = 0; i < 1000; ++i) {
    scores[spread].push_back(0.1 * (i + 1) / 1000.0);
    weights[spread].push_back(1.0 / 1000);
  }
  for (int i = 0; i < 20; ++i) {
    scores[spread].push_back(1.0 + i / 20.0);
    weights[spread].push_back(1.0 / 20);
  }
  const IntervalCalibration pooled = IntervalCalibration::FromScores(scores);
  const IntervalCalibration balanced = IntervalCalibration::FromScores(scores, weights);
  EXPECT_LE(pooled.ScoreQuantile(RowKind::kCampaignSpread, 0.9), 0.1);
  EXPECT_GE(balanced.ScoreQuantile(RowKind::kCampaignSpread, 0.9), 1.0);
  // Half the weight is the large group's: the 40% quantile stays inside it.
  EXPECT_LE(balanced.ScoreQuantile(RowKind::kCampaignSpread, 0.4), 0.1);
  // A group of one record weighs as much as the 1000: above one half, the quantile is its score.
  scores[spread].push_back(5.0);
  weights[spread].push_back(1.0);
  const IntervalCalibration with_single = IntervalCalibration::FromScores(scores, weights);
  EXPECT_DOUBLE_EQ(with_single.ScoreQuantile(RowKind::kCampaignSpread, 0.9), 5.0);
  EXPECT_EQ(balanced.ScoreCount(RowKind::kCampaignSpread), 1020u);
}

TEST(IntervalCalibrationTest, QuantilesOfTheWrongSizeAreDataLoss) {
  ByteWriter writer;
  writer.PutU32(10);  // scores of the first kind
  writer.PutU32(3);   // but 3 quantiles, not 201
  for (int i = 0; i < 3; ++i) writer.PutDouble(i);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::Status status = IntervalCalibration::DecodeFrom(reader).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "bundle: interval calibration has the wrong size");
}

TEST(IntervalCalibrationTest, ANegativeOrNonFiniteQuantileIsDataLoss) {
  for (const double bad : {-0.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    ByteWriter writer;
    writer.PutU32(10);
    writer.PutU32(201);
    // The bad value first, so that only its own check can refuse it.
    for (int i = 0; i < 201; ++i) writer.PutDouble(i == 0 ? bad : 1 + i / 100.0);
    const std::string bytes = writer.Take();
    ByteReader reader(bytes);
    const absl::Status status = IntervalCalibration::DecodeFrom(reader).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_EQ(status.message(), "bundle: interval calibration: a bad score quantile") << bad;
  }
}

TEST(IntervalCalibrationTest, AScoreCountNoTrainingHoldsIsDataLoss) {
  ByteWriter writer;
  writer.PutU32(kMaxStoredScoreCount + 1);
  writer.PutU32(201);
  for (int i = 0; i < 201; ++i) writer.PutDouble(i / 100.0);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  const absl::Status status = IntervalCalibration::DecodeFrom(reader).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "bundle: interval calibration has the wrong size");
}

TEST(IntervalCalibrationTest, ANewShapeOfOneCurveHasItsOwnQuantilesOrBorrowsANewShapes) {
  std::array<std::vector<double>, kRowKindCount> scores;
  for (int i = 1; i <= 100; ++i) {
    scores[static_cast<int>(RowKind::kOtherShape)].push_back(0.01 * i);
    scores[static_cast<int>(RowKind::kOtherConfiguration)].push_back(0.05 * i);
  }
  const IntervalCalibration without = IntervalCalibration::FromScores(scores);
  EXPECT_EQ(without.ScoreCount(RowKind::kOneCurveShape), 0u);
  EXPECT_EQ(without.ScoreQuantile(RowKind::kOneCurveShape, 0.9),
            without.ScoreQuantile(RowKind::kOtherShape, 0.9));
  for (int i = 1; i <= 100; ++i)
    scores[static_cast<int>(RowKind::kOneCurveShape)].push_back(0.03 * i);
  const IntervalCalibration with = IntervalCalibration::FromScores(scores);
  EXPECT_NEAR(with.ScoreQuantile(RowKind::kOneCurveShape, 0.5),
              3 * with.ScoreQuantile(RowKind::kOtherShape, 0.5), 1e-9);

  // Fewer scores than a level needs (level (n + 1) / n > 1): that level borrows; a lower one,
  // or enough scores, reads its own.
  std::array<std::vector<double>, kRowKindCount> few = scores;
  few[static_cast<int>(RowKind::kOneCurveShape)].resize(5);
  const IntervalCalibration five = IntervalCalibration::FromScores(few);
  EXPECT_EQ(five.KindRead(RowKind::kOneCurveShape, 0.9), RowKind::kOtherShape);
  EXPECT_EQ(five.ScoreQuantile(RowKind::kOneCurveShape, 0.9),
            five.ScoreQuantile(RowKind::kOtherShape, 0.9));
  EXPECT_EQ(five.KindRead(RowKind::kOneCurveShape, 0.5), RowKind::kOneCurveShape);
  EXPECT_NE(five.ScoreQuantile(RowKind::kOneCurveShape, 0.5),
            five.ScoreQuantile(RowKind::kOtherShape, 0.5));
  few[static_cast<int>(RowKind::kOneCurveShape)] =
      scores[static_cast<int>(RowKind::kOneCurveShape)];
  few[static_cast<int>(RowKind::kOneCurveShape)].resize(9);
  const IntervalCalibration nine = IntervalCalibration::FromScores(few);
  EXPECT_EQ(nine.KindRead(RowKind::kOneCurveShape, 0.9), RowKind::kOneCurveShape);
  EXPECT_EQ(nine.KindRead(RowKind::kOneCurveShape, 0.95), RowKind::kOtherShape);
  EXPECT_EQ(nine.KindRead(RowKind::kOtherShape, 0.95), RowKind::kOtherShape);

  // The later kinds travel apart from the others (after a bundle's last section).
  ByteWriter writer;
  with.EncodeTo(writer);
  with.EncodeLaterKindsTo(writer);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  absl::StatusOr<IntervalCalibration> decoded = IntervalCalibration::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->ScoreCount(RowKind::kOneCurveShape), 0u) << "not read yet";
  ASSERT_TRUE(decoded->DecodeLaterKindsFrom(reader).ok());
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(decoded->ScoreCount(RowKind::kOneCurveShape), 100u);
  for (int kind = 0; kind < kRowKindCount; ++kind) {
    EXPECT_EQ(decoded->ScoreQuantile(static_cast<RowKind>(kind), 0.9),
              with.ScoreQuantile(static_cast<RowKind>(kind), 0.9))
        << "kind " << kind;
  }
  // A count of later kinds this build does not know is data loss, such as one that counts
  // kUnseenHardware among them (format 22 writes it in a section of its own).
  ByteWriter other;
  other.PutU32(kRowKindCount - kFirstLaterRowKind);
  const std::string other_bytes = other.Take();
  ByteReader other_reader(other_bytes);
  IntervalCalibration target;
  const absl::Status refused = target.DecodeLaterKindsFrom(other_reader);
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(refused.message().find("later interval kinds"), std::string::npos) << refused;
}

TEST(IntervalCalibrationTest, AGpuTheDataLackHasItsOwnQuantilesOrBorrowsAnyUnseenNames) {
  EXPECT_EQ(KindOf(PredictionCase::kNewConfiguration, UnseenField::kHardware, false),
            RowKind::kUnseenHardware);
  EXPECT_EQ(
      KindOf(PredictionCase::kNewConfiguration, UnseenField::kFrameworkModelOrPrecision, false),
      RowKind::kUnseenName);
  EXPECT_EQ(KindOf(PredictionCase::kNewConfiguration, UnseenField::kNone, false),
            RowKind::kOtherConfiguration);
  // Only a new configuration reads a name's situation.
  EXPECT_EQ(KindOf(PredictionCase::kExtrapolatedShape, UnseenField::kHardware, false),
            RowKind::kOtherShape);

  std::array<std::vector<double>, kRowKindCount> scores;
  for (int i = 1; i <= 100; ++i) {
    scores[static_cast<int>(RowKind::kOtherConfiguration)].push_back(0.01 * i);
    scores[static_cast<int>(RowKind::kUnseenName)].push_back(0.02 * i);
  }
  // Without scores of its own (a bundle before format 22), a GPU reads every unseen name's.
  const IntervalCalibration without = IntervalCalibration::FromScores(scores);
  EXPECT_EQ(without.KindRead(RowKind::kUnseenHardware, 0.9), RowKind::kUnseenName);
  EXPECT_EQ(without.ScoreQuantile(RowKind::kUnseenHardware, 0.9),
            without.ScoreQuantile(RowKind::kUnseenName, 0.9));
  for (int i = 1; i <= 100; ++i) {
    scores[static_cast<int>(RowKind::kUnseenHardware)].push_back(0.04 * i);
  }
  const IntervalCalibration with = IntervalCalibration::FromScores(scores);
  EXPECT_EQ(with.KindRead(RowKind::kUnseenHardware, 0.9), RowKind::kUnseenHardware);
  EXPECT_NEAR(with.ScoreQuantile(RowKind::kUnseenHardware, 0.9),
              2 * with.ScoreQuantile(RowKind::kUnseenName, 0.9), 1e-9);
  // Never below every unseen name's: GPUs that erred less than the other names read theirs.
  std::array<std::vector<double>, kRowKindCount> smaller = scores;
  for (double& score : smaller[static_cast<int>(RowKind::kUnseenHardware)]) score /= 8;
  const IntervalCalibration below = IntervalCalibration::FromScores(smaller);
  EXPECT_EQ(below.KindRead(RowKind::kUnseenHardware, 0.9), RowKind::kUnseenHardware);
  EXPECT_EQ(below.ScoreQuantile(RowKind::kUnseenHardware, 0.9),
            below.ScoreQuantile(RowKind::kUnseenName, 0.9));

  // Its scores travel in a section of their own, after every other kind's.
  ByteWriter writer;
  with.EncodeTo(writer);
  with.EncodeLaterKindsTo(writer);
  with.EncodeUnseenHardwareTo(writer);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  absl::StatusOr<IntervalCalibration> decoded = IntervalCalibration::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_TRUE(decoded->DecodeLaterKindsFrom(reader).ok());
  EXPECT_EQ(decoded->ScoreCount(RowKind::kUnseenHardware), 0u) << "not read yet";
  ASSERT_TRUE(decoded->DecodeUnseenHardwareFrom(reader).ok());
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(decoded->ScoreCount(RowKind::kUnseenHardware), 100u);
  EXPECT_EQ(decoded->ScoreQuantile(RowKind::kUnseenHardware, 0.9),
            with.ScoreQuantile(RowKind::kUnseenHardware, 0.9));
}

TEST_F(ConformalIntervalTest, ErrorPredictorRoundTripPredictsTheSame) {
  ByteWriter writer;
  predictor_->EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::StatusOr<ErrorPredictor> decoded = ErrorPredictor::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(reader.empty());
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(decoded->ExpectedAbsoluteLogError(test_[i].features),
              predictor_->ExpectedAbsoluteLogError(test_[i].features));
  }
}

// A new shape read off a sibling's step errs less than one read off the anchors alone; the
// predictor tells them apart by the weight the step had.
TEST(ErrorPredictorTest, ReadsTheShareOfTheSiblingsStep) {
  std::mt19937_64 random(11);
  std::exponential_distribution<double> magnitude(1);
  std::vector<ErrorRecord> records;
  for (int i = 0; i < 2000; ++i) {
    ErrorRecord record;
    record.features.prediction_case = PredictionCase::kExtrapolatedShape;
    record.features.shape = {256, 256};
    record.features.batch_size = 16;
    record.features.shape_transfer_weight = i % 2 == 0 ? 0.75 : 0;
    record.absolute_log_error = (i % 2 == 0 ? 0.03 : 0.12) * magnitude(random);
    records.push_back(record);
  }
  absl::StatusOr<ErrorPredictor> predictor = ErrorPredictor::Train(records, 1, 1);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  EXPECT_LT(predictor->ExpectedAbsoluteLogError(records[0].features) * 2,
            predictor->ExpectedAbsoluteLogError(records[1].features));
}

// Bundles of format 11 and older carry a predictor of one feature fewer: it loads; a model of
// another width is not an error predictor.
TEST(ErrorPredictorTest, LoadsAPredictorWithoutTheLastFeatureAndRefusesOtherWidths) {
  const auto model_of_width = [](int width) {
    FeatureMatrix matrix{width, {}};
    std::vector<float> targets;
    std::vector<float> row(static_cast<size_t>(width));
    for (int r = 0; r < 50; ++r) {
      for (int c = 0; c < width; ++c) row[static_cast<size_t>(c)] = static_cast<float>(r * (c + 1));
      matrix.AddRow(row);
      targets.push_back(static_cast<float>(r % 7));
    }
    XGBoostParams params;
    params.tree_count = 5;
    absl::StatusOr<XGBoostRegressor> model = XGBoostRegressor::Train(matrix, targets, params);
    return model.ok() ? model->model_bytes() : std::string();
  };
  const std::string older_bytes = model_of_width(kErrorFeatureCount - 1);
  ASSERT_FALSE(older_bytes.empty());
  const absl::StatusOr<ErrorPredictor> older = ErrorPredictor::FromModelBytes(older_bytes);
  ASSERT_TRUE(older.ok()) << older.status();
  // It reads the first 12 columns as it was trained on them, whatever the last one holds.
  const absl::StatusOr<XGBoostRegressor> raw = XGBoostRegressor::FromModelBytes(older_bytes);
  ASSERT_TRUE(raw.ok()) << raw.status();
  ErrorFeatures features;
  features.shape = {512, 64};
  features.batch_size = 8;
  features.anchor_count = 3;
  features.anchor_spread = 0.2;
  const std::array<float, kErrorFeatureCount - 1> first = {
      static_cast<float>(features.prediction_case), 9, 6, 3, NAN, NAN, 0, 0, 3, 0.2f, 0, 0};
  const double expected = std::max<double>(ErrorPredictor::kFloor, raw->Predict(first));
  EXPECT_EQ(older->ExpectedAbsoluteLogError(features), expected);
  features.shape_transfer_weight = 0.75;
  EXPECT_EQ(older->ExpectedAbsoluteLogError(features), expected);
  EXPECT_TRUE(ErrorPredictor::FromModelBytes(model_of_width(kErrorFeatureCount)).ok());
  EXPECT_EQ(ErrorPredictor::FromModelBytes(model_of_width(kErrorFeatureCount - 2)).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace perfcast
