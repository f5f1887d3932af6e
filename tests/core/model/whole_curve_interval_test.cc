// Intervals that hold for every point of a curve at once (IntervalScope::kWholeCurve): what a
// plan that picks one of a curve's points needs.
#include <string>
#include <vector>

#include "core/bundle/bundle_format.h"
#include "core/bundle/model_codec.h"
#include "core/model/perfcast_model_internal.h"
#include "core/util/byte_coding.h"
#include "gtest/gtest.h"
#include "tests/core/older_bundles.h"
#include "tests/core/synthetic_model.h"

namespace perfcast {
namespace {

class WholeCurveIntervalTest : public testing::SyntheticModelTest {
 protected:
  static constexpr int kBatches[] = {1, 8, 16, 64, 200};
  // A measured curve (measured, interpolated, larger batch), a new shape, a new GPU count.
  const std::vector<PredictionQuery> queries_ = {
      {{"gpu-a", 1, "vllm", "org/model-7b", "fp16"}, {256, 256}},
      {{"gpu-b", 2, "vllm", "org/model-7b", "fp16"}, {700, 300}},
      {{"gpu-a", 8, "vllm", "org/model-7b", "fp16"}, {512, 512}}};
};

TEST_F(WholeCurveIntervalTest, IsTheSamePredictionWithAnIntervalAtLeastAsWide) {
  int wider = 0;
  for (const PredictionQuery& query : queries_) {
    auto each = model().Predict(query, kBatches, 0.9);
    auto whole = model().Predict(query, kBatches, 0.9, IntervalScope::kWholeCurve);
    ASSERT_TRUE(each.ok() && whole.ok());
    for (size_t i = 0; i < each->size(); ++i) {
      const PointPrediction& e = (*each)[i];
      const PointPrediction& w = (*whole)[i];
      EXPECT_EQ(w.throughput_tokens_per_s, e.throughput_tokens_per_s);
      EXPECT_EQ(w.prediction_case, e.prediction_case);
      EXPECT_LE(w.lower_tokens_per_s, e.lower_tokens_per_s);
      EXPECT_GE(w.upper_tokens_per_s, e.upper_tokens_per_s);
      if (e.prediction_case == PredictionCase::kMeasured) {
        EXPECT_EQ(w.lower_tokens_per_s, e.lower_tokens_per_s);  // noise, not a curve's error
      }
      wider += w.lower_tokens_per_s < e.lower_tokens_per_s;
    }
  }
  EXPECT_GT(wider, 0) << "no predicted point got a wider bound";
}

TEST_F(WholeCurveIntervalTest, SurvivesTheBundleAndAFormatEightBundleFallsBackToEachPoint) {
  const std::string current = EncodeModelBundle(model());
  auto loaded = DecodeModelBundle(current);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const PredictionQuery& query = queries_[2];
  auto before = model().Predict(query, kBatches, 0.9, IntervalScope::kWholeCurve);
  auto after = (*loaded)->Predict(query, kBatches, 0.9, IntervalScope::kWholeCurve);
  ASSERT_TRUE(before.ok() && after.ok());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_EQ((*after)[i].lower_tokens_per_s, (*before)[i].lower_tokens_per_s);
  }

  // A version-8 payload is format 14's without the whole-curve section at the end.
  ByteWriter section;
  PerfcastModelInternal::StateOf(model()).whole_curve_calibration.EncodeTo(section);
  const size_t section_size = section.Take().size();
  const std::string payload = testing::Format14PayloadOf(model());
  auto format_eight = DecodeModelBundle(
      testing::SealedAsFormat(payload.substr(0, payload.size() - section_size), 8));
  ASSERT_TRUE(format_eight.ok()) << format_eight.status();
  // Format 8 averages the anchors' readings, as format 22 still does.
  auto each = testing::AsFormat22(model())->Predict(query, kBatches, 0.9);
  auto fallback = (*format_eight)->Predict(query, kBatches, 0.9, IntervalScope::kWholeCurve);
  ASSERT_TRUE(each.ok() && fallback.ok());
  for (size_t i = 0; i < each->size(); ++i) {
    EXPECT_EQ((*fallback)[i].lower_tokens_per_s, (*each)[i].lower_tokens_per_s);
  }
}

}  // namespace
}  // namespace perfcast
