#include "core/model/perfcast_model.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/data/curve.h"
#include "core/fit/anchor_curve.h"
#include "core/ml/xgboost_training_set.h"
#include "core/model/anchor_rooflines.h"
#include "core/model/anchored_prediction.h"
#include "core/model/correction_params.h"
#include "core/model/cross_fit_folds.h"
#include "core/model/fold_models.h"
#include "core/model/held_out_errors.h"
#include "core/model/perfcast_model_internal.h"
#include "core/model/split_conformal.h"
#include "core/model/training_rows.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

// The calibration's view of a query's names the training data lack.
UnseenField UnseenFieldOf(absl::Span<const UnseenName> unseen) {
  if (unseen.empty()) return UnseenField::kNone;
  for (const UnseenName& name : unseen) {
    if (name.field == ConfigurationField::kHardware) return UnseenField::kHardware;
  }
  return UnseenField::kFrameworkModelOrPrecision;
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

// The folds under which `previous`'s fold models may predict the held-out errors of a training
// on `index`, whose own folds would be `fresh` (TrainOptions::reuse_cross_fit_of); otherwise why
// they may not.
std::variant<CrossFitFolds, CrossFitSource> FoldsReusing(const PerfcastModel::State& previous,
                                                         const AnchorIndex& index,
                                                         const CrossFitFolds& fresh,
                                                         const TrainOptions& options) {
  if (!previous.cross_fit.has_value()) return CrossFitSource::kEarlierHasNone;
  const FoldModels& models = *previous.cross_fit->models;
  if (models.seed != options.seed || models.features.catalogue().get() != options.catalogue.get()) {
    return CrossFitSource::kOtherSettings;
  }
  if (static_cast<double>(index.anchors().size()) > models.curve_count * (1 + kMaxCrossFitGrowth)) {
    return CrossFitSource::kPastGrowthBound;
  }
  // A name the fold models never saw (a GPU, engine, precision or model a new campaign brings)
  // does not make them grow: no fold model trained on a row of it, so each predicts its curves
  // held out, as a model that never saw the name or its campaign would, which is where the
  // other configurations of a campaign with a few results stand (docs/METHOD.md §5).
  std::optional<CrossFitFolds> carried =
      CarryFolds(previous.index, previous.cross_fit->folds, index, fresh, options.catalogue.get());
  // A hardware type the fold models never saw takes its fresh fold (or none, when they have no
  // hardware set): only a removal makes CarryFolds refuse.
  if (!carried.has_value()) return CrossFitSource::kCurvesRemoved;
  return *std::move(carried);
}

}  // namespace

absl::string_view CrossFitSourceName(CrossFitSource source) {
  switch (source) {
    case CrossFitSource::kGrown:
      return "grown";
    case CrossFitSource::kReused:
      return "reused";
    case CrossFitSource::kEarlierHasNone:
      return "grown_earlier_has_none";
    case CrossFitSource::kOtherSettings:
      return "grown_other_settings";
    case CrossFitSource::kCurvesRemoved:
      return "grown_curves_removed";
    case CrossFitSource::kPastGrowthBound:
      return "grown_past_growth_bound";
  }
  return "unknown";
}

PerfcastModel::State::State(AnchorIndex index_in, TransferFeatures features_in,
                            XGBoostRegressor correction_in, PhysicalExponents physical_exponents_in,
                            WorkloadScales scales, ErrorPredictor error_predictor_in,
                            IntervalCalibration calibration_in, CampaignLevels campaign_levels_in)
    : index(std::move(index_in)),
      features(std::move(features_in)),
      correction(std::move(correction_in)),
      physical_exponents(physical_exponents_in),
      similarity(index.anchors(), scales),
      error_predictor(std::move(error_predictor_in)),
      calibration(std::move(calibration_in)),
      campaign_levels(std::move(campaign_levels_in)) {
  names = TrainedNames(index.configurations(), features.catalogue().get());
  for (const AnchorCurve& anchor : index.anchors()) {
    const Curve& curve = anchor.curve();
    measured_range.largest_input_tokens =
        std::max(measured_range.largest_input_tokens, curve.shape.input_tokens);
    measured_range.largest_output_tokens =
        std::max(measured_range.largest_output_tokens, curve.shape.output_tokens);
  }
}

absl::Status PerfcastModel::State::CheckKnown(const Configuration& query) const {
  const Catalogue* catalogue = features.catalogue().get();
  if (catalogue == nullptr) return absl::OkStatus();
  if (!names.Carries(ConfigurationField::kHardware, query.hardware)) {
    if (absl::Status found = catalogue->FindAccelerator(query.hardware).status(); !found.ok()) {
      return found;
    }
  }
  if (!names.Carries(ConfigurationField::kModel, query.model)) {
    return catalogue->FindModel(query.model).status();
  }
  return absl::OkStatus();
}

PerfcastModel::State::ResolvedQuery PerfcastModel::State::Resolve(
    const PredictionQuery& asked) const {
  TrainedNames::Resolved resolved = names.Resolve(asked.configuration);
  ResolvedQuery out{{std::move(resolved.configuration), asked.shape}, std::move(resolved.unseen)};
  // An empty campaign in a query always asks for the population, even when results without a
  // campaign (the submitters' unnamed one) were trained on.
  out.population = out.query.configuration.campaign.empty() ||
                   !campaign_levels.Knows(out.query.configuration.campaign);
  out.level_campaign = out.query.configuration.campaign;
  Configuration& configuration = out.query.configuration;
  if (!out.population && index.HasConfiguration(configuration)) return out;
  // A system is its hardware, GPU count, engine, model and precision on its batch axis, however
  // the data spell them; the query's spelling first.
  std::vector<Configuration> spellings = names.SpellingsOf(configuration);
  if (!out.population) {
    // The named campaign's own curves of the system, spelt as it spelt them.
    for (const Configuration& spelled : spellings) {
      if (index.HasConfiguration(spelled)) {
        configuration = spelled;
        return out;
      }
    }
  }
  // A campaign that never measured the system reads the curves of one that did, at its own level,
  // as the population does at theirs: the same system's curves say more than the campaign's other
  // systems, once the campaigns' levels are taken out.
  const absl::Span<const Configuration> as_asked = absl::MakeConstSpan(spellings).first(1);
  std::optional<Configuration> measuring = index.ConfigurationMeasuring(as_asked, out.query.shape);
  if (!measuring.has_value()) {
    measuring =
        index.ConfigurationMeasuring(absl::MakeConstSpan(spellings).subspan(1), out.query.shape);
  }
  if (measuring.has_value()) {
    out.read_across = !out.population;
    configuration = *std::move(measuring);
    if (out.population) out.level_campaign = configuration.campaign;
  }
  return out;
}

PerfcastModel::PerfcastModel(std::unique_ptr<State> state) : state_(std::move(state)) {}
PerfcastModel::~PerfcastModel() = default;

const ModelInfo& PerfcastModel::info() const { return state_->info; }

CrossFitSource PerfcastModel::cross_fit_source() const { return state_->cross_fit_source; }

const Catalogue* PerfcastModel::catalogue() const { return state_->features.catalogue().get(); }

void PerfcastModel::VisitTrainingCurves(absl::FunctionRef<void(const Curve&)> visit) const {
  for (const AnchorCurve& anchor : state_->index.anchors()) visit(anchor.curve());
}

std::vector<Configuration> PerfcastModel::Configurations() const {
  return state_->index.configurations();
}

absl::StatusOr<std::shared_ptr<const PerfcastModel>> PerfcastModel::Train(
    absl::Span<const BenchmarkRecord> records, const TrainOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  // The stages that take the time, in order; a caller shows them as progress.
  constexpr int kStages = 4;
  auto stage_done = [&options](int done, absl::string_view next) {
    if (options.progress) options.progress(done, kStages, next);
  };
  std::vector<Curve> curves = GroupIntoCurves(records);
  if (curves.empty()) return absl::FailedPreconditionError("no benchmark results to train on");
  PERFCAST_ASSIGN_OR_RETURN(
      LatencyModel latency,
      LatencyModel::Train(curves, options.catalogue, options.seed, options.threads));
  std::vector<AnchorCurve> anchors;
  std::vector<Configuration> configurations;
  anchors.reserve(curves.size());
  for (Curve& curve : curves) {
    configurations.push_back(curve.configuration);
    anchors.emplace_back(std::move(curve));
  }
  AttachRooflines(options.catalogue.get(), absl::MakeSpan(anchors));
  AnchorIndex index(std::move(anchors));
  TransferFeatures features(FeatureVocabulary::FromConfigurations(configurations),
                            options.catalogue);
  UseSoftwareStacks(features, index);
  if (features.column_count() > kMaxFeatureColumns) {
    return absl::InvalidArgumentError("too many distinct hardware/framework/precision values");
  }
  RowBuilder rows(features);
  State::CrossFit cross_fit{nullptr, AssignFolds(index, options.seed, options.catalogue.get())};
  CrossFitSource cross_fit_source = CrossFitSource::kGrown;
  if (options.reuse_cross_fit_of != nullptr) {
    const State& previous = *options.reuse_cross_fit_of->state_;
    std::variant<CrossFitFolds, CrossFitSource> reusing =
        FoldsReusing(previous, index, cross_fit.folds, options);
    if (auto* carried = std::get_if<CrossFitFolds>(&reusing)) {
      cross_fit = {previous.cross_fit->models, std::move(*carried)};
      cross_fit_source = CrossFitSource::kReused;
    } else {
      cross_fit_source = std::get<CrossFitSource>(reusing);
    }
  }
  AddTrainingRows(index, rows);
  if (rows.targets().size() < 10) {
    return absl::FailedPreconditionError(absl::StrCat(
        "only ", rows.targets().size(),
        " training situations: need curves from at least two shapes or configurations"));
  }
  PhysicalExponents physical_exponents = rows.FitPhysicalExponents();
  physical_exponents.efficiency_ceiling =
      EfficiencyCeilingOf(options.catalogue.get(), index.anchors(), kEfficiencyCeilingQuantile);
  stage_done(1, "cross-fit and held-out errors");
  const WorkloadScales scales = WorkloadSimilarity::ScalesOf(index.anchors());
  std::array<std::vector<ErrorRecord>, 2> held_out_errors;
  std::vector<CampaignResidual> campaign_residuals;
  absl::StatusOr<XGBoostRegressor> correction;
  {
    // The rows stay ours (sparse) while the fold models copy theirs from them; XGBoost's matrix of
    // every row is made for the served model alone, once they are done, and ours freed before it
    // trains.
    SparseFeatureMatrix matrix = rows.TakeMatrix();
    if (cross_fit.models == nullptr) {
      PERFCAST_ASSIGN_OR_RETURN(FoldModels grown,
                                TrainFoldModels(index, rows, matrix, cross_fit.folds, features,
                                                physical_exponents, options));
      cross_fit.models = std::make_shared<const FoldModels>(std::move(grown));
    }
    held_out_errors = CollectHeldOutErrors(index, scales, *cross_fit.models, cross_fit.folds,
                                           options, campaign_residuals);
    // Freed before the served correction allocates its own: released later, they would leave
    // holes that keep the process's memory high after training.
    if (!options.keep_cross_fit) cross_fit.models.reset();
    stage_done(2, "correction model");
    absl::StatusOr<XGBoostTrainingSet> training =
        XGBoostTrainingSet::Create(matrix, rows.targets());
    matrix = SparseFeatureMatrix{};
    if (!training.ok()) return training.status();
    correction = XGBoostRegressor::Train(*training, CorrectionParams(options));
    if (!correction.ok()) return correction.status();
  }
  stage_done(3, "error predictor and calibration");
  PERFCAST_ASSIGN_OR_RETURN(auto calibration,
                            CalibrateIntervals(index, std::move(held_out_errors), options));
  stage_done(4, "");
  std::vector<std::string> campaigns;
  for (const Configuration& c : index.configurations()) {
    if (campaigns.empty() || campaigns.back() != c.campaign) campaigns.push_back(c.campaign);
  }
  CampaignLevels campaign_levels = CampaignLevels::Estimate(campaigns, campaign_residuals);

  auto state =
      std::make_unique<State>(std::move(index), std::move(features), *std::move(correction),
                              physical_exponents, scales, std::move(calibration.error_predictor),
                              std::move(calibration.points), std::move(campaign_levels));
  state->whole_curve_calibration = std::move(calibration.whole_curves);
  state->campaign_calibrations = std::move(calibration.campaigns);
  state->latency = std::move(latency);
  if (options.keep_cross_fit) state->cross_fit = std::move(cross_fit);
  state->cross_fit_source = cross_fit_source;
  state->info.trained_at_unix_s = absl::ToUnixSeconds(absl::Now());
  state->info.point_count = static_cast<int>(records.size());
  state->info.curve_count = static_cast<int>(state->index.anchors().size());
  state->info.training_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state->info.configuration_count = static_cast<int>(state->index.configurations().size());
  return PerfcastModelInternal::FromState(std::move(state));
}

std::vector<std::string> PerfcastModel::UnseenNames(const Configuration& configuration) const {
  std::vector<std::string> names;
  for (const UnseenName& unseen : state_->names.UnseenNamesOf(configuration)) {
    names.push_back(unseen.ToString());
  }
  return names;
}

absl::StatusOr<std::vector<PointPrediction>> PerfcastModel::Predict(
    const PredictionQuery& asked, absl::Span<const int> batch_sizes,
    double confidence_level) const {
  return Predict(asked, batch_sizes, confidence_level, IntervalScope::kEachPoint);
}

absl::StatusOr<std::vector<PointPrediction>> PerfcastModel::Predict(
    const PredictionQuery& asked, absl::Span<const int> batch_sizes, double confidence_level,
    IntervalScope scope) const {
  PredictOptions options;
  options.scope = scope;
  return Predict(asked, batch_sizes, confidence_level, options);
}

void PerfcastModel::CompleteLatencies(const PredictionQuery& asked, double confidence_level,
                                      absl::Span<PointPrediction> points) const {
  state_->latency.Complete(state_->Resolve(asked).query, confidence_level, points);
}

absl::StatusOr<std::vector<PointPrediction>> PerfcastModel::Predict(
    const PredictionQuery& asked, absl::Span<const int> batch_sizes, double confidence_level,
    const PredictOptions& options) const {
  const IntervalScope scope = options.scope;
  PERFCAST_RETURN_IF_ERROR(ValidateQuery(asked, batch_sizes, confidence_level));
  const State& s = *state_;
  const State::ResolvedQuery resolved = s.Resolve(asked);
  const PredictionQuery& query = resolved.query;
  // A name no training configuration carries: the intervals of a new configuration calibrated
  // on predictions made without that name (RowKind::kUnseenName, kUnseenHardware).
  const UnseenField unseen = UnseenFieldOf(resolved.unseen);
  // No campaign, or one the data lack: the population's answer (docs/METHOD.md §8). It reads the
  // curves of a campaign that measured the system, at that campaign's level, and its interval is
  // at least as wide as the campaigns scatter.
  const bool population = resolved.population;
  // Read wholly across campaigns: the population's answer, or a named campaign's of a system only
  // others measured.
  const bool across = population || resolved.read_across;
  // A population answer read from a campaign that measured the system stays at that campaign's
  // level along the whole curve; one with no such campaign is at the population's (0). A named
  // campaign's read off another's curves takes the named one's.
  const double query_level = s.campaign_levels.LevelOf(resolved.level_campaign);
  const double own_curve_offset =
      query_level - s.campaign_levels.LevelOf(query.configuration.campaign);
  const int own = s.index.Find(query.configuration, query.shape);
  std::vector<AnchorChoice> chosen;
  PredictionCase unmeasured_case;
  if (own >= 0) {
    chosen = ExtrapolatedBatchAnchors(s.index, own);
    unmeasured_case = PredictionCase::kExtrapolatedBatch;
  } else if (s.index.HasConfiguration(query.configuration)) {
    chosen = NewShapeAnchors(s.index, query.configuration, query.shape);
    unmeasured_case = PredictionCase::kExtrapolatedShape;
  } else {
    PERFCAST_RETURN_IF_ERROR(s.CheckKnown(query.configuration));
    chosen = s.index.OtherConfigurations(query.configuration, query.shape, kOtherConfigurations);
    unmeasured_case = PredictionCase::kNewConfiguration;
  }
  if (chosen.empty()) return absl::FailedPreconditionError("the model holds no curves");
  const std::vector<Anchor> anchors = AnchorsOf(s.index, chosen);
  std::optional<ShapeTransfer> transfer =
      unmeasured_case == PredictionCase::kExtrapolatedShape
          ? ShapeTransferOf(s.index, query.configuration, query.shape, anchors)
          : std::nullopt;
  if (transfer.has_value()) transfer->own_level_offset = own_curve_offset;
  const bool one_own_curve = unmeasured_case == PredictionCase::kExtrapolatedShape &&
                             OwnCurveCount(anchors, query.configuration) == 1;
  // Anchors of other campaigns carry their campaign's level: taken out, the query's put in.
  const size_t used_anchors = std::min(anchors.size(), kMaxAnchors);
  std::vector<double> level_offsets(used_anchors, 0.0);
  int of_other_campaigns = 0;
  for (size_t i = 0; i < used_anchors; ++i) {
    const std::string& campaign = anchors[i].curve->curve().configuration.campaign;
    if (campaign != resolved.level_campaign) {
      level_offsets[i] = query_level - s.campaign_levels.LevelOf(campaign);
      ++of_other_campaigns;
    }
  }
  // How far an answer read across campaigns may lie from what the campaign measures is the
  // campaigns' scatter (RowKind::kCampaignSpread); an answer read partly across them, that share
  // of it. A population answer is read wholly across them; a named campaign's, by the share of its
  // anchors that other campaigns measured (an answer is made of their readings), times one less
  // the weight a shape transfer reads off the configuration's own curve (per point, below). A
  // campaign's few results say little about how far its other configurations and shapes lie from
  // the others'.
  const double anchors_floor_share =
      across ? 1.0 : static_cast<double>(of_other_campaigns) / static_cast<double>(used_anchors);

  // The asked names: the catalogue knows them, the trained names may be other spellings.
  MemoryBudget memory = MemoryBudget::Of(catalogue(), asked.configuration, asked.shape);
  // This curve ran, so one sequence of its shape fits whatever the rule says (a higher memory
  // share, offload, a layout the label hides): the rule does not decide here.
  if (own >= 0 && memory.At(1).verdict == MemoryVerdict::kDoesNotFit) {
    memory = MemoryBudget::Unknown(
        absl::StrCat("measured runs of this configuration and shape contradict the memory rule (",
                     memory.At(1).reason, ")"));
  }

  // Whether a batch size is read off the query's own measured curve; the others are predicted
  // from anchors, with the neighbourhood of each, found in one pass over the curves.
  const auto on_own_curve = [&](int batch_size) {
    return own >= 0 && batch_size >= s.index.anchors()[own].min_batch_size() &&
           batch_size <= s.index.anchors()[own].max_batch_size();
  };
  std::vector<MemoryFit> fits;
  fits.reserve(batch_sizes.size());
  std::vector<bool> skipped(batch_sizes.size(), false);
  std::vector<double> anchored_batch_sizes;
  for (size_t i = 0; i < batch_sizes.size(); ++i) {
    const int batch_size = batch_sizes[i];
    fits.push_back(memory.At(batch_size));
    if (on_own_curve(batch_size)) continue;
    skipped[i] = options.resident_points_only && !fits.back().AllResident(batch_size);
    if (!skipped[i]) anchored_batch_sizes.push_back(batch_size);
  }
  const std::vector<Neighbourhood> neighbourhoods =
      s.similarity.AroundEach(query.configuration, query.shape, anchored_batch_sizes, Unobserved{});
  size_t next_neighbourhood = 0;

  // First each point's prediction and, off the own curve, the features of its expected error;
  // then the error predictor over all of them at once; then the intervals.
  std::vector<PointPrediction> out;
  out.reserve(batch_sizes.size());
  std::vector<double> log_throughputs;
  std::vector<size_t> anchored_points;
  std::vector<ErrorFeatures> error_features;
  std::vector<AnchoredPrediction> anchored_each = PredictFromAnchorsEach(
      s.features,
      {s.correction.ensemble(), s.physical_exponents, s.anchor_combination,
       s.trees_held_at_trained_batch
           ? s.index.LargestTrainedBatchFor(query.configuration.batch_semantics)
           : std::numeric_limits<double>::infinity()},
      query.configuration, query.shape, anchors, anchored_batch_sizes, level_offsets);
  for (int batch_size : batch_sizes) {
    PointPrediction p;
    p.batch_size = batch_size;
    p.prediction_case = unmeasured_case;
    p.memory = std::move(fits[out.size()]);
    if (skipped[out.size()]) {
      log_throughputs.push_back(-std::numeric_limits<double>::infinity());
    } else if (on_own_curve(batch_size)) {
      const AnchorCurve& curve = s.index.anchors()[own];
      const bool measured =
          std::any_of(curve.curve().points.begin(), curve.curve().points.end(),
                      [&](const CurvePoint& point) { return point.batch_size == batch_size; });
      p.prediction_case = measured ? PredictionCase::kMeasured : PredictionCase::kInterpolated;
      log_throughputs.push_back(std::log(curve.ThroughputAt(batch_size)) + own_curve_offset);
      p.expected_relative_error = std::expm1(s.calibration.ScoreQuantile(p.prediction_case, 0.5));
    } else {
      AnchoredPrediction& anchored = anchored_each[next_neighbourhood];
      anchored.features.prediction_case = p.prediction_case;
      anchored.features.neighbourhood = neighbourhoods[next_neighbourhood++];
      ApplyShapeTransfer(transfer, batch_size, anchored);
      log_throughputs.push_back(anchored.log_throughput);
      anchored_points.push_back(out.size());
      error_features.push_back(anchored.features);
    }
    out.push_back(std::move(p));
  }
  // Scale of each point's conformal score: 1 where the scores are plain measurement errors.
  std::vector<double> expected_absolute_log_errors(out.size(), 1);
  const std::vector<double> expected = s.error_predictor.ExpectedAbsoluteLogErrors(error_features);
  for (size_t k = 0; k < anchored_points.size(); ++k) {
    expected_absolute_log_errors[anchored_points[k]] = expected[k];
    out[anchored_points[k]].expected_relative_error = std::expm1(expected[k]);
  }
  const CampaignCalibration* own_campaign =
      across ? nullptr : s.campaign_calibrations.Of(query.configuration.campaign);
  for (size_t i = 0; i < out.size(); ++i) {
    PointPrediction& p = out[i];
    const double log_throughput = log_throughputs[i];
    const double expected_absolute_log_error = expected_absolute_log_errors[i];
    const int batch_size = p.batch_size;
    RowKind kind = KindOf(p.prediction_case, unseen, one_own_curve);
    // A GPU without scores of its own (a bundle before format 22, data without hardware folds)
    // reads every unseen name's situation, its campaign's own included, as before.
    if (kind == RowKind::kUnseenHardware) kind = s.calibration.KindRead(kind, confidence_level);
    // The whole-curve calibration where it holds the kind that would be read (a kind that
    // borrows another's quantiles reads them in the same calibration).
    const bool whole_curve = scope == IntervalScope::kWholeCurve && kind != RowKind::kMeasurement &&
                             s.whole_curve_calibration.ScoreCount(
                                 s.whole_curve_calibration.KindRead(kind, confidence_level)) > 0;
    // A trained campaign reads its own scores of the situation for each point where it has
    // enough; the population and a campaign without them read the pooled ones, as every bound for
    // a whole curve does (CampaignCalibration says why).
    const IntervalCalibration* own_points =
        own_campaign == nullptr ? nullptr : own_campaign->Find(kind, confidence_level);
    const IntervalCalibration& calibration = whole_curve             ? s.whole_curve_calibration
                                             : own_points != nullptr ? *own_points
                                                                     : s.calibration;
    double score_quantile = calibration.ScoreQuantile(kind, confidence_level);
    // A bound for every point at once is never narrower than the campaign's own bound for each
    // point, which the pooled whole curves can be where the campaign errs more than the others.
    if (whole_curve && own_points != nullptr) {
      score_quantile = std::max(score_quantile, own_points->ScoreQuantile(kind, confidence_level));
    }
    double half_width = score_quantile * expected_absolute_log_error;
    // A transfer exists only for a new shape, whose every point is read off the anchors.
    const double campaign_floor_share =
        across || !transfer.has_value()
            ? anchors_floor_share
            : anchors_floor_share * (1 - transfer->WeightAt(batch_size));
    if (campaign_floor_share > 0 && s.calibration.ScoreCount(RowKind::kCampaignSpread) > 0) {
      half_width = std::max(
          half_width, campaign_floor_share *
                          s.calibration.ScoreQuantile(RowKind::kCampaignSpread, confidence_level));
    }
    if (skipped[i]) continue;  // no throughput, as for a point that does not fit
    p.throughput_tokens_per_s = std::exp(log_throughput);
    p.lower_tokens_per_s = std::exp(log_throughput - half_width);
    p.upper_tokens_per_s = std::exp(log_throughput + half_width);
    p.batch_latency_s =
        static_cast<double>(query.shape.output_tokens) * batch_size / p.throughput_tokens_per_s;
    // It cannot run: no throughput (docs/METHOD.md §10). The case and expected error stay.
    if (p.memory.verdict == MemoryVerdict::kDoesNotFit) {
      p.throughput_tokens_per_s = p.lower_tokens_per_s = p.upper_tokens_per_s = 0;
      p.batch_latency_s = 0;
    }
  }
  if (options.latencies) {
    s.latency.Complete(query, confidence_level, absl::MakeSpan(out),
                       options.tails && !population ? &resolved.level_campaign : nullptr);
  }
  return out;
}

absl::StatusOr<UncertaintyReport> PerfcastModel::Explain(const PredictionQuery& query,
                                                         int batch_size, int neighbor_count) const {
  const int batch[] = {batch_size};
  PERFCAST_ASSIGN_OR_RETURN(const std::vector<PointPrediction> prediction,
                            Predict(query, batch, 0.5));
  const State& s = *state_;
  const State::ResolvedQuery resolved = s.Resolve(query);
  const Configuration& configuration = resolved.query.configuration;
  UncertaintyReport report;
  report.prediction_case = prediction.front().prediction_case;
  report.expected_relative_error = prediction.front().expected_relative_error;
  for (const UnseenName& unseen : resolved.unseen) report.unseen_names.push_back(unseen.ToString());
  report.population = resolved.population;
  if (resolved.population && !query.configuration.campaign.empty()) {
    report.outside_data.push_back(
        absl::StrCat("campaign '", query.configuration.campaign,
                     "' is not in the data: answered for the population of campaigns"));
  }
  if (resolved.read_across) {
    report.outside_data.push_back(absl::StrCat("campaign '", query.configuration.campaign,
                                               "' never measured this system: read off '",
                                               configuration.campaign, "''s curves, moved to '",
                                               query.configuration.campaign, "''s level"));
  }
  if (prediction.front().memory.verdict == MemoryVerdict::kDoesNotFit) {
    report.outside_data.push_back(
        absl::StrCat("does not fit in memory: ", prediction.front().memory.reason));
  }
  // Beyond what any campaign measured: no curve there to be read, only extrapolated.
  const int largest_batch = s.index.LargestBatchOn(configuration.batch_semantics);
  const int largest_input = s.measured_range.largest_input_tokens;
  const int largest_output = s.measured_range.largest_output_tokens;
  if (batch_size > largest_batch) {
    report.outside_data.push_back(absl::StrCat(
        "batch_size ", batch_size, " is beyond every campaign's largest ",
        BatchSemanticsName(configuration.batch_semantics), " batch (", largest_batch, ")"));
  }
  if (query.shape.input_tokens > largest_input) {
    report.outside_data.push_back(absl::StrCat("input_tokens ", query.shape.input_tokens,
                                               " is beyond every campaign's largest (",
                                               largest_input, ")"));
  }
  if (query.shape.output_tokens > largest_output) {
    report.outside_data.push_back(absl::StrCat("output_tokens ", query.shape.output_tokens,
                                               " is beyond every campaign's largest (",
                                               largest_output, ")"));
  }
  for (const std::string& name : report.unseen_names) {
    report.outside_data.push_back(absl::StrCat(name, " is in no campaign's data"));
  }
  const Neighbourhood around =
      s.similarity.Around(configuration, query.shape, batch_size, Unobserved{});
  report.nearest_point_distance = around.nearest_point_distance;
  report.nearest_same_configuration_distance = around.nearest_same_configuration_distance;
  report.configuration_curve_count = around.configuration_curve_count;
  report.nearest_curves = s.similarity.NearestCurves(configuration, query.shape, neighbor_count);
  report.similarity_score = 1.0 / (1.0 + around.nearest_point_distance);
  return report;
}

}  // namespace perfcast
