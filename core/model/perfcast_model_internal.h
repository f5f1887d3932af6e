#pragma once

#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "core/data/benchmark_record.h"
#include "core/ml/xgboost_regressor.h"
#include "core/model/anchor_index.h"
#include "core/model/anchored_prediction.h"
#include "core/model/campaign_calibrations.h"
#include "core/model/campaign_levels.h"
#include "core/model/cross_fit_folds.h"
#include "core/model/error_predictor.h"
#include "core/model/fold_models.h"
#include "core/model/interval_calibration.h"
#include "core/model/latency_model.h"
#include "core/model/model_info.h"
#include "core/model/perfcast_model.h"
#include "core/model/physical_exponents.h"
#include "core/model/trained_names.h"
#include "core/model/workload_features.h"
#include "core/model/workload_similarity.h"

// What a PerfcastModel is made of, for the code that builds one from parts or takes one apart:
// training (perfcast_model.cc) and the bundle codec (core/bundle/model_codec.h). Not for callers
// that only predict: they use perfcast_model.h.

namespace perfcast {

struct PerfcastModel::State {
  // Builds the similarity over `index_in`'s curves and the sets CheckKnown reads; `info` is left
  // to the caller.
  State(AnchorIndex index_in, TransferFeatures features_in, XGBoostRegressor correction_in,
        PhysicalExponents physical_exponents_in, WorkloadScales scales,
        ErrorPredictor error_predictor_in, IntervalCalibration calibration_in,
        CampaignLevels campaign_levels_in);

  // With a catalogue, a configuration whose hardware or model is in neither the training data
  // nor the catalogue has nothing physical to transfer from: refused rather than invented.
  absl::Status CheckKnown(const Configuration& query) const;

  // A query brought to the training data: its names to the trained ones (§7) and, for the
  // population (no campaign, or one the data lack) or a named campaign that never measured the
  // system, its campaign to one that did (§8).
  struct ResolvedQuery {
    PredictionQuery query;
    std::vector<UnseenName> unseen;
    bool population = false;
    // The campaign whose level the answer takes: the named one, or for the population the one
    // whose curves are read (query.configuration.campaign).
    std::string level_campaign;
    // A named campaign's answer read off another campaign's curves of the same system.
    bool read_across = false;
  };
  ResolvedQuery Resolve(const PredictionQuery& asked) const;

  // The longest shape of any curve: what Explain says a query lies beyond, with the largest batch
  // on its axis (AnchorIndex::LargestBatchOn).
  struct MeasuredRange {
    int largest_input_tokens = 0;
    int largest_output_tokens = 0;
  };

  ModelInfo info;
  AnchorIndex index;
  TransferFeatures features;
  XGBoostRegressor correction;
  PhysicalExponents physical_exponents;
  // How a prediction combines its anchors' readings: the median, or the mean for a bundle of
  // format 22 or older, whose intervals were calibrated on means.
  AnchorCombination anchor_combination = AnchorCombination::kMedian;
  // Whether the correction is read no further along the batch than the curves of the query's
  // axis reached (Corrector::largest_trained_batch); false for a bundle of format 27 or older,
  // whose intervals were calibrated on its trees read at every batch.
  bool trees_held_at_trained_batch = true;
  WorkloadSimilarity similarity;  // over index.anchors()
  ErrorPredictor error_predictor;
  IntervalCalibration calibration;
  // Bounds for every point of a curve at once; empty (no scores) from a bundle before format 9.
  IntervalCalibration whole_curve_calibration;
  // Each campaign's own calibration for each point; empty (every campaign reads the pooled one)
  // from a bundle before format 21.
  CampaignCalibrations campaign_calibrations;
  CampaignLevels campaign_levels;
  MeasuredRange measured_range;  // of index.anchors()
  // The training data's names, and how a query's names reach them.
  TrainedNames names;
  // TTFT and ITL (docs/METHOD.md §9); empty without latency data or from an older bundle.
  LatencyModel latency;
  // The cross-fit this model's held-out errors came from, for a later training to reuse
  // (TrainOptions::reuse_cross_fit_of). Not in the bundle: absent in a decoded model, whose
  // source reads kGrown.
  struct CrossFit {
    std::shared_ptr<const FoldModels> models;  // shared by the trainings that reuse them
    CrossFitFolds folds;                       // of this model's curves
  };
  std::optional<CrossFit> cross_fit;  // absent unless TrainOptions::keep_cross_fit
  CrossFitSource cross_fit_source = CrossFitSource::kGrown;
};

// Access to a model's State from outside the class, in the manner of LevelDB's
// WriteBatchInternal.
class PerfcastModelInternal {
 public:
  static const PerfcastModel::State& StateOf(const PerfcastModel& model) { return *model.state_; }

  static std::shared_ptr<const PerfcastModel> FromState(
      std::unique_ptr<PerfcastModel::State> state) {
    return std::make_shared<PerfcastModel>(std::move(state));
  }
};

}  // namespace perfcast
