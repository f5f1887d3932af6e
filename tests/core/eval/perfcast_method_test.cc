// perfcast-refit (PerfcastMethod with as_refit): which model a new-campaign fold's refit starts
// from, and that it says when it grew its cross-fit.
#include "core/eval/perfcast_method.h"

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/data/curve.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

// A new-campaign fold by hand: lab-a's synthetic curves train; lab-b measured gpu-a's six curves
// of 1 and 2 GPUs, of which `shots` (in draw order) train and the rest are held out. With
// `lab_a_single_gpu`, lab-a's curves are only those of 1 GPU (8 of its 24).
Fold LabBFold(int shots, bool lab_a_single_gpu) {
  Fold fold;
  fold.campaign = "lab-b";
  fold.shots = 0.5;
  std::vector<Curve> lab_b;
  for (const Curve& curve : GroupIntoCurves(testing::SyntheticRecords())) {
    Curve a = curve;
    a.configuration.campaign = "lab-a";
    if (!lab_a_single_gpu || a.configuration.num_gpus == 1) fold.training.push_back(a);
    if (curve.configuration.hardware == "gpu-a" && curve.configuration.num_gpus <= 2 &&
        curve.shape.input_tokens <= 512) {
      Curve b = curve;
      b.configuration.campaign = "lab-b";
      for (CurvePoint& p : b.points) p.throughput_tokens_per_s *= 2;
      lab_b.push_back(b);
    }
  }
  for (int k = 0; k < static_cast<int>(lab_b.size()); ++k) {
    Curve& curve = lab_b[k];
    if (k < shots) {
      fold.shots_drawn.push_back(static_cast<int>(fold.training.size()));
      fold.training.push_back(curve);
    } else {
      for (const CurvePoint& p : curve.points) {
        fold.held_out.push_back(
            {curve.configuration, curve.shape, p.batch_size, p.throughput_tokens_per_s});
      }
    }
  }
  fold.shot_curves = shots;
  return fold;
}

struct Notes {
  absl::Mutex mutex;
  std::vector<std::string> lines;
};

// perfcast-refit whose notes land in `notes`.
PerfcastMethod RefitRecordingNotes(Notes& notes) {
  return PerfcastMethod("perfcast-refit", TrainOptions{}, /*as_refit=*/true,
                        [&notes](const std::string& line) {
                          absl::MutexLock lock(&notes.mutex);
                          notes.lines.push_back(line);
                        });
}

TEST(PerfcastRefitTest, ARefitFromTheFirstThirdOfTheShotsReusesItsCrossFitQuietly) {
  Notes notes;
  const PerfcastMethod method = RefitRecordingNotes(notes);
  const Fold fold = LabBFold(/*shots=*/3, /*lab_a_single_gpu=*/false);
  absl::StatusOr<std::vector<MethodPrediction>> predicted = method.TrainAndPredict(fold, {0.9});
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  EXPECT_EQ(predicted->size(), fold.held_out.size());
  EXPECT_TRUE(notes.lines.empty()) << notes.lines.front();
}

TEST(PerfcastRefitTest, LaterShotsPastTheGrowthBoundGrowItAndSaySo) {
  Notes notes;
  const PerfcastMethod method = RefitRecordingNotes(notes);
  // The base model trains on lab-a's 8 curves and the first of lab-b's 5 shots; the 4 later
  // shots add more than kMaxCrossFitGrowth of those 9.
  ASSERT_LT(kMaxCrossFitGrowth, 4.0 / 9);
  const Fold fold = LabBFold(/*shots=*/5, /*lab_a_single_gpu=*/true);
  absl::StatusOr<std::vector<MethodPrediction>> predicted = method.TrainAndPredict(fold, {0.9});
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  ASSERT_EQ(notes.lines.size(), 1u);
  EXPECT_NE(notes.lines[0].find("lab-b"), std::string::npos) << notes.lines[0];
  EXPECT_NE(notes.lines[0].find("grown_past_growth_bound"), std::string::npos) << notes.lines[0];
}

TEST(PerfcastRefitTest, AFoldWhoseShotsAreNotListedIsAnError) {
  PerfcastMethod method("perfcast-refit", TrainOptions{}, /*as_refit=*/true);
  Fold fold = LabBFold(/*shots=*/3, /*lab_a_single_gpu=*/false);
  fold.shots_drawn.clear();
  EXPECT_EQ(method.TrainAndPredict(fold, {0.9}).status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace perfcast
