#pragma once

#include <memory>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"
#include "core/data/curve.h"
#include "core/model/model_info.h"
#include "core/model/prediction.h"
#include "core/model/train_options.h"

namespace perfcast {

// Where a training's cross-fit fold models (docs/METHOD.md §5) came from.
enum class CrossFitSource {
  kGrown = 0,  // no earlier model was offered (TrainOptions::reuse_cross_fit_of null)
  kReused,     // the earlier model's
  // Grown although an earlier model was offered, because:
  kEarlierHasNone,  // it was decoded from a bundle, or trained with keep_cross_fit off
  kOtherSettings,   // its seed or catalogue differ
  kCurvesRemoved,   // a curve it trained on is gone
  kPastGrowthBound  // more curves were added than kMaxCrossFitGrowth allows
};
// "grown", "reused", "grown_earlier_has_none", ...: for logs.
absl::string_view CrossFitSourceName(CrossFitSource source);

// perfcast's predictor: the analytic saturation curve as backbone, corrected by one XGBoost
// model shared by all configurations (docs/METHOD.md §1, §2).
//
// Thread safety: immutable once built; share a `std::shared_ptr<const PerfcastModel>` freely and
// call every const method from any thread.
class PerfcastModel {
 public:
  // Fits the model to benchmark records. FailedPrecondition when there is nothing to learn from.
  static absl::StatusOr<std::shared_ptr<const PerfcastModel>> Train(
      absl::Span<const BenchmarkRecord> records, const TrainOptions& options);

  // Throughput at each batch size, with an interval at `confidence_level` in (0, 1).
  // InvalidArgument for non-positive tokens or batch sizes, or a level outside (0, 1). NotFound
  // naming the hardware or model when the model has a catalogue and neither the training data
  // nor the catalogue knows it.
  absl::StatusOr<std::vector<PointPrediction>> Predict(const PredictionQuery& query,
                                                       absl::Span<const int> batch_sizes,
                                                       double confidence_level) const;
  // The same with intervals of `scope`. kWholeCurve falls back to each point's interval where
  // the model has no whole-curve calibration (measured points; a bundle before format 9).
  absl::StatusOr<std::vector<PointPrediction>> Predict(const PredictionQuery& query,
                                                       absl::Span<const int> batch_sizes,
                                                       double confidence_level,
                                                       IntervalScope scope) const;

  // The same with `options` (PredictOptions).
  absl::StatusOr<std::vector<PointPrediction>> Predict(const PredictionQuery& query,
                                                       absl::Span<const int> batch_sizes,
                                                       double confidence_level,
                                                       const PredictOptions& options) const;
  // TTFT and ITL of `points`, predicted for `query` at `confidence_level` without them
  // (PredictOptions::latencies false): the figures Predict would have given them, without their
  // 99th percentiles (PredictOptions::tails false).
  void CompleteLatencies(const PredictionQuery& query, double confidence_level,
                         absl::Span<PointPrediction> points) const;

  // The names of `configuration` that no training configuration carries, even after the
  // spellings and equivalences that reach a trained name ("framework 'my-new-engine'"). Predict
  // answers the trained name a query's name reaches ("vLLM" as "vllm") and gives a configuration
  // with an unseen name the intervals calibrated for that situation.
  std::vector<std::string> UnseenNames(const Configuration& configuration) const;

  // How far the query is from what was observed, and the error to expect there.
  absl::StatusOr<UncertaintyReport> Explain(const PredictionQuery& query, int batch_size,
                                            int neighbor_count) const;

  // Every configuration seen in training, sorted.
  std::vector<Configuration> Configurations() const;

  // Calls `visit` with every measured curve the model was trained on (repeats of a point
  // merged), in the model's order.
  void VisitTrainingCurves(absl::FunctionRef<void(const Curve&)> visit) const;

  // The catalogue the model was trained with, or null.
  const Catalogue* catalogue() const;

  const ModelInfo& info() const;

  // Where this model's held-out errors came from: an earlier training's fold models
  // (TrainOptions::reuse_cross_fit_of), or fold models grown for it and why.
  CrossFitSource cross_fit_source() const;
  bool ReusedCrossFit() const { return cross_fit_source() == CrossFitSource::kReused; }

  ~PerfcastModel();
  PerfcastModel(const PerfcastModel&) = delete;
  PerfcastModel& operator=(const PerfcastModel&) = delete;

  // What the model is made of: perfcast_model_internal.h, for training and the bundle codec
  // (core/bundle/model_codec.h), which builds models through PerfcastModelInternal.
  struct State;
  explicit PerfcastModel(std::unique_ptr<State> state);

 private:
  friend class PerfcastModelInternal;

  std::unique_ptr<State> state_;
};

}  // namespace perfcast
