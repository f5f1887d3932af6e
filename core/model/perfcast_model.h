#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"
#include "core/model/prediction.h"

namespace perfcast {

struct TrainOptions {
  uint64_t seed = 42;
  // Threads a training may use: the cross-fit's models train this many at once, on one XGBoost
  // thread each; the served model and the error predictor on this many XGBoost threads. The
  // bundle does not depend on it. One by default: OpenMP workers spin while they wait, which on
  // a machine shared with serving threads or parallel tests costs more than the second thread
  // gains, and each model training at once holds its own rows and histograms.
  int threads = 1;
  // Simulated annealing over each configuration's training subsets (ALA §3): moves per
  // configuration, and a safety cap on the wall time of the whole exploration. Bundles are
  // reproducible for a seed as long as the cap is not reached.
  int annealing_moves_per_configuration = 8;
  absl::Duration annealing_time_limit = absl::Seconds(10);
  // Datasheet facts about hardware, models and precisions (data/catalogue/). With one, the model
  // also learns from physical ceilings, scales anchors of other configurations by them, carries
  // the catalogue in its bundle, and refuses a configuration whose hardware or model neither the
  // data nor the catalogue knows. Without one, none of that.
  std::shared_ptr<const Catalogue> catalogue;
};

// Facts about how a model was built, carried in its bundle.
struct ModelInfo {
  int64_t trained_at_unix_s = 0;
  double training_seconds = 0;
  int point_count = 0;
  int curve_count = 0;
  int configuration_count = 0;
};

// perfcast's predictor: the analytic saturation curve as backbone, corrected by one XGBoost
// model shared by all configurations (see README "Method").
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

  // How far the query is from what was observed, and the error to expect there.
  absl::StatusOr<UncertaintyReport> Explain(const PredictionQuery& query, int batch_size,
                                            int neighbor_count) const;

  // Every configuration seen in training, sorted.
  std::vector<Configuration> Configurations() const;

  // The catalogue the model was trained with, or null.
  const Catalogue* catalogue() const;

  const ModelInfo& info() const;

  // The bundle bytes: versioned, self-describing, checksummed; the XGBoost models inside.
  std::string Serialize() const;
  // DataLoss for a corrupt bundle, InvalidArgument for a foreign file or unknown format version.
  static absl::StatusOr<std::shared_ptr<const PerfcastModel>> Deserialize(absl::string_view bytes);

  ~PerfcastModel();
  PerfcastModel(const PerfcastModel&) = delete;
  PerfcastModel& operator=(const PerfcastModel&) = delete;

  struct State;  // defined in perfcast_model.cc
  explicit PerfcastModel(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

}  // namespace perfcast
