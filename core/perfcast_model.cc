#include "absl/strings/string_view.h"
#include "core/perfcast_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/anchor_index.h"
#include "core/bundle_format.h"
#include "core/curve.h"
#include "core/interval_calibration.h"
#include "core/workload_features.h"
#include "core/xgboost_regressor.h"

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

XGBoostParams CorrectionParams(const TrainOptions& options) {
  XGBoostParams params;
  params.tree_count = 300;
  params.max_depth = 6;
  params.learning_rate = 0.05;
  params.subsample = 0.8;
  params.colsample_bytree = 0.8;
  params.min_child_weight = 2;
  params.threads = options.threads;
  params.seed = options.seed;
  return params;
}

// Rows of "predict the curve at `batch` from `anchor`", target log(true / anchor).
class RowBuilder {
 public:
  explicit RowBuilder(const TransferFeatures& features)
      : features_(features), row_(features.column_count()) {
    matrix_.column_count = features.column_count();
  }

  void AddCurve(const Curve& target, const AnchorCurve& anchor, bool same_curve,
                size_t first_point, RowKind kind, int group) {
    for (size_t p = first_point; p < target.points.size(); ++p) {
      const CurvePoint& point = target.points[p];
      const double anchor_value = anchor.ThroughputAt(point.batch_size);
      if (!(anchor_value > 0) || !std::isfinite(anchor_value)) continue;
      features_.Compute(target.configuration, target.shape, anchor, same_curve, point.batch_size,
                        absl::MakeSpan(row_));
      matrix_.AddRow(row_);
      targets_.push_back(std::log(point.throughput_tokens_per_s / anchor_value));
      kinds_.push_back(kind);
      groups_.push_back(group);
    }
  }

  const FeatureMatrix& matrix() const { return matrix_; }
  const std::vector<float>& targets() const { return targets_; }
  const std::vector<RowKind>& kinds() const { return kinds_; }
  const std::vector<int>& groups() const { return groups_; }

 private:
  const TransferFeatures& features_;
  std::vector<float> row_;
  FeatureMatrix matrix_;
  std::vector<float> targets_;
  std::vector<RowKind> kinds_;
  std::vector<int> groups_;
};

Curve Truncated(const Curve& curve, size_t keep) {
  Curve out{curve.configuration, curve.shape, {}};
  out.points.assign(curve.points.begin(), curve.points.begin() + keep);
  return out;
}

// Every situation a query can be in, simulated on the training curves: another curve of the same
// configuration, the curve's own smaller batches, and curves of other configurations.
void AddTrainingRows(const AnchorIndex& index, RowBuilder& rows) {
  const auto& anchors = index.anchors();
  for (const AnchorCurve& query : anchors) {
    const Curve& curve = query.curve();
    const int group = index.ConfigurationRank(curve.configuration) % 2;
    for (const AnchorChoice& choice :
         index.SameConfiguration(curve.configuration, curve.shape, kSiblingsForNewShape)) {
      rows.AddCurve(curve, anchors[choice.anchor_index], false, 0, RowKind::kOtherShape, group);
    }
    const size_t n = curve.points.size();
    if (n >= 4) {
      for (size_t keep : {(n + 1) / 2, n - 1}) {
        if (keep == n - 1 && keep == (n + 1) / 2) continue;
        rows.AddCurve(curve, AnchorCurve(Truncated(curve, keep)), true, keep,
                      RowKind::kOwnSmallerBatches, group);
      }
    }
    for (bool other_hardware_only : {false, true}) {
      for (const AnchorChoice& choice : index.OtherConfigurations(
               curve.configuration, curve.shape,
               other_hardware_only ? kOtherHardware : kOtherConfigurations, other_hardware_only)) {
        rows.AddCurve(curve, anchors[choice.anchor_index], false, 0,
                      RowKind::kOtherConfiguration, group);
      }
    }
  }
}

// Held-out errors for the intervals: the configurations are split in two halves, a correction
// model is trained on the rows of each and scored on the rows of the other. Measured points are
// scored against their curve's own fit (measurement noise).
absl::StatusOr<IntervalCalibration> CalibrateIntervals(const AnchorIndex& index,
                                                       const RowBuilder& rows,
                                                       const XGBoostParams& params) {
  std::array<std::vector<double>, kRowKindCount> errors;
  const FeatureMatrix& all = rows.matrix();
  for (int held_out = 0; held_out < 2; ++held_out) {
    FeatureMatrix train{all.column_count, {}};
    std::vector<float> targets;
    for (size_t row = 0; row < rows.targets().size(); ++row) {
      if (rows.groups()[row] == held_out) continue;
      train.AddRow(absl::MakeConstSpan(all.values).subspan(row * all.column_count,
                                                          all.column_count));
      targets.push_back(rows.targets()[row]);
    }
    if (targets.empty()) continue;
    absl::StatusOr<XGBoostRegressor> model = XGBoostRegressor::Train(train, targets, params);
    if (!model.ok()) return model.status();
    for (size_t row = 0; row < rows.targets().size(); ++row) {
      if (rows.groups()[row] != held_out) continue;
      const float predicted = model->Predict(
          absl::MakeConstSpan(all.values).subspan(row * all.column_count, all.column_count));
      errors[static_cast<int>(rows.kinds()[row])].push_back(
          std::abs(rows.targets()[row] - predicted));
    }
  }
  for (const AnchorCurve& anchor : index.anchors()) {
    if (!anchor.fit().has_value()) continue;
    for (const CurvePoint& point : anchor.curve().points) {
      const double fitted = anchor.fit()->ThroughputAt(point.batch_size);
      if (fitted > 0) {
        errors[static_cast<int>(RowKind::kMeasurement)].push_back(
            std::abs(std::log(point.throughput_tokens_per_s / fitted)));
      }
    }
  }
  return IntervalCalibration::FromAbsoluteLogErrors(std::move(errors));
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
  ModelInfo info;
  AnchorIndex index;
  TransferFeatures features;
  XGBoostRegressor correction;
  IntervalCalibration calibration;

  // log(throughput) from the anchors, each corrected by the learned model, averaged.
  double CorrectedLogThroughput(const PredictionQuery& query, absl::Span<const AnchorChoice> chosen,
                                double batch_size) const {
    constexpr size_t kMaxAnchors = 8;
    const size_t anchor_count = std::min(chosen.size(), kMaxAnchors);
    const size_t columns = static_cast<size_t>(features.column_count());
    float rows[kMaxAnchors * kMaxFeatureColumns];
    for (size_t i = 0; i < anchor_count; ++i) {
      const AnchorCurve& anchor = index.anchors()[chosen[i].anchor_index];
      features.Compute(query.configuration, query.shape, anchor, chosen[i].is_same_curve,
                       batch_size, absl::Span<float>(rows + i * columns, columns));
    }
    float corrections[kMaxAnchors];
    correction.PredictRows(absl::Span<const float>(rows, anchor_count * columns),
                           absl::Span<float>(corrections, anchor_count));
    double sum = 0;
    for (size_t i = 0; i < anchor_count; ++i) {
      const AnchorCurve& anchor = index.anchors()[chosen[i].anchor_index];
      sum += std::log(anchor.ThroughputAt(batch_size)) + corrections[i];
    }
    return sum / static_cast<double>(anchor_count);
  }
};

PerfcastModel::PerfcastModel(std::unique_ptr<State> state) : state_(std::move(state)) {}
PerfcastModel::~PerfcastModel() = default;

const ModelInfo& PerfcastModel::info() const { return state_->info; }

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
  TransferFeatures features(FeatureVocabulary::FromConfigurations(configurations));
  if (features.column_count() > kMaxFeatureColumns) {
    return absl::InvalidArgumentError("too many distinct hardware/framework/precision values");
  }
  RowBuilder rows(features);
  AddTrainingRows(index, rows);
  if (rows.targets().size() < 10) {
    return absl::FailedPreconditionError(
        absl::StrCat("only ", rows.targets().size(),
                     " training situations: need curves from at least two shapes or configurations"));
  }
  absl::StatusOr<XGBoostRegressor> correction =
      XGBoostRegressor::Train(rows.matrix(), rows.targets(), CorrectionParams(options));
  if (!correction.ok()) return correction.status();
  absl::StatusOr<IntervalCalibration> calibration =
      CalibrateIntervals(index, rows, CorrectionParams(options));
  if (!calibration.ok()) return calibration.status();

  auto state = std::make_unique<State>(State{
      ModelInfo{}, std::move(index), std::move(features), *std::move(correction),
      *std::move(calibration)});
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
    chosen = s.index.OtherConfigurations(query.configuration, query.shape, kOtherConfigurations,
                                         false);
    unmeasured_case = PredictionCase::kNewConfiguration;
  }
  if (chosen.empty()) return absl::FailedPreconditionError("the model holds no curves");

  std::vector<PointPrediction> out;
  out.reserve(batch_sizes.size());
  for (int batch_size : batch_sizes) {
    PointPrediction p;
    p.batch_size = batch_size;
    p.prediction_case = unmeasured_case;
    double log_throughput;
    if (own >= 0 && batch_size >= s.index.anchors()[own].min_batch_size() &&
        batch_size <= s.index.anchors()[own].max_batch_size()) {
      const AnchorCurve& curve = s.index.anchors()[own];
      const bool measured =
          std::any_of(curve.curve().points.begin(), curve.curve().points.end(),
                      [&](const CurvePoint& point) { return point.batch_size == batch_size; });
      p.prediction_case = measured ? PredictionCase::kMeasured : PredictionCase::kInterpolated;
      log_throughput = std::log(curve.ThroughputAt(batch_size));
    } else {
      log_throughput = s.CorrectedLogThroughput(query, chosen, batch_size);
    }
    const double half_width = s.calibration.LogHalfWidth(p.prediction_case, confidence_level);
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
                                                         int batch_size,
                                                         int neighbor_count) const {
  const int batch[] = {batch_size};
  absl::StatusOr<std::vector<PointPrediction>> prediction = Predict(query, batch, 0.5);
  if (!prediction.ok()) return prediction.status();
  const State& s = *state_;
  UncertaintyReport report;
  report.prediction_case = prediction->front().prediction_case;
  report.expected_relative_error =
      std::expm1(s.calibration.LogHalfWidth(report.prediction_case, 0.5));
  std::vector<NeighborCurve> neighbors;
  for (const AnchorCurve& anchor : s.index.anchors()) {
    const Configuration& c = anchor.curve().configuration;
    // Configuration mismatches count as whole units of distance, shapes in log2 units.
    double distance = ShapeDistance(query.shape, anchor.curve().shape) +
                      (c.hardware != query.configuration.hardware) +
                      (c.framework != query.configuration.framework) +
                      (c.model != query.configuration.model) +
                      (c.precision != query.configuration.precision) +
                      std::abs(std::log2(static_cast<double>(c.num_gpus) /
                                         query.configuration.num_gpus));
    neighbors.push_back({c, anchor.curve().shape, distance});
  }
  const int keep = std::clamp<int>(neighbor_count, 0, neighbors.size());
  std::partial_sort(neighbors.begin(), neighbors.begin() + keep, neighbors.end(),
                    [](const NeighborCurve& a, const NeighborCurve& b) {
                      return std::tie(a.distance, a.configuration, a.shape) <
                             std::tie(b.distance, b.configuration, b.shape);
                    });
  neighbors.resize(keep);
  report.nearest_curves = std::move(neighbors);
  const double nearest = report.nearest_curves.empty() ? 10 : report.nearest_curves[0].distance;
  report.similarity_score = 1.0 / (1.0 + nearest);
  return report;
}

std::string PerfcastModel::Serialize() const {
  const State& s = *state_;
  ByteWriter w;
  w.PutString(absl::StrCat("perfcast model bundle; format ", kBundleFormatVersion, "; curves ",
                           s.info.curve_count, "; points ", s.info.point_count,
                           "; configurations ", s.info.configuration_count,
                           "; trained_at_unix_s ", s.info.trained_at_unix_s));
  w.PutU64(static_cast<uint64_t>(s.info.trained_at_unix_s));
  w.PutDouble(s.info.training_seconds);
  w.PutI32(s.info.point_count);
  const FeatureVocabulary& vocabulary = s.features.vocabulary();
  for (const auto* values : {&vocabulary.hardware, &vocabulary.frameworks, &vocabulary.precisions}) {
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
  s.calibration.Serialize(w);
  return SealBundle(w.Take());
}

absl::StatusOr<std::shared_ptr<const PerfcastModel>> PerfcastModel::Deserialize(
    absl::string_view bytes) {
  absl::StatusOr<absl::string_view> payload = OpenBundle(bytes);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
#define PERFCAST_READ(var, expr)                    \
  auto var##_or = (expr);                           \
  if (!var##_or.ok()) return var##_or.status();     \
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
  absl::StatusOr<IntervalCalibration> calibration = IntervalCalibration::Deserialize(r);
  if (!calibration.ok()) return calibration.status();
#undef PERFCAST_READ
  if (!r.empty()) return absl::DataLossError("bundle: trailing bytes after the last section");

  TransferFeatures features(std::move(vocabulary));
  if (correction->feature_count() != features.column_count()) {
    return absl::DataLossError("bundle: the correction model does not match its features");
  }
  auto state = std::make_unique<State>(State{ModelInfo{}, AnchorIndex(std::move(anchors)),
                                             std::move(features), *std::move(correction),
                                             *std::move(calibration)});
  state->info.trained_at_unix_s = static_cast<int64_t>(trained_at);
  state->info.training_seconds = training_seconds;
  state->info.point_count = point_count;
  state->info.curve_count = static_cast<int>(state->index.anchors().size());
  state->info.configuration_count = static_cast<int>(state->index.configurations().size());
  return std::shared_ptr<const PerfcastModel>(std::make_shared<PerfcastModel>(std::move(state)));
}

}  // namespace perfcast
