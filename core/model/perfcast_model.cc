#include "core/model/perfcast_model.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/bundle/bundle_format.h"
#include "core/data/curve.h"
#include "core/ml/feature_matrix.h"
#include "core/ml/simulated_annealing.h"
#include "core/ml/tree_ensemble.h"
#include "core/ml/xgboost_regressor.h"
#include "core/ml/xgboost_training_set.h"
#include "core/model/anchor_index.h"
#include "core/model/error_predictor.h"
#include "core/model/interval_calibration.h"
#include "core/model/workload_features.h"
#include "core/model/workload_similarity.h"
#include "core/util/byte_coding.h"

namespace perfcast {
namespace {

// How many anchors a prediction averages over, per case. More anchors average out the noise of
// single curves; farther ones add less information.
constexpr int kSiblingsWithOwnCurve = 2;
constexpr int kSiblingsForNewShape = 3;
constexpr int kOtherConfigurations = 4;
constexpr int kOtherHardware = 3;
// Bounds the stack buffers of a prediction (one-hot columns grow with distinct values).
constexpr int kMaxFeatureColumns = 256;
constexpr size_t kMaxAnchors = 8;
// Folds of the cross-fit that yields held-out errors for the error predictor and the intervals.
constexpr int kCrossFitFolds = 4;

XGBoostParams CorrectionParams(const TrainOptions& options) {
  XGBoostParams params;
  params.tree_count = 200;
  params.max_depth = 6;
  params.learning_rate = 0.075;
  // A quarter of XGBoost's default bins: a refit grows 9 models of this size, and 64 bins cut
  // its time by about a third.
  params.max_bin = 64;
  params.subsample = 0.8;
  params.colsample_bytree = 0.8;
  params.min_child_weight = 2;
  params.threads = options.threads;
  params.seed = options.seed;
  return params;
}

struct Anchor {
  const AnchorCurve* curve = nullptr;
  bool is_same_curve = false;
};

struct AnchoredPrediction {
  double log_throughput = 0;
  // Everything but the prediction case and the neighbourhood.
  ErrorFeatures features;
};

// Where an anchor's hardware stands to the query's: how well datasheets predict a speed-up
// differs between them. Other hardware brings other kernels; another software stack (CUDA, ROCm,
// ...) brings another compiler, libraries and framework maturity, which on the public data moves
// throughput by 2-8x against the datasheets' ratio (an MI300X runs vLLM at about 0.6x an H100
// whose bandwidth is 0.63x its own).
enum class AnchorKind { kSameHardware = 0, kSameStack = 1, kOtherStack = 2 };

AnchorKind KindOf(const Configuration& query, const Configuration& anchor,
                  const CatalogueTransfer& transfer) {
  if (anchor.hardware == query.hardware) return AnchorKind::kSameHardware;
  return transfer.same_software_stack ? AnchorKind::kSameStack : AnchorKind::kOtherStack;
}

// Powers of the datasheets' speed ratio that scale an anchor of another configuration (see
// RowBuilder::FitPhysicalExponents), one per AnchorKind.
struct PhysicalExponents {
  double same_hardware = 0;
  double same_stack = 0;
  double other_stack = 0;

  double For(AnchorKind kind) const {
    switch (kind) {
      case AnchorKind::kSameHardware:
        return same_hardware;
      case AnchorKind::kSameStack:
        return same_stack;
      case AnchorKind::kOtherStack:
        break;
    }
    return other_stack;
  }
};

// Lets `index` prefer anchors of the query's software stack (AnchorIndex::SetSoftwareStacks).
void UseSoftwareStacks(const TransferFeatures& features, AnchorIndex& index) {
  if (features.catalogue() == nullptr) return;
  index.SetSoftwareStacks([catalogue = features.catalogue()](const std::string& hardware) {
    return std::string(catalogue->SoftwareStackOf(hardware));
  });
}

// The learned part of a prediction: an anchor of another configuration is first scaled by the
// datasheets' speed ratio to a fitted power, then corrected by `model`. Linear in the log ratio,
// the scaling carries over to hardware beyond anything seen, where trees alone stay flat.
struct Corrector {
  const TreeEnsemble& model;
  PhysicalExponents physical_exponents;
};

// log(throughput) from the anchors (at most kMaxAnchors used), each scaled and corrected,
// averaged; and how much the anchors agree.
AnchoredPrediction PredictFromAnchors(const TransferFeatures& features, const Corrector& corrector,
                                      const Configuration& configuration, const Shape& shape,
                                      absl::Span<const Anchor> anchors, double batch_size) {
  const size_t anchor_count = std::min(anchors.size(), kMaxAnchors);
  const size_t columns = static_cast<size_t>(features.column_count());
  float rows[kMaxAnchors * kMaxFeatureColumns];
  CatalogueTransfer transfers[kMaxAnchors];
  for (size_t i = 0; i < anchor_count; ++i) {
    transfers[i] =
        features.Compute(configuration, shape, *anchors[i].curve, anchors[i].is_same_curve,
                         batch_size, absl::Span<float>(rows + i * columns, columns));
  }
  float corrections[kMaxAnchors];
  corrector.model.PredictRows(absl::Span<const float>(rows, anchor_count * columns),
                              static_cast<int>(columns),
                              absl::Span<float>(corrections, anchor_count));
  double sum = 0, sum_of_squares = 0, shape_distance = 0;
  int max_batch_size = 1;
  for (size_t i = 0; i < anchor_count; ++i) {
    const AnchorCurve& anchor = *anchors[i].curve;
    const double exponent = corrector.physical_exponents.For(
        KindOf(configuration, anchor.curve().configuration, transfers[i]));
    const double value = std::log(anchor.ThroughputAt(batch_size)) + corrections[i] +
                         exponent * transfers[i].physical_log_ratio;
    sum += value;
    sum_of_squares += value * value;
    shape_distance += ShapeDistance(shape, anchor.curve().shape);
    max_batch_size = std::max(max_batch_size, anchor.max_batch_size());
  }
  const double n = static_cast<double>(anchor_count);
  AnchoredPrediction out;
  out.log_throughput = sum / n;
  out.features.shape = shape;
  out.features.batch_size = batch_size;
  out.features.anchor_count = static_cast<int>(anchor_count);
  out.features.anchor_spread =
      std::sqrt(std::max(0.0, sum_of_squares / n - out.log_throughput * out.log_throughput));
  out.features.anchor_shape_distance = shape_distance / n;
  out.features.log2_batch_beyond_anchors = std::log2(batch_size / max_batch_size);
  return out;
}

std::vector<Anchor> AnchorsOf(const AnchorIndex& index, absl::Span<const AnchorChoice> chosen) {
  std::vector<Anchor> out;
  for (const AnchorChoice& choice : chosen) {
    out.push_back({&index.anchors()[choice.anchor_index], choice.is_same_curve});
  }
  return out;
}

// Which cross-fit fold each curve and each configuration (by rank) belongs to: seeded, balanced.
struct CrossFitFolds {
  std::vector<int> of_curve;
  std::vector<int> of_configuration;
};

CrossFitFolds AssignFolds(const AnchorIndex& index, uint64_t seed) {
  std::mt19937_64 random(seed);
  auto assign = [&](size_t count) {
    std::vector<int> order(count);
    std::iota(order.begin(), order.end(), 0);
    // Fisher-Yates by hand: std::shuffle's sequence differs between standard libraries.
    for (size_t i = count; i > 1; --i) std::swap(order[i - 1], order[random() % i]);
    std::vector<int> fold(count);
    for (size_t i = 0; i < count; ++i) fold[order[i]] = static_cast<int>(i % kCrossFitFolds);
    return fold;
  };
  CrossFitFolds folds;
  folds.of_curve = assign(index.anchors().size());
  folds.of_configuration = assign(index.configurations().size());
  return folds;
}

// Rows of "predict the curve at `batch` from `anchor`", target log(true / anchor), each labelled
// with the index of the curve whose throughput it targets.
class RowBuilder {
 public:
  explicit RowBuilder(const TransferFeatures& features)
      : features_(features), row_(features.column_count()) {
    matrix_.column_count = features.column_count();
  }

  void AddCurve(const Curve& target, int target_index, const AnchorCurve& anchor, bool same_curve,
                size_t first_point) {
    for (size_t p = first_point; p < target.points.size(); ++p) {
      const CurvePoint& point = target.points[p];
      const double anchor_value = anchor.ThroughputAt(point.batch_size);
      if (!(anchor_value > 0) || !std::isfinite(anchor_value)) continue;
      const CatalogueTransfer transfer =
          features_.Compute(target.configuration, target.shape, anchor, same_curve,
                            point.batch_size, absl::MakeSpan(row_));
      matrix_.AddRow(row_);
      targets_.push_back(std::log(point.throughput_tokens_per_s / anchor_value));
      target_curves_.push_back(target_index);
      physical_log_ratios_.push_back(transfer.physical_log_ratio);
      anchor_kinds_.push_back(KindOf(target.configuration, anchor.curve().configuration, transfer));
    }
  }

  // For anchors on the target's own hardware and on other hardware apart, the exponent k of
  // (query roofline / anchor roofline)^k that best explains the rows (least squares through the
  // origin on log values, kept in [0, 1]: a roofline ratio bounds a speed-up, it does not promise
  // it); then takes that scaling out of the targets so that the trees learn what the datasheets
  // do not explain. 0 where there are no ratios.
  PhysicalExponents FitPhysicalExponents() {
    double cross[3] = {0, 0, 0}, square[3] = {0, 0, 0};
    for (size_t row = 0; row < targets_.size(); ++row) {
      const int kind = static_cast<int>(anchor_kinds_[row]);
      cross[kind] += physical_log_ratios_[row] * targets_[row];
      square[kind] += physical_log_ratios_[row] * physical_log_ratios_[row];
    }
    auto fit = [&](AnchorKind kind) {
      const int k = static_cast<int>(kind);
      return square[k] > 0 ? std::clamp(cross[k] / square[k], 0.0, 1.0) : 0.0;
    };
    const PhysicalExponents exponents{.same_hardware = fit(AnchorKind::kSameHardware),
                                      .same_stack = fit(AnchorKind::kSameStack),
                                      .other_stack = fit(AnchorKind::kOtherStack)};
    for (size_t row = 0; row < targets_.size(); ++row) {
      targets_[row] -=
          static_cast<float>(exponents.For(anchor_kinds_[row]) * physical_log_ratios_[row]);
    }
    return exponents;
  }

  // The rows, handed over once they are complete: XGBoost keeps its own copy of them.
  FeatureMatrix TakeMatrix() { return std::move(matrix_); }
  const std::vector<float>& targets() const { return targets_; }
  const std::vector<int>& target_curves() const { return target_curves_; }

 private:
  const TransferFeatures& features_;
  std::vector<float> row_;
  FeatureMatrix matrix_;
  std::vector<float> targets_;
  std::vector<int> target_curves_;
  std::vector<double> physical_log_ratios_;
  std::vector<AnchorKind> anchor_kinds_;
};

// Where a curve splits into the measured smaller half and the larger batches predicted from it,
// in the larger-batch situations of training and calibration alike: `point_count` (no split)
// for curves of fewer than 4 points.
size_t LargerBatchSplit(size_t point_count) {
  return point_count >= 4 ? (point_count + 1) / 2 : point_count;
}

Curve Truncated(const Curve& curve, size_t keep) {
  Curve out{curve.configuration, curve.shape, {}};
  out.points.assign(curve.points.begin(), curve.points.begin() + keep);
  return out;
}

// Every situation a query can be in, simulated on the training curves: another curve of the same
// configuration, the curve's own smaller batches, and curves of other configurations.
void AddTrainingRows(const AnchorIndex& index, RowBuilder& rows) {
  const auto& anchors = index.anchors();
  for (size_t i = 0; i < anchors.size(); ++i) {
    const Curve& curve = anchors[i].curve();
    const int target = static_cast<int>(i);
    for (const AnchorChoice& choice :
         index.SameConfiguration(curve.configuration, curve.shape, kSiblingsForNewShape)) {
      rows.AddCurve(curve, target, anchors[choice.anchor_index], false, 0);
    }
    const size_t n = curve.points.size();
    if (const size_t half = LargerBatchSplit(n); half < n) {
      for (size_t keep : {half, n - 1}) {
        if (keep == n - 1 && keep == half) continue;
        rows.AddCurve(curve, target, AnchorCurve(Truncated(curve, keep)), true, keep);
      }
    }
    for (bool other_hardware_only : {false, true}) {
      for (const AnchorChoice& choice : index.OtherConfigurations(
               curve.configuration, curve.shape,
               other_hardware_only ? kOtherHardware : kOtherConfigurations, other_hardware_only)) {
        rows.AddCurve(curve, target, anchors[choice.anchor_index], false, 0);
      }
    }
  }
}

// Error exploration by simulated annealing (ALA §3), for each configuration of 3 or more curves
// whose errors train the error predictor (even configuration folds):
// - state: which of the configuration's curves are observed (the training subset);
// - move: observe one more curve, one fewer, or swap one (core/simulated_annealing.h);
// - energy: minus the mean |log error| of predicting every unobserved curve as a new shape from
//   its nearest observed siblings, by the cross-fit model that did not train on it, so the walk
//   heads for the hard, sparse splits that the one-curve-out errors rarely show;
// - records: every visited state adds its predictions' errors, with the neighbourhood the
//   unobserved curves have in that state, to `records`.
void ExploreByAnnealing(const AnchorIndex& index, const TransferFeatures& features,
                        absl::Span<const TreeEnsemble> models, PhysicalExponents physical_exponents,
                        const CrossFitFolds& folds, const WorkloadSimilarity& similarity,
                        const TrainOptions& options, std::vector<ErrorRecord>& records) {
  if (index.configurations().size() < 4 || options.annealing_moves_per_configuration <= 0) return;
  const absl::Time deadline = absl::Now() + options.annealing_time_limit;
  for (size_t rank = 0; rank < index.configurations().size(); ++rank) {
    const std::vector<int>& curves = index.AnchorsOfRank(static_cast<int>(rank));
    if (curves.size() < 3 || folds.of_configuration[rank] % 2 != 0) continue;
    AnnealingSchedule schedule;
    schedule.max_iterations = options.annealing_moves_per_configuration;
    schedule.time_limit = std::max(deadline - absl::Now(), absl::ZeroDuration());
    schedule.seed = options.seed * 1000003 + rank;
    std::vector<bool> initial(curves.size(), true);
    initial[schedule.seed % curves.size()] = false;
    Anneal(std::move(initial), schedule, [&](const std::vector<bool>& observed) {
      std::vector<int> unobserved;
      for (size_t c = 0; c < curves.size(); ++c) {
        if (!observed[c]) unobserved.push_back(curves[c]);
      }
      double error_sum = 0;
      int error_count = 0;
      for (int target : unobserved) {
        const Curve& curve = index.anchors()[target].curve();
        std::vector<std::pair<double, int>> siblings;
        for (size_t c = 0; c < curves.size(); ++c) {
          if (!observed[c]) continue;
          siblings.push_back(
              {ShapeDistance(curve.shape, index.anchors()[curves[c]].curve().shape), curves[c]});
        }
        std::sort(siblings.begin(), siblings.end());
        std::vector<Anchor> anchors;
        for (size_t s = 0; s < siblings.size() && s < kSiblingsForNewShape; ++s) {
          anchors.push_back({&index.anchors()[siblings[s].second], false});
        }
        for (const CurvePoint& point : curve.points) {
          AnchoredPrediction p =
              PredictFromAnchors(features, {models[folds.of_curve[target]], physical_exponents},
                                 curve.configuration, curve.shape, anchors, point.batch_size);
          const double error = std::abs(std::log(point.throughput_tokens_per_s) - p.log_throughput);
          if (!std::isfinite(error)) continue;
          p.features.prediction_case = PredictionCase::kExtrapolatedShape;
          p.features.neighbourhood = similarity.Around(curve.configuration, curve.shape,
                                                       point.batch_size, {.curves = unobserved});
          records.push_back({p.features, error});
          error_sum += error;
          ++error_count;
        }
      }
      return error_count == 0 ? 0.0 : -error_sum / error_count;
    });
  }
}

// The cross-fit's models: for each of `fold_sets` (per row, the fold whose model must not see the
// row), one model per fold, trained without that fold's rows. `workers` models train at once,
// each on one XGBoost thread: independent models share the cores without the barriers of
// OpenMP's threads, at which one thread preempted by serving stalls the others.
absl::StatusOr<std::vector<std::vector<TreeEnsemble>>> TrainFoldModels(
    const XGBoostTrainingSet& training, absl::Span<const std::vector<int>* const> fold_sets,
    XGBoostParams params, int workers) {
  const int task_count = static_cast<int>(fold_sets.size()) * kCrossFitFolds;
  if (workers > 1) params.threads = 1;
  std::vector<absl::StatusOr<TreeEnsemble>> models(task_count,
                                                   absl::InternalError("fold model not trained"));
  std::atomic<int> next_task{0};
  // Once a model has failed, the refit fails: the others need not train.
  std::atomic<bool> failed{false};
  // XGBoost does not say that slicing one matrix from two threads is safe.
  absl::Mutex subset_mutex;
  auto work = [&] {
    std::vector<int> kept;
    for (int task = next_task++; task < task_count && !failed; task = next_task++) {
      const std::vector<int>& fold_of_row = *fold_sets[task / kCrossFitFolds];
      const int held_out = task % kCrossFitFolds;
      kept.clear();
      for (size_t row = 0; row < fold_of_row.size(); ++row) {
        if (fold_of_row[row] != held_out) kept.push_back(static_cast<int>(row));
      }
      absl::StatusOr<XGBoostTrainingSet> fold =
          absl::FailedPreconditionError("a cross-fit fold has no rows");
      if (!kept.empty()) {
        absl::MutexLock lock(&subset_mutex);
        fold = training.Subset(kept);
      }
      models[task] = fold.ok() ? XGBoostRegressor::TrainEnsemble(*fold, params) : fold.status();
      if (!models[task].ok()) failed = true;
    }
  };
  std::vector<std::thread> helpers;
  for (int i = 1; i < std::min(workers, task_count); ++i) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  std::vector<std::vector<TreeEnsemble>> out(fold_sets.size());
  for (int task = 0; task < task_count; ++task) {
    if (!models[task].ok()) return models[task].status();
    out[task / kCrossFitFolds].push_back(*std::move(models[task]));
  }
  return out;
}

// Held-out errors: correction models trained without some curves' rows predict those curves the
// way Predict would in each case they can stand for (as a new shape; their larger batches from
// their smaller half; as a new configuration), with the neighbourhood they would have had without
// that data. Two sets of fold models, so that no model has seen a row targeting what it predicts:
// without every row targeting a curve (new shape, where its siblings stay in training; and larger
// batch), and without every row targeting a configuration (new configuration). A larger-batch
// case in deployment has also trained on the rows targeting the curve's smaller half, which its
// fold model has not: a set of its own, without only the larger half's rows, narrowed
// larger-batch intervals by 3.5% (22.7% against 23.5% median width at 90%, coverage 92.6%
// against 93.4%) for a third more training. Records of even configuration folds go to
// `records[0]`, odd ones to `records[1]`.
absl::StatusOr<std::array<std::vector<ErrorRecord>, 2>> CollectHeldOutErrors(
    const AnchorIndex& index, const TransferFeatures& features, const WorkloadScales& scales,
    const RowBuilder& rows, const XGBoostTrainingSet& training,
    PhysicalExponents physical_exponents, const CrossFitFolds& folds, const TrainOptions& options) {
  // The served model's own parameters: held-out errors of a cheaper, weaker model made every
  // interval wider than the served model needs (larger-batch coverage 94.7% at 90%).
  const XGBoostParams params = CorrectionParams(options);
  std::vector<int> configuration_fold_of_curve;
  for (const AnchorCurve& anchor : index.anchors()) {
    configuration_fold_of_curve.push_back(
        folds.of_configuration[index.ConfigurationRank(anchor.curve().configuration)]);
  }
  // Each row's fold in the two sets: by its target curve; by its target configuration.
  std::vector<int> curve_fold_of_row, configuration_fold_of_row;
  for (size_t row = 0; row < rows.targets().size(); ++row) {
    const int curve = rows.target_curves()[row];
    curve_fold_of_row.push_back(folds.of_curve[curve]);
    configuration_fold_of_row.push_back(configuration_fold_of_curve[curve]);
  }
  const std::vector<int>* const fold_sets[] = {&curve_fold_of_row, &configuration_fold_of_row};
  absl::StatusOr<std::vector<std::vector<TreeEnsemble>>> fold_models =
      TrainFoldModels(training, fold_sets, params, options.threads);
  if (!fold_models.ok()) return fold_models.status();
  const std::vector<TreeEnsemble>& curve_models = (*fold_models)[0];
  const std::vector<TreeEnsemble>& configuration_models = (*fold_models)[1];

  const WorkloadSimilarity similarity(index.anchors(), scales);
  std::array<std::vector<ErrorRecord>, 2> records;
  for (size_t i = 0; i < index.anchors().size(); ++i) {
    const Curve& curve = index.anchors()[i].curve();
    const int configuration_fold = configuration_fold_of_curve[i];
    // Halves by configuration keep a configuration's correlated errors on one side; with too few
    // configurations for that, by curve.
    std::vector<ErrorRecord>& out =
        records[(index.configurations().size() >= 4 ? configuration_fold : folds.of_curve[i]) % 2];
    auto add = [&](PredictionCase prediction_case, const TreeEnsemble& model,
                   absl::Span<const Anchor> anchors, const CurvePoint& point,
                   const Unobserved& unobserved) {
      if (anchors.empty()) return;
      AnchoredPrediction p =
          PredictFromAnchors(features, {model, physical_exponents}, curve.configuration,
                             curve.shape, anchors, point.batch_size);
      const double error = std::abs(std::log(point.throughput_tokens_per_s) - p.log_throughput);
      if (!std::isfinite(error)) return;
      p.features.prediction_case = prediction_case;
      p.features.neighbourhood =
          similarity.Around(curve.configuration, curve.shape, point.batch_size, unobserved);
      out.push_back({p.features, error});
    };
    const Unobserved without_curve{.curve = static_cast<int>(i)};
    const std::vector<Anchor> siblings = AnchorsOf(
        index, index.SameConfiguration(curve.configuration, curve.shape, kSiblingsForNewShape));
    for (const CurvePoint& point : curve.points) {
      add(PredictionCase::kExtrapolatedShape, curve_models[folds.of_curve[i]], siblings, point,
          without_curve);
    }
    const size_t n = curve.points.size();
    if (const size_t keep = LargerBatchSplit(n); keep < n) {
      const AnchorCurve truncated(Truncated(curve, keep));
      std::vector<Anchor> anchors = {{&truncated, true}};
      for (const Anchor& sibling : AnchorsOf(
               index,
               index.SameConfiguration(curve.configuration, curve.shape, kSiblingsWithOwnCurve))) {
        anchors.push_back(sibling);
      }
      for (size_t p = keep; p < n; ++p) {
        add(PredictionCase::kExtrapolatedBatch, curve_models[folds.of_curve[i]], anchors,
            curve.points[p], {.curve = static_cast<int>(i), .kept_points = static_cast<int>(keep)});
      }
    }
    const std::vector<Anchor> others = AnchorsOf(
        index,
        index.OtherConfigurations(curve.configuration, curve.shape, kOtherConfigurations, false));
    for (const CurvePoint& point : curve.points) {
      add(PredictionCase::kNewConfiguration, configuration_models[configuration_fold], others,
          point, {.configuration = true});
    }
  }
  ExploreByAnnealing(index, features, curve_models, physical_exponents, folds, similarity, options,
                     records[0]);
  return records;
}

// Split conformal: the error predictor learns from one half of the held-out errors, the scores
// |error| / predicted error of the other half calibrate the intervals. Measured and interpolated
// points are scored unnormalised against their curve's own fit (measurement noise).
absl::StatusOr<std::pair<ErrorPredictor, IntervalCalibration>> CalibrateIntervals(
    const AnchorIndex& index, std::array<std::vector<ErrorRecord>, 2> records,
    const TrainOptions& options) {
  // Too little data to split (a handful of curves): both roles share the records, and the
  // intervals lose their finite-sample guarantee.
  if (records[0].empty()) records[0] = records[1];
  if (records[1].empty()) records[1] = records[0];
  absl::StatusOr<ErrorPredictor> predictor =
      ErrorPredictor::Train(records[0], options.seed, options.threads);
  if (!predictor.ok()) return predictor.status();
  std::array<std::vector<double>, kRowKindCount> scores;
  for (const ErrorRecord& record : records[1]) {
    scores[static_cast<int>(KindOf(record.features.prediction_case))].push_back(
        record.absolute_log_error / predictor->ExpectedAbsoluteLogError(record.features));
  }
  for (const AnchorCurve& anchor : index.anchors()) {
    if (!anchor.fit().has_value()) continue;
    for (const CurvePoint& point : anchor.curve().points) {
      const double fitted = anchor.fit()->ThroughputAt(point.batch_size);
      if (fitted > 0) {
        scores[static_cast<int>(RowKind::kMeasurement)].push_back(
            std::abs(std::log(point.throughput_tokens_per_s / fitted)));
      }
    }
  }
  return std::make_pair(*std::move(predictor), IntervalCalibration::FromScores(std::move(scores)));
}

absl::Status ValidateQuery(const PredictionQuery& query, absl::Span<const int> batch_sizes,
                           double confidence_level) {
  if (query.shape.input_tokens <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("input_tokens=", query.shape.input_tokens, ": must be > 0"));
  }
  if (query.shape.output_tokens <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("output_tokens=", query.shape.output_tokens, ": must be > 0"));
  }
  if (query.configuration.num_gpus <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_gpus=", query.configuration.num_gpus, ": must be > 0"));
  }
  for (size_t i = 0; i < batch_sizes.size(); ++i) {
    if (batch_sizes[i] <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("batch_sizes[", i, "]=", batch_sizes[i], ": must be > 0"));
    }
  }
  if (!(confidence_level > 0 && confidence_level < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("confidence_level=", confidence_level, ": must be in (0, 1)"));
  }
  return absl::OkStatus();
}

}  // namespace

struct PerfcastModel::State {
  State(AnchorIndex index_in, TransferFeatures features_in, XGBoostRegressor correction_in,
        PhysicalExponents physical_exponents_in, WorkloadScales scales,
        ErrorPredictor error_predictor_in, IntervalCalibration calibration_in)
      : index(std::move(index_in)),
        features(std::move(features_in)),
        correction(std::move(correction_in)),
        physical_exponents(physical_exponents_in),
        similarity(index.anchors(), scales),
        error_predictor(std::move(error_predictor_in)),
        calibration(std::move(calibration_in)) {
    for (const Configuration& c : index.configurations()) {
      trained_hardware.insert(c.hardware);
      trained_models.insert(c.model);
    }
  }

  ModelInfo info;
  AnchorIndex index;
  TransferFeatures features;
  XGBoostRegressor correction;
  PhysicalExponents physical_exponents;
  WorkloadSimilarity similarity;  // over index.anchors()
  ErrorPredictor error_predictor;
  IntervalCalibration calibration;
  // The hardware and model names of the training data, for CheckKnown.
  absl::flat_hash_set<std::string> trained_hardware;
  absl::flat_hash_set<std::string> trained_models;

  // With a catalogue, a configuration whose hardware or model is in neither the training data
  // nor the catalogue has nothing physical to transfer from: refused rather than invented.
  absl::Status CheckKnown(const Configuration& query) const {
    const Catalogue* catalogue = features.catalogue().get();
    if (catalogue == nullptr) return absl::OkStatus();
    if (!trained_hardware.contains(query.hardware)) {
      if (absl::Status found = catalogue->FindAccelerator(query.hardware).status(); !found.ok()) {
        return found;
      }
    }
    if (!trained_models.contains(query.model)) return catalogue->FindModel(query.model).status();
    return absl::OkStatus();
  }
};

PerfcastModel::PerfcastModel(std::unique_ptr<State> state) : state_(std::move(state)) {}
PerfcastModel::~PerfcastModel() = default;

const ModelInfo& PerfcastModel::info() const { return state_->info; }

const Catalogue* PerfcastModel::catalogue() const { return state_->features.catalogue().get(); }

std::vector<Configuration> PerfcastModel::Configurations() const {
  return state_->index.configurations();
}

absl::StatusOr<std::shared_ptr<const PerfcastModel>> PerfcastModel::Train(
    absl::Span<const BenchmarkRecord> records, const TrainOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<Curve> curves = GroupIntoCurves(records);
  if (curves.empty()) return absl::FailedPreconditionError("no benchmark results to train on");
  std::vector<AnchorCurve> anchors;
  std::vector<Configuration> configurations;
  anchors.reserve(curves.size());
  for (Curve& curve : curves) {
    configurations.push_back(curve.configuration);
    anchors.emplace_back(std::move(curve));
  }
  AnchorIndex index(std::move(anchors));
  TransferFeatures features(FeatureVocabulary::FromConfigurations(configurations),
                            options.catalogue);
  UseSoftwareStacks(features, index);
  if (features.column_count() > kMaxFeatureColumns) {
    return absl::InvalidArgumentError("too many distinct hardware/framework/precision values");
  }
  RowBuilder rows(features);
  const CrossFitFolds folds = AssignFolds(index, options.seed);
  AddTrainingRows(index, rows);
  if (rows.targets().size() < 10) {
    return absl::FailedPreconditionError(absl::StrCat(
        "only ", rows.targets().size(),
        " training situations: need curves from at least two shapes or configurations"));
  }
  const PhysicalExponents physical_exponents = rows.FitPhysicalExponents();
  const WorkloadScales scales = WorkloadSimilarity::ScalesOf(index.anchors());
  absl::StatusOr<std::array<std::vector<ErrorRecord>, 2>> records_held_out;
  absl::StatusOr<XGBoostRegressor> correction;
  {
    absl::StatusOr<XGBoostTrainingSet> training =
        XGBoostTrainingSet::Create(rows.TakeMatrix(), rows.targets());
    if (!training.ok()) return training.status();
    records_held_out = CollectHeldOutErrors(index, features, scales, rows, *training,
                                            physical_exponents, folds, options);
    if (!records_held_out.ok()) return records_held_out.status();
    // Last: XGBoost keeps the histogram index it builds for a set with the set, which then no
    // longer sits beside each fold's.
    correction = XGBoostRegressor::Train(*training, CorrectionParams(options));
    if (!correction.ok()) return correction.status();
  }
  absl::StatusOr<std::pair<ErrorPredictor, IntervalCalibration>> calibration =
      CalibrateIntervals(index, *std::move(records_held_out), options);
  if (!calibration.ok()) return calibration.status();

  auto state = std::make_unique<State>(
      std::move(index), std::move(features), *std::move(correction), physical_exponents, scales,
      std::move(calibration->first), std::move(calibration->second));
  state->info.trained_at_unix_s = absl::ToUnixSeconds(absl::Now());
  state->info.point_count = static_cast<int>(records.size());
  state->info.curve_count = static_cast<int>(state->index.anchors().size());
  state->info.training_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state->info.configuration_count = static_cast<int>(state->index.configurations().size());
  return std::shared_ptr<const PerfcastModel>(std::make_shared<PerfcastModel>(std::move(state)));
}

absl::StatusOr<std::vector<PointPrediction>> PerfcastModel::Predict(
    const PredictionQuery& query, absl::Span<const int> batch_sizes,
    double confidence_level) const {
  if (absl::Status valid = ValidateQuery(query, batch_sizes, confidence_level); !valid.ok()) {
    return valid;
  }
  const State& s = *state_;
  const int own = s.index.Find(query.configuration, query.shape);
  std::vector<AnchorChoice> chosen;
  PredictionCase unmeasured_case;
  if (own >= 0) {
    chosen.push_back({own, true});
    for (const AnchorChoice& c :
         s.index.SameConfiguration(query.configuration, query.shape, kSiblingsWithOwnCurve)) {
      chosen.push_back(c);
    }
    unmeasured_case = PredictionCase::kExtrapolatedBatch;
  } else if (s.index.HasConfiguration(query.configuration)) {
    chosen = s.index.SameConfiguration(query.configuration, query.shape, kSiblingsForNewShape);
    unmeasured_case = PredictionCase::kExtrapolatedShape;
  } else {
    if (absl::Status known = s.CheckKnown(query.configuration); !known.ok()) return known;
    chosen =
        s.index.OtherConfigurations(query.configuration, query.shape, kOtherConfigurations, false);
    unmeasured_case = PredictionCase::kNewConfiguration;
  }
  if (chosen.empty()) return absl::FailedPreconditionError("the model holds no curves");
  const std::vector<Anchor> anchors = AnchorsOf(s.index, chosen);

  std::vector<PointPrediction> out;
  out.reserve(batch_sizes.size());
  for (int batch_size : batch_sizes) {
    PointPrediction p;
    p.batch_size = batch_size;
    p.prediction_case = unmeasured_case;
    double log_throughput;
    // Scale of the conformal score: 1 where the scores are plain measurement errors.
    double expected_absolute_log_error = 1;
    if (own >= 0 && batch_size >= s.index.anchors()[own].min_batch_size() &&
        batch_size <= s.index.anchors()[own].max_batch_size()) {
      const AnchorCurve& curve = s.index.anchors()[own];
      const bool measured =
          std::any_of(curve.curve().points.begin(), curve.curve().points.end(),
                      [&](const CurvePoint& point) { return point.batch_size == batch_size; });
      p.prediction_case = measured ? PredictionCase::kMeasured : PredictionCase::kInterpolated;
      log_throughput = std::log(curve.ThroughputAt(batch_size));
      p.expected_relative_error = std::expm1(s.calibration.ScoreQuantile(p.prediction_case, 0.5));
    } else {
      AnchoredPrediction anchored =
          PredictFromAnchors(s.features, {s.correction.ensemble(), s.physical_exponents},
                             query.configuration, query.shape, anchors, batch_size);
      anchored.features.prediction_case = p.prediction_case;
      anchored.features.neighbourhood =
          s.similarity.Around(query.configuration, query.shape, batch_size, Unobserved{});
      log_throughput = anchored.log_throughput;
      expected_absolute_log_error = s.error_predictor.ExpectedAbsoluteLogError(anchored.features);
      p.expected_relative_error = std::expm1(expected_absolute_log_error);
    }
    const double half_width = s.calibration.ScoreQuantile(p.prediction_case, confidence_level) *
                              expected_absolute_log_error;
    p.throughput_tokens_per_s = std::exp(log_throughput);
    p.lower_tokens_per_s = std::exp(log_throughput - half_width);
    p.upper_tokens_per_s = std::exp(log_throughput + half_width);
    p.batch_latency_s =
        static_cast<double>(query.shape.output_tokens) * batch_size / p.throughput_tokens_per_s;
    out.push_back(p);
  }
  return out;
}

absl::StatusOr<UncertaintyReport> PerfcastModel::Explain(const PredictionQuery& query,
                                                         int batch_size, int neighbor_count) const {
  const int batch[] = {batch_size};
  absl::StatusOr<std::vector<PointPrediction>> prediction = Predict(query, batch, 0.5);
  if (!prediction.ok()) return prediction.status();
  const State& s = *state_;
  UncertaintyReport report;
  report.prediction_case = prediction->front().prediction_case;
  report.expected_relative_error = prediction->front().expected_relative_error;
  const Neighbourhood around =
      s.similarity.Around(query.configuration, query.shape, batch_size, Unobserved{});
  report.nearest_point_distance = around.nearest_point_distance;
  report.nearest_same_configuration_distance = around.nearest_same_configuration_distance;
  report.configuration_curve_count = around.configuration_curve_count;
  report.nearest_curves =
      s.similarity.NearestCurves(query.configuration, query.shape, neighbor_count);
  report.similarity_score = 1.0 / (1.0 + around.nearest_point_distance);
  return report;
}

std::string PerfcastModel::Serialize() const {
  const State& s = *state_;
  ByteWriter w;
  w.PutString(absl::StrCat(
      "perfcast model bundle; format ", kBundleFormatVersion, "; curves ", s.info.curve_count,
      "; points ", s.info.point_count, "; configurations ", s.info.configuration_count,
      "; trained_at_unix_s ", s.info.trained_at_unix_s, "; physical exponents ",
      s.physical_exponents.same_hardware, " (same hardware) ", s.physical_exponents.same_stack,
      " (same software stack) ", s.physical_exponents.other_stack, " (other stack)"));
  w.PutU64(static_cast<uint64_t>(s.info.trained_at_unix_s));
  w.PutDouble(s.info.training_seconds);
  w.PutI32(s.info.point_count);
  const FeatureVocabulary& vocabulary = s.features.vocabulary();
  for (const auto* values :
       {&vocabulary.hardware, &vocabulary.frameworks, &vocabulary.precisions}) {
    w.PutU32(values->size());
    for (const std::string& value : *values) w.PutString(value);
  }
  w.PutU32(s.index.anchors().size());
  for (const AnchorCurve& anchor : s.index.anchors()) {
    const Curve& curve = anchor.curve();
    w.PutString(curve.configuration.hardware);
    w.PutI32(curve.configuration.num_gpus);
    w.PutString(curve.configuration.framework);
    w.PutString(curve.configuration.model);
    w.PutString(curve.configuration.precision);
    w.PutI32(curve.shape.input_tokens);
    w.PutI32(curve.shape.output_tokens);
    w.PutU32(curve.points.size());
    for (const CurvePoint& point : curve.points) {
      w.PutI32(point.batch_size);
      w.PutDouble(point.throughput_tokens_per_s);
    }
    w.PutU32(anchor.fit().has_value());
    if (anchor.fit().has_value()) {
      w.PutDouble(anchor.fit()->a);
      w.PutDouble(anchor.fit()->b);
      w.PutDouble(anchor.fit()->c);
    }
  }
  w.PutString(s.correction.model_bytes());
  w.PutDouble(s.physical_exponents.same_hardware);
  w.PutDouble(s.physical_exponents.same_stack);
  w.PutDouble(s.physical_exponents.other_stack);
  // The catalogue's files verbatim, so that a reloaded model computes the features it was
  // trained on whatever the catalogue on disk says by then.
  const Catalogue* catalogue = s.features.catalogue().get();
  w.PutU32(catalogue != nullptr);
  if (catalogue != nullptr) {
    const CatalogueFiles& files = catalogue->files();
    for (const std::string* text :
         {&files.accelerators, &files.models, &files.precisions, &files.aliases}) {
      w.PutString(*text);
    }
  }
  const WorkloadScales& scales = s.similarity.scales();
  for (double scale : {scales.log2_input_tokens, scales.log2_output_tokens, scales.log2_batch_size,
                       scales.log2_gpus}) {
    w.PutDouble(scale);
  }
  w.PutString(s.error_predictor.model_bytes());
  s.calibration.Serialize(w);
  return SealBundle(w.Take());
}

absl::StatusOr<std::shared_ptr<const PerfcastModel>> PerfcastModel::Deserialize(
    absl::string_view bytes) {
  absl::StatusOr<absl::string_view> payload = OpenBundle(bytes);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
#define PERFCAST_READ(var, expr)                \
  auto var##_or = (expr);                       \
  if (!var##_or.ok()) return var##_or.status(); \
  auto var = *std::move(var##_or)
  PERFCAST_READ(manifest, r.GetString());
  PERFCAST_READ(trained_at, r.GetU64());
  PERFCAST_READ(training_seconds, r.GetDouble());
  PERFCAST_READ(point_count, r.GetI32());
  FeatureVocabulary vocabulary;
  for (auto* values : {&vocabulary.hardware, &vocabulary.frameworks, &vocabulary.precisions}) {
    PERFCAST_READ(count, r.GetU32());
    for (uint32_t i = 0; i < count; ++i) {
      PERFCAST_READ(value, r.GetString());
      values->push_back(std::move(value));
    }
  }
  PERFCAST_READ(curve_count, r.GetU32());
  std::vector<AnchorCurve> anchors;
  for (uint32_t i = 0; i < curve_count; ++i) {
    Curve curve;
    PERFCAST_READ(hardware, r.GetString());
    PERFCAST_READ(num_gpus, r.GetI32());
    PERFCAST_READ(framework, r.GetString());
    PERFCAST_READ(model, r.GetString());
    PERFCAST_READ(precision, r.GetString());
    PERFCAST_READ(input_tokens, r.GetI32());
    PERFCAST_READ(output_tokens, r.GetI32());
    curve.configuration = {hardware, num_gpus, framework, model, precision};
    curve.shape = {input_tokens, output_tokens};
    PERFCAST_READ(point_count_of_curve, r.GetU32());
    if (point_count_of_curve == 0 || point_count_of_curve > 100000) {
      return absl::DataLossError("bundle: curve with an impossible point count");
    }
    for (uint32_t p = 0; p < point_count_of_curve; ++p) {
      PERFCAST_READ(batch_size, r.GetI32());
      PERFCAST_READ(throughput, r.GetDouble());
      curve.points.push_back({batch_size, throughput});
    }
    PERFCAST_READ(has_fit, r.GetU32());
    std::optional<SaturationCurve> fit;
    if (has_fit != 0) {
      PERFCAST_READ(a, r.GetDouble());
      PERFCAST_READ(b, r.GetDouble());
      PERFCAST_READ(c, r.GetDouble());
      fit = SaturationCurve{a, b, c};
    }
    anchors.emplace_back(std::move(curve), fit);
  }
  PERFCAST_READ(correction_bytes, r.GetString());
  absl::StatusOr<XGBoostRegressor> correction = XGBoostRegressor::FromModelBytes(correction_bytes);
  if (!correction.ok()) return correction.status();
  PhysicalExponents physical_exponents;
  for (double* exponent : {&physical_exponents.same_hardware, &physical_exponents.same_stack,
                           &physical_exponents.other_stack}) {
    PERFCAST_READ(value, r.GetDouble());
    if (!(value >= 0 && value <= 1)) {
      return absl::DataLossError("bundle: a physical exponent is outside [0, 1]");
    }
    *exponent = value;
  }
  PERFCAST_READ(has_catalogue, r.GetU32());
  std::shared_ptr<const Catalogue> catalogue;
  if (has_catalogue != 0) {
    CatalogueFiles files;
    for (std::string* text :
         {&files.accelerators, &files.models, &files.precisions, &files.aliases}) {
      PERFCAST_READ(value, r.GetString());
      *text = std::move(value);
    }
    absl::StatusOr<Catalogue> parsed = Catalogue::Parse(std::move(files), "bundle");
    if (!parsed.ok()) {
      return absl::DataLossError(absl::StrCat("bundle: catalogue: ", parsed.status().message()));
    }
    catalogue = std::make_shared<const Catalogue>(*std::move(parsed));
  }
  WorkloadScales scales;
  for (double* scale : {&scales.log2_input_tokens, &scales.log2_output_tokens,
                        &scales.log2_batch_size, &scales.log2_gpus}) {
    PERFCAST_READ(value, r.GetDouble());
    if (!(value > 0)) return absl::DataLossError("bundle: a similarity scale is not positive");
    *scale = value;
  }
  PERFCAST_READ(error_predictor_bytes, r.GetString());
  absl::StatusOr<ErrorPredictor> error_predictor =
      ErrorPredictor::FromModelBytes(error_predictor_bytes);
  if (!error_predictor.ok()) return error_predictor.status();
  absl::StatusOr<IntervalCalibration> calibration = IntervalCalibration::Deserialize(r);
  if (!calibration.ok()) return calibration.status();
#undef PERFCAST_READ
  if (!r.empty()) return absl::DataLossError("bundle: trailing bytes after the last section");

  TransferFeatures features(std::move(vocabulary), std::move(catalogue));
  if (correction->feature_count() != features.column_count()) {
    return absl::DataLossError("bundle: the correction model does not match its features");
  }
  // Train refuses wider models; Predict's row buffers are sized for them.
  if (features.column_count() > kMaxFeatureColumns) {
    return absl::DataLossError(absl::StrCat("bundle: ", features.column_count(),
                                            " feature columns, more than ", kMaxFeatureColumns));
  }
  AnchorIndex index(std::move(anchors));
  UseSoftwareStacks(features, index);
  auto state = std::make_unique<State>(std::move(index), std::move(features),
                                       *std::move(correction), physical_exponents, scales,
                                       *std::move(error_predictor), *std::move(calibration));
  state->info.trained_at_unix_s = static_cast<int64_t>(trained_at);
  state->info.training_seconds = training_seconds;
  state->info.point_count = point_count;
  state->info.curve_count = static_cast<int>(state->index.anchors().size());
  state->info.configuration_count = static_cast<int>(state->index.configurations().size());
  return std::shared_ptr<const PerfcastModel>(std::make_shared<PerfcastModel>(std::move(state)));
}

}  // namespace perfcast
