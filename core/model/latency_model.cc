#include "core/model/latency_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/catalogue/physical_features.h"
#include "core/ml/feature_matrix.h"
#include "core/model/blend_weight.h"
#include "core/model/score_quantiles.h"
#include "core/model/training_rows.h"
#include "core/util/percentile.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

constexpr int kNumericColumns = 11;
constexpr int kFolds = 4;
// Below this many rows a fold model learns nothing worth calibrating on.
constexpr int kMinTrainingRows = 10;
// TTFT never takes more than this share of the batch latency, so that ITL stays positive and the
// point's figures agree (docs/METHOD.md §9).
constexpr double kMaxTtftShare = 0.95;
// The stand-in backbone where the catalogue has no figures: prompt tokens/s and seconds a step.
constexpr double kFallbackPrefillTokensPerS = 1e4;
constexpr double kFallbackStepS = 0.01;
// The weight of the share-of-batch-latency regressor in the TTFT's log: on new-config, alone it
// measured best on Splitwise and worst on InferenceMAX, the backbone regressor the reverse; the
// mean sits between on both (docs/ACCURACY-LOG.md, Latency accuracy).
constexpr double kShareWeight = 0.5;

// An output length's disagreement quantiles need this many points measured at it; with fewer the
// campaign's whole quantiles stand.
constexpr int kMinDisagreementScores = 20;
// Output lengths share their quantiles from 2^this tokens on (a billion), so that every length
// an int holds has a bucket the bundle can store.
constexpr int kMaxLog2OutputTokens = 30;

// round(log2 output tokens), at most kMaxLog2OutputTokens.
int Log2OutputTokensOf(int output_tokens) {
  return std::min(kMaxLog2OutputTokens,
                  static_cast<int>(std::lround(std::log2(std::max(1, output_tokens)))));
}

XGBoostParams LatencyParams(uint64_t seed, int threads) {
  XGBoostParams params;
  params.tree_count = 120;
  params.max_depth = 6;
  params.learning_rate = 0.12;
  params.subsample = 0.8;
  params.colsample_bytree = 0.8;
  params.min_child_weight = 3;
  params.max_bin = 64;
  params.threads = std::max(1, threads);
  params.seed = seed;
  return params;
}

// The tails' regressors: half the trees at twice the rate. A point of a campaign with tails walks
// up to three of them beside the means' two, which sets its cost; they learned InferenceMAX's
// tails no worse than the means' parameters did (docs/ACCURACY-LOG.md, Latency accuracy).
XGBoostParams TailParams(uint64_t seed, int threads) {
  XGBoostParams params = LatencyParams(seed, threads);
  params.tree_count = 60;
  params.learning_rate = 0.24;
  return params;
}

float Log2OrMissing(double x) {
  return x > 0 && std::isfinite(x) ? static_cast<float>(std::log2(x))
                                   : std::numeric_limits<float>::quiet_NaN();
}

const std::string& FieldValue(const Configuration& c, int field) {
  switch (field) {
    case 0:
      return c.hardware;
    case 1:
      return c.framework;
    case 2:
      return c.model;
    case 3:
      return c.precision;
    default:
      return c.campaign;
  }
}

// One training point: its curve's configuration and shape, batch and measured TTFT.
struct LatencyRow {
  const Curve* curve = nullptr;
  int batch_size = 0;
  double ttft_s = 0;
  double batch_latency_s = 0;
  std::optional<double> itl_s;
  std::optional<double> p99_ttft_s;
  std::optional<double> p99_tpot_s;
  int curve_index = 0;
  int configuration_index = 0;
  int campaign_index = 0;
  // Past the part of its curve that the larger-batch protocol keeps (LargerBatchSplit).
  bool past_kept_batches = false;
};

// kScoreQuantileCount disagreement quantiles: absolute log distances, whose exp the ITL's bounds
// take; DataLoss for one that is negative or not finite.
absl::Status GetDisagreementQuantiles(ByteReader& reader, std::vector<double>& quantiles) {
  quantiles.resize(kScoreQuantileCount);
  for (double& q : quantiles) {
    PERFCAST_ASSIGN_OR_RETURN(q, reader.GetDouble());
    if (!std::isfinite(q) || q < 0) {
      return absl::DataLossError("bundle: latency model: bad disagreement quantile");
    }
  }
  return absl::OkStatus();
}

// The held-out answers of one row, in log(TTFT / backbone): its truth, the correction's answer and
// the sibling's (NaN without a sibling).
struct HeldOutAnswer {
  double target = 0;
  double correction = 0;
  double sibling = std::numeric_limits<double>::quiet_NaN();
  bool sibling_one_field_apart = false;
  // One output token: a query answers the whole batch latency there, whatever the blend, and
  // every configuration's share is 1, so the row says nothing of how far a sibling carries over.
  bool single_token = false;
  size_t row = 0;
};

// The weight `answer`'s sibling reads (0 without one); `weights`: of a sibling one field apart
// from its configuration, and of one further apart.
double SiblingWeightFor(const HeldOutAnswer& answer, std::pair<double, double> weights) {
  if (!std::isfinite(answer.sibling)) return 0;
  return answer.sibling_one_field_apart ? weights.first : weights.second;
}

double Blended(const HeldOutAnswer& answer, std::pair<double, double> weights) {
  const double w = SiblingWeightFor(answer, weights);
  if (w == 0) return answer.correction;
  return (1 - w) * answer.correction + w * answer.sibling;
}

// Fewer held-out answers with a sibling than this choose no weight: the sibling stays unread.
constexpr int kMinSiblingAnswers = 20;

// The sibling's weight over the `answers` whose sibling is one field apart from their
// configuration, or further (LeastErrorBlendWeight).
double SiblingWeightOf(absl::Span<const HeldOutAnswer> answers, bool one_field_apart) {
  std::vector<TwoWayAnswer> with_sibling;
  for (const HeldOutAnswer& a : answers) {
    if (std::isfinite(a.sibling) && !a.single_token &&
        a.sibling_one_field_apart == one_field_apart) {
      with_sibling.push_back({a.target, a.correction, a.sibling});
    }
  }
  return LeastErrorBlendWeight(with_sibling, kMinSiblingAnswers);
}

// log(TTFT / backbone) from the two regressors' outputs: `over_backbone` predicts it directly,
// `share` predicts log(TTFT / batch latency); `backbone_over_latency` is log(backbone / batch
// latency).
double Combined(double over_backbone, double share, double backbone_over_latency) {
  return (1 - kShareWeight) * over_backbone + kShareWeight * (share - backbone_over_latency);
}

}  // namespace

double ItlLogHalfWidth(double batch_latency_s, double ttft_s, double latency_share,
                       double throughput_half_width, double ttft_own_half_width,
                       double disagreement) {
  const double decode_s = batch_latency_s - ttft_s;
  return std::hypot(std::hypot((batch_latency_s - latency_share * ttft_s) * throughput_half_width,
                               ttft_s * ttft_own_half_width) /
                        decode_s,
                    disagreement);
}

double TtftBackboneSeconds(const std::optional<ResolvedConfiguration>& resolved, const Shape& shape,
                           int batch_size, BatchSemantics semantics) {
  const int prompts = semantics == BatchSemantics::kConcurrency ? 1 : batch_size;
  const double prompt_tokens = static_cast<double>(prompts) * shape.input_tokens;
  if (resolved.has_value()) {
    const PhysicalCeilings ceilings = ComputePhysicalCeilings(*resolved, shape, batch_size);
    if (ceilings.prefill_tokens_per_s > 0 && ceilings.decode_tokens_per_s > 0 &&
        std::isfinite(ceilings.prefill_tokens_per_s) &&
        std::isfinite(ceilings.decode_tokens_per_s)) {
      return prompt_tokens / ceilings.prefill_tokens_per_s +
             batch_size / ceilings.decode_tokens_per_s;
    }
  }
  return prompt_tokens / kFallbackPrefillTokensPerS + kFallbackStepS;
}

int LatencyModel::column_count() const {
  int count = kNumericColumns;
  for (const std::vector<std::string>& names : names_) count += static_cast<int>(names.size());
  return count;
}

double LatencyModel::BackboneSeconds(const std::optional<ResolvedConfiguration>& resolved,
                                     const Configuration& configuration, const Shape& shape,
                                     int batch_size) const {
  return TtftBackboneSeconds(resolved, shape, batch_size,
                             concurrency_backbone_prefills_own_prompt_
                                 ? configuration.batch_semantics
                                 : BatchSemantics::kStatic);
}

std::optional<ResolvedConfiguration> LatencyModel::ResolveOf(
    const Configuration& configuration) const {
  if (catalogue_ == nullptr) return std::nullopt;
  return catalogue_->LookupConfiguration(configuration);
}

void LatencyModel::FeaturesOf(const Configuration& configuration,
                              const std::optional<ResolvedConfiguration>& resolved,
                              const Shape& shape, int batch_size, double backbone_s,
                              double batch_latency_s, absl::Span<float> row) const {
  constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
  row[0] = Log2OrMissing(batch_size);
  row[1] = Log2OrMissing(shape.input_tokens);
  row[2] = Log2OrMissing(shape.output_tokens);
  row[3] = Log2OrMissing(configuration.num_gpus);
  row[4] = static_cast<float>(configuration.batch_semantics);
  row[5] = Log2OrMissing(backbone_s);
  row[10] = Log2OrMissing(backbone_s / batch_latency_s);
  if (resolved.has_value()) {
    const PhysicalCeilings ceilings = ComputePhysicalCeilings(*resolved, shape, batch_size);
    row[6] = Log2OrMissing(ceilings.prefill_tokens_per_s);
    row[7] = Log2OrMissing(ceilings.decode_batch1_tokens_per_s);
    row[8] = Log2OrMissing(ceilings.decode_tokens_per_s);
    row[9] = Log2OrMissing(resolved->model->active_parameters);
  } else {
    for (int c = 6; c < 10; ++c) row[c] = kMissing;
  }
  int column = kNumericColumns;
  for (int field = 0; field < static_cast<int>(names_.size()); ++field) {
    const std::vector<std::string>& names = names_[field];
    const auto it = std::lower_bound(names.begin(), names.end(), FieldValue(configuration, field));
    const bool known = it != names.end() && *it == FieldValue(configuration, field);
    // A value never trained on leaves its columns missing, as in the throughput features.
    for (size_t i = 0; i < names.size(); ++i) {
      row[column + i] =
          known ? (static_cast<size_t>(it - names.begin()) == i ? 1.0f : 0.0f) : kMissing;
    }
    column += static_cast<int>(names.size());
  }
}

void LatencyModel::BuildLookups() {
  configuration_set_ = {configurations_.begin(), configurations_.end()};
  campaign_set_ = {campaigns_.begin(), campaigns_.end()};
}

absl::StatusOr<LatencyModel> LatencyModel::Train(absl::Span<const Curve> curves,
                                                 std::shared_ptr<const Catalogue> catalogue,
                                                 uint64_t seed, int threads) {
  LatencyModel model;
  model.catalogue_ = std::move(catalogue);
  std::vector<LatencyRow> rows;
  std::vector<std::string> configuration_keys;
  for (size_t c = 0; c < curves.size(); ++c) {
    const Curve& curve = curves[c];
    const size_t kept = LargerBatchSplit(curve.points.size());
    for (size_t p = 0; p < curve.points.size(); ++p) {
      const CurvePoint& point = curve.points[p];
      if (!point.ttft_s.has_value() || !(*point.ttft_s > 0)) continue;
      if (!(point.throughput_tokens_per_s > 0)) continue;
      const double batch_latency = static_cast<double>(curve.shape.output_tokens) *
                                   point.batch_size / point.throughput_tokens_per_s;
      rows.push_back({&curve, point.batch_size, *point.ttft_s, batch_latency, point.itl_s,
                      point.p99_ttft_s, point.p99_tpot_s, static_cast<int>(c), 0, 0, p >= kept});
    }
  }
  if (rows.empty()) return model;
  // Vocabulary, configurations and campaigns of the latency data.
  for (const LatencyRow& row : rows) {
    for (int field = 0; field < static_cast<int>(model.names_.size()); ++field) {
      model.names_[field].push_back(FieldValue(row.curve->configuration, field));
    }
    model.configurations_.push_back(row.curve->configuration.ToString());
    model.campaigns_.push_back(row.curve->configuration.campaign);
  }
  auto sort_unique = [](std::vector<std::string>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  for (std::vector<std::string>& names : model.names_) sort_unique(names);
  sort_unique(model.configurations_);
  sort_unique(model.campaigns_);
  model.BuildLookups();
  for (LatencyRow& row : rows) {
    const std::string key = row.curve->configuration.ToString();
    row.configuration_index = static_cast<int>(
        std::lower_bound(model.configurations_.begin(), model.configurations_.end(), key) -
        model.configurations_.begin());
    row.campaign_index =
        static_cast<int>(std::lower_bound(model.campaigns_.begin(), model.campaigns_.end(),
                                          row.curve->configuration.campaign) -
                         model.campaigns_.begin());
  }

  const int columns = model.column_count();
  FeatureMatrix matrix;
  matrix.column_count = columns;
  matrix.values.resize(static_cast<size_t>(rows.size()) * columns);
  // Two targets, one regressor each, averaged in log: the TTFT over its backbone, and its share
  // of the batch latency (docs/METHOD.md §9).
  std::vector<float> targets(rows.size()), share_targets(rows.size());
  std::vector<double> backbone_over_latency(rows.size());
  {
    const Configuration* resolved_for = nullptr;
    std::optional<ResolvedConfiguration> resolved;
    for (size_t r = 0; r < rows.size(); ++r) {
      const LatencyRow& row = rows[r];
      if (resolved_for != &row.curve->configuration) {
        resolved = model.ResolveOf(row.curve->configuration);
        resolved_for = &row.curve->configuration;
      }
      const double backbone = model.BackboneSeconds(resolved, row.curve->configuration,
                                                    row.curve->shape, row.batch_size);
      model.FeaturesOf(row.curve->configuration, resolved, row.curve->shape, row.batch_size,
                       backbone, row.batch_latency_s,
                       absl::MakeSpan(&matrix.values[r * columns], columns));
      targets[r] = static_cast<float>(std::log(row.ttft_s / backbone));
      share_targets[r] = static_cast<float>(std::log(row.ttft_s / row.batch_latency_s));
      backbone_over_latency[r] = std::log(backbone / row.batch_latency_s);
    }
  }
  const XGBoostParams params = LatencyParams(seed, threads);
  std::vector<LatencySample> samples(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    samples[r] = {rows[r].curve->configuration, rows[r].curve->shape, rows[r].batch_size,
                  std::log(rows[r].ttft_s / rows[r].batch_latency_s)};
  }

  // Held-out errors, one cross-fit per situation: curves out (the configuration keeps its other
  // shapes), the larger batches of curves out (their smaller ones kept), configurations out (the
  // campaign keeps its others), campaigns out. A row whose fold is -1 always trains.
  std::array<std::vector<HeldOutAnswer>, kLatencySituationCount> answers;
  model.siblings_ = LatencySiblings::Build(samples);
  // Each curve's sibling curves in the whole table (empty: none), looked up once.
  std::vector<std::optional<LatencySiblings::SiblingCurves>> siblings_of(curves.size());
  for (const LatencyRow& row : rows) {
    std::optional<LatencySiblings::SiblingCurves>& siblings = siblings_of[row.curve_index];
    if (!siblings.has_value()) {
      siblings = model.siblings_.FindCurves(row.curve->configuration, row.curve->shape,
                                            model.sibling_rule_);
    }
  }
  auto cross_fit = [&](LatencySituation situation, const std::vector<int>& fold_of_row,
                       int fold_count) -> absl::Status {
    for (int fold = 0; fold < fold_count; ++fold) {
      FeatureMatrix train;
      train.column_count = columns;
      std::vector<float> train_targets, train_share_targets;
      std::vector<size_t> held_out;
      for (size_t r = 0; r < rows.size(); ++r) {
        if (fold_of_row[r] == fold) {
          held_out.push_back(r);
        } else {
          train.AddRow(absl::MakeConstSpan(&matrix.values[r * columns], columns));
          train_targets.push_back(targets[r]);
          train_share_targets.push_back(share_targets[r]);
        }
      }
      if (held_out.empty() || static_cast<int>(train_targets.size()) < kMinTrainingRows) continue;
      PERFCAST_ASSIGN_OR_RETURN(const XGBoostRegressor fold_model,
                                XGBoostRegressor::Train(train, train_targets, params));
      PERFCAST_ASSIGN_OR_RETURN(const XGBoostRegressor fold_share_model,
                                XGBoostRegressor::Train(train, train_share_targets, params));
      for (size_t r : held_out) {
        const auto features = absl::MakeConstSpan(&matrix.values[r * columns], columns);
        const double predicted =
            Combined(fold_model.Predict(features), fold_share_model.Predict(features),
                     backbone_over_latency[r]);
        // A held-out row's sibling is the one a query in its situation reads: another
        // configuration of its campaign (never its own, LatencySiblings::FindCurves) from the whole
        // table, since a sibling's share is measured, not trained, and a query sees every other
        // configuration; a campaign held out has none of its own.
        const LatencySiblings::SiblingCurves& siblings = *siblings_of[rows[r].curve_index];
        HeldOutAnswer answer{targets[r], predicted};
        if (situation != LatencySituation::kNewCampaign && !siblings.empty()) {
          answer.sibling =
              model.siblings_.LogShareOn(siblings, rows[r].batch_size) - backbone_over_latency[r];
          answer.sibling_one_field_apart = siblings.one_field_apart;
        }
        answer.single_token = rows[r].curve->shape.output_tokens == 1;
        answer.row = r;
        answers[static_cast<int>(situation)].push_back(answer);
      }
    }
    return absl::OkStatus();
  };
  std::vector<int> fold_of_row(rows.size());
  const std::vector<int> curve_folds =
      BalancedFoldsOf(static_cast<int>(curves.size()), kFolds, seed);
  for (size_t r = 0; r < rows.size(); ++r) fold_of_row[r] = curve_folds[rows[r].curve_index];
  PERFCAST_RETURN_IF_ERROR(cross_fit(LatencySituation::kSameConfiguration, fold_of_row, kFolds));
  for (size_t r = 0; r < rows.size(); ++r) {
    fold_of_row[r] = rows[r].past_kept_batches ? curve_folds[rows[r].curve_index] : -1;
  }
  PERFCAST_RETURN_IF_ERROR(cross_fit(LatencySituation::kExtrapolatedBatch, fold_of_row, kFolds));
  const std::vector<int> configuration_folds =
      BalancedFoldsOf(static_cast<int>(model.configurations_.size()), kFolds, seed + 1);
  for (size_t r = 0; r < rows.size(); ++r) {
    fold_of_row[r] = configuration_folds[rows[r].configuration_index];
  }
  PERFCAST_RETURN_IF_ERROR(cross_fit(LatencySituation::kNewConfiguration, fold_of_row, kFolds));
  if (model.campaigns_.size() >= 2) {
    for (size_t r = 0; r < rows.size(); ++r) fold_of_row[r] = rows[r].campaign_index;
    PERFCAST_RETURN_IF_ERROR(cross_fit(LatencySituation::kNewCampaign, fold_of_row,
                                       static_cast<int>(model.campaigns_.size())));
  }
  // Each situation weighs the sibling by its own held-out answers, and is calibrated on the
  // blend it answers with; the answers that read no sibling (none, or one of a kind weighing 0),
  // which err more where the sibling helps, also on their own.
  for (int s = 0; s < kLatencySituationCount; ++s) {
    model.sibling_weights_[s] = SiblingWeightOf(answers[s], true);
    model.distant_sibling_weights_[s] = SiblingWeightOf(answers[s], false);
    const std::pair<double, double> weights = model.SiblingWeightsAt(s);
    std::vector<double> scores, without_sibling;
    // Each campaign's own too, where the situation knows it (not held out whole); see Complete.
    const bool by_campaign_too = static_cast<LatencySituation>(s) != LatencySituation::kNewCampaign;
    std::vector<std::vector<double>> by_campaign(by_campaign_too ? model.campaigns_.size() : 0);
    for (const HeldOutAnswer& a : answers[s]) {
      // A one-token query answers its whole batch latency and reads no score.
      if (a.single_token) continue;
      scores.push_back(std::abs(Blended(a, weights) - a.target));
      if (SiblingWeightFor(a, weights) == 0) without_sibling.push_back(scores.back());
      if (by_campaign_too) {
        by_campaign[static_cast<size_t>(rows[a.row].campaign_index)].push_back(scores.back());
      }
    }
    if (by_campaign_too) {
      model.campaign_score_counts_[s].assign(model.campaigns_.size(), 0);
      model.campaign_score_quantiles_[s].assign(model.campaigns_.size(), {});
      for (size_t c = 0; c < by_campaign.size(); ++c) {
        model.campaign_score_counts_[s][c] = static_cast<int>(by_campaign[c].size());
        if (!by_campaign[c].empty()) {
          model.campaign_score_quantiles_[s][c] = ScoreQuantilesOf(std::move(by_campaign[c]));
        }
      }
    }
    model.score_counts_[s] = static_cast<int>(scores.size());
    if (!scores.empty()) model.score_quantiles_[s] = ScoreQuantilesOf(std::move(scores));
    model.no_sibling_counts_[s] = static_cast<int>(without_sibling.size());
    if (!without_sibling.empty()) {
      model.no_sibling_quantiles_[s] = ScoreQuantilesOf(std::move(without_sibling));
    }
  }

  // How far the data's own ITL lies from the one their throughput and TTFT imply, per campaign
  // and pooled (the last entry): widens the ITL interval (docs/METHOD.md §9).
  std::vector<std::vector<double>> disagreement(model.campaigns_.size() + 1);
  std::vector<std::map<int, std::vector<double>>> disagreement_by_output(disagreement.size());
  for (const LatencyRow& row : rows) {
    const int output_tokens = row.curve->shape.output_tokens;
    if (!row.itl_s.has_value() || !(*row.itl_s > 0) || output_tokens < 2 ||
        !(row.batch_latency_s > row.ttft_s)) {
      continue;
    }
    const double implied = (row.batch_latency_s - row.ttft_s) / (output_tokens - 1);
    const double score = std::abs(std::log(*row.itl_s / implied));
    disagreement[row.campaign_index].push_back(score);
    disagreement.back().push_back(score);
    const int length = Log2OutputTokensOf(output_tokens);
    disagreement_by_output[row.campaign_index][length].push_back(score);
    disagreement_by_output.back()[length].push_back(score);
  }
  model.disagreement_by_output_.resize(disagreement.size());
  for (size_t c = 0; c < disagreement.size(); ++c) {
    for (auto& [length, scores] : disagreement_by_output[c]) {
      if (static_cast<int>(scores.size()) < kMinDisagreementScores) continue;
      model.disagreement_by_output_[c].push_back({length, ScoreQuantilesOf(std::move(scores))});
    }
  }
  model.disagreement_quantiles_.resize(disagreement.size());
  for (size_t c = 0; c < disagreement.size(); ++c) {
    if (!disagreement[c].empty()) {
      model.disagreement_quantiles_[c] = ScoreQuantilesOf(std::move(disagreement[c]));
    }
  }

  // The 99th percentiles on the same features: the TTFT's over its backbone, and over its mean
  // where the mean's held-out answer says how far a query's mean errs; the TPOT's over the mean
  // the same row measured (their ratio barely moves).
  // Each row's held-out log(TTFT / backbone), as answered with curves and configurations out.
  std::array<std::vector<std::optional<double>>, 2> held_out_log_ttft;
  for (int situation = 0; situation < 2; ++situation) {
    const int s = static_cast<int>(situation == 0 ? LatencySituation::kSameConfiguration
                                                  : LatencySituation::kNewConfiguration);
    held_out_log_ttft[situation].resize(rows.size());
    for (const HeldOutAnswer& a : answers[s]) {
      held_out_log_ttft[situation][a.row] = Blended(a, model.SiblingWeightsAt(s));
    }
  }
  std::vector<TailSample> tail_samples;
  constexpr int kTtftTail = static_cast<int>(TailTarget::kTtft);
  constexpr int kTpotTail = static_cast<int>(TailTarget::kTpot);
  for (size_t r = 0; r < rows.size(); ++r) {
    const LatencyRow& row = rows[r];
    if (row.curve->shape.output_tokens < 2) continue;
    TailSample sample;
    if (row.p99_ttft_s.has_value() && *row.p99_ttft_s > 0) {
      // targets[r] is log(TTFT / backbone).
      sample.log_over_reference[kTtftTail] =
          std::log(*row.p99_ttft_s) - std::log(row.ttft_s) + targets[r];
      sample.log_mean_over_reference[kTtftTail] = targets[r];
      for (int situation = 0; situation < 2; ++situation) {
        sample.held_out_log_mean_over_reference[situation] = held_out_log_ttft[situation][r];
      }
    }
    if (row.p99_tpot_s.has_value() && *row.p99_tpot_s > 0 && row.itl_s.has_value() &&
        *row.itl_s > 0) {
      sample.log_over_reference[kTpotTail] = std::log(*row.p99_tpot_s / *row.itl_s);
    }
    if (!sample.log_over_reference[0].has_value() && !sample.log_over_reference[1].has_value()) {
      continue;
    }
    sample.feature_row = static_cast<int>(r);
    sample.configuration = &row.curve->configuration;
    sample.curve_fold = curve_folds[row.curve_index];
    sample.configuration_fold = configuration_folds[row.configuration_index];
    tail_samples.push_back(sample);
  }
  PERFCAST_ASSIGN_OR_RETURN(
      model.tails_, LatencyTails::Train(matrix, tail_samples, TailParams(seed, threads), kFolds));

  PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor correction,
                            XGBoostRegressor::Train(matrix, targets, params));
  PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor share_correction,
                            XGBoostRegressor::Train(matrix, share_targets, params));
  model.correction_ = std::move(correction);
  model.share_correction_ = std::move(share_correction);
  return model;
}

LatencySituation LatencyModel::SituationOf(const Configuration& configuration) const {
  if (configuration_set_.contains(configuration.ToString())) {
    return LatencySituation::kSameConfiguration;
  }
  if (campaign_set_.contains(configuration.campaign)) return LatencySituation::kNewConfiguration;
  return LatencySituation::kNewCampaign;
}

std::optional<int> LatencyModel::CalibratedSituation(LatencySituation situation) const {
  // A situation without scores borrows those of the next less supported one that has some;
  // the last has nothing to borrow from.
  for (int s = static_cast<int>(situation); s < kLatencySituationCount; ++s) {
    if (score_counts_[s] > 0) return s;
  }
  return std::nullopt;
}

double LatencyModel::sibling_weight(LatencySituation situation) const {
  const std::optional<int> s = CalibratedSituation(situation);
  return s.has_value() ? sibling_weights_[*s] : 0;
}

double LatencyModel::distant_sibling_weight(LatencySituation situation) const {
  const std::optional<int> s = CalibratedSituation(situation);
  return s.has_value() ? distant_sibling_weights_[*s] : 0;
}

double LatencyModel::SiblingWeight(LatencySituation situation, bool one_field_apart) const {
  return one_field_apart ? sibling_weight(situation) : distant_sibling_weight(situation);
}

bool LatencyModel::WeighsSiblings(LatencySituation situation) const {
  return sibling_weight(situation) > 0 || distant_sibling_weight(situation) > 0;
}

std::pair<double, double> LatencyModel::SiblingWeightsAt(int situation) const {
  return {sibling_weights_[situation], distant_sibling_weights_[situation]};
}

std::optional<double> LatencyModel::ScoreQuantile(LatencySituation situation, double level) const {
  const std::optional<int> s = CalibratedSituation(situation);
  if (!s.has_value()) return std::nullopt;
  return ConformalScoreQuantile(score_quantiles_[*s], score_counts_[*s], level);
}

std::optional<double> LatencyModel::NoSiblingScoreQuantile(LatencySituation situation,
                                                           double level) const {
  const std::optional<int> s = CalibratedSituation(situation);
  if (!s.has_value() || !WeighsSiblings(situation)) return std::nullopt;
  const int n = no_sibling_counts_[*s];
  // Too few to reach the level: the pooled scores stand.
  if (!ReachesLevel(n, level)) return std::nullopt;
  return ConformalScoreQuantile(no_sibling_quantiles_[*s], n, level);
}

std::optional<size_t> LatencyModel::CampaignIndexOf(const std::string& campaign) const {
  const size_t c =
      std::lower_bound(campaigns_.begin(), campaigns_.end(), campaign) - campaigns_.begin();
  if (c >= campaigns_.size() || campaigns_[c] != campaign) return std::nullopt;
  return c;
}

std::optional<double> LatencyModel::CampaignScoreQuantile(LatencySituation situation,
                                                          const std::string& campaign,
                                                          double level) const {
  const std::optional<int> s = CalibratedSituation(situation);
  if (!s.has_value()) return std::nullopt;
  const std::optional<size_t> c = CampaignIndexOf(campaign);
  if (!c.has_value() || *c >= campaign_score_counts_[*s].size()) return std::nullopt;
  const int n = campaign_score_counts_[*s][*c];
  if (!CampaignScoresSuffice(n, level)) return std::nullopt;
  return ConformalScoreQuantile(campaign_score_quantiles_[*s][*c], n, level);
}

double LatencyModel::DisagreementQuantile(const std::string& campaign, int output_tokens,
                                          double level) const {
  const std::optional<size_t> campaign_index = CampaignIndexOf(campaign);
  std::optional<size_t> entry;
  if (campaign_index.has_value() && *campaign_index < disagreement_quantiles_.size() &&
      !disagreement_quantiles_[*campaign_index].empty()) {
    entry = campaign_index;
  } else if (!disagreement_quantiles_.empty() && !disagreement_quantiles_.back().empty()) {
    entry = disagreement_quantiles_.size() - 1;
  }
  if (!entry.has_value()) return 0;
  const std::vector<double>* quantiles = &disagreement_quantiles_[*entry];
  if (*entry < disagreement_by_output_.size()) {
    const int length = Log2OutputTokensOf(output_tokens);
    for (const OutputDisagreement& at : disagreement_by_output_[*entry]) {
      if (at.log2_output_tokens == length) quantiles = &at.quantiles;
    }
  }
  return ScoreQuantileAt(*quantiles, std::clamp(level, 0.0, 1.0));
}

void LatencyModel::Complete(const PredictionQuery& query, double confidence_level,
                            absl::Span<PointPrediction> points,
                            const std::string* tails_campaign) const {
  if (empty()) return;
  const LatencySituation situation = SituationOf(query.configuration);
  const std::optional<double> measured_configuration_half_width =
      ScoreQuantile(situation, confidence_level);
  if (!measured_configuration_half_width.has_value()) return;
  // Past its own curve's batches, a configuration's TTFT is extrapolated, and its answers read
  // the calibration and weight of that situation; any other situation has one for both.
  const LatencySituation extrapolated_situation = situation == LatencySituation::kSameConfiguration
                                                      ? LatencySituation::kExtrapolatedBatch
                                                      : situation;
  const double extrapolated_half_width = ScoreQuantile(extrapolated_situation, confidence_level)
                                             .value_or(*measured_configuration_half_width);
  const LatencySiblings::SiblingCurves sibling_curves =
      WeighsSiblings(situation) || WeighsSiblings(extrapolated_situation)
          ? siblings_.FindCurves(query.configuration, query.shape, sibling_rule_)
          : LatencySiblings::SiblingCurves{};
  // The weights of the query's kind of sibling, within its curve's batches and past them.
  const double weight = SiblingWeight(situation, sibling_curves.one_field_apart);
  const double extrapolated_weight =
      SiblingWeight(extrapolated_situation, sibling_curves.one_field_apart);
  // Where the situation weighs a sibling and a point reads none (the query has none, or one of a
  // kind weighing 0), the answers that read none calibrate it.
  const std::optional<double> no_sibling_half_width =
      NoSiblingScoreQuantile(situation, confidence_level);
  const std::optional<double> extrapolated_no_sibling_half_width =
      NoSiblingScoreQuantile(extrapolated_situation, confidence_level);
  const std::optional<double> campaign_half_width =
      CampaignScoreQuantile(situation, query.configuration.campaign, confidence_level);
  // As the pooled half-width, the extrapolated one falls back on the measured configuration's.
  const std::optional<double> extrapolated_campaign_half_width =
      ScoreQuantile(extrapolated_situation, confidence_level).has_value()
          ? CampaignScoreQuantile(extrapolated_situation, query.configuration.campaign,
                                  confidence_level)
          : campaign_half_width;
  const int own_curve = situation == LatencySituation::kSameConfiguration
                            ? siblings_.OwnCurve(query.configuration, query.shape)
                            : -1;
  const double disagreement = DisagreementQuantile(query.configuration.campaign,
                                                   query.shape.output_tokens, confidence_level);
  const std::optional<ResolvedConfiguration> resolved = ResolveOf(query.configuration);
  const int columns = column_count();
  const int output_tokens = query.shape.output_tokens;
  // Every point's features first, then each correction over all of them at once: they differ
  // only where the batch enters, which the tree walker takes together (the sums are the same as
  // one row at a time).
  std::vector<size_t> answered;
  std::vector<double> backbones;
  std::vector<float> rows;
  for (size_t i = 0; i < points.size(); ++i) {
    const double batch_latency = points[i].batch_latency_s;
    if (!(batch_latency > 0) || !std::isfinite(batch_latency)) continue;
    const double backbone =
        BackboneSeconds(resolved, query.configuration, query.shape, points[i].batch_size);
    rows.resize(rows.size() + static_cast<size_t>(columns));
    FeaturesOf(query.configuration, resolved, query.shape, points[i].batch_size, backbone,
               batch_latency, absl::MakeSpan(rows).last(static_cast<size_t>(columns)));
    answered.push_back(i);
    backbones.push_back(backbone);
  }
  std::vector<float> over_backbone(answered.size());
  std::vector<float> share(answered.size());
  correction_->ensemble().PredictSimilarRows(rows, columns, absl::MakeSpan(over_backbone));
  share_correction_->ensemble().PredictSimilarRows(rows, columns, absl::MakeSpan(share));
  for (size_t k = 0; k < answered.size(); ++k) {
    PointPrediction& p = points[answered[k]];
    const double batch_latency = p.batch_latency_s;
    const double backbone = backbones[k];
    const double backbone_over_latency = std::log(backbone / batch_latency);
    const bool extrapolated = p.prediction_case == PredictionCase::kExtrapolatedBatch;
    // Within the batches of its own latency curve at this shape the correction was trained on the
    // configuration's TTFT, which no sibling knows better; the weights were chosen where it was
    // not (curves held out).
    const bool within_own_curve = own_curve >= 0 && siblings_.Spans(own_curve, p.batch_size);
    const double w = !sibling_curves.empty() && !within_own_curve
                         ? (extrapolated ? extrapolated_weight : weight)
                         : 0;
    double log_over_backbone = Combined(over_backbone[k], share[k], backbone_over_latency);
    if (w > 0) {
      const double sibling =
          siblings_.LogShareOn(sibling_curves, p.batch_size) - backbone_over_latency;
      log_over_backbone = (1 - w) * log_over_backbone + w * sibling;
    }
    double ttft = backbone * std::exp(log_over_backbone);
    p.latency_statistic = LatencyStatistic::kMean;
    if (output_tokens == 1) {
      // The batch's one token is its first: TTFT is the whole batch latency, no gap follows.
      const double throughput_half_width =
          std::log(p.upper_tokens_per_s / p.throughput_tokens_per_s);
      p.ttft_s = batch_latency;
      p.ttft_lower_s = batch_latency * std::exp(-throughput_half_width);
      p.ttft_upper_s = batch_latency * std::exp(throughput_half_width);
      p.itl_s = p.itl_lower_s = p.itl_upper_s = 0;
      continue;
    }
    // Held at its most, the TTFT is that share of the batch latency and moves with it wholly.
    const bool held_at_share = ttft > kMaxTtftShare * batch_latency;
    ttft = std::min(ttft, kMaxTtftShare * batch_latency);
    const double decode = batch_latency - ttft;
    // The held-out scores were made with the measured batch latency; the parts of the TTFT read
    // as a share of it (the share regressor's, the sibling's) also carry the predicted latency's
    // error, taken as independent.
    const double throughput_half_width = std::log(p.upper_tokens_per_s / p.throughput_tokens_per_s);
    // A point within its own curve answers with the correction, trained there, and reads the
    // scores of curves held out, which overstate its error whether or not a sibling exists.
    const std::optional<double>& no_sibling =
        extrapolated ? extrapolated_no_sibling_half_width : no_sibling_half_width;
    // A campaign with answers enough of its own reads them: harnesses differ in how far their
    // TTFT can be told, and a campaign of few results errs as its few configurations held out
    // from each other did, more than the pooled campaigns of many. A point without a sibling
    // errs at least as the pooled answers without one did, and more where its campaign errs
    // more than the pool (never otherwise: one campaign's scores are the pooled ones).
    const std::optional<double>& own_campaign =
        extrapolated ? extrapolated_campaign_half_width : campaign_half_width;
    const double pooled =
        extrapolated ? extrapolated_half_width : *measured_configuration_half_width;
    const bool without_sibling = no_sibling.has_value() && !within_own_curve && w == 0;
    double half_width = without_sibling ? *no_sibling : pooled;
    if (own_campaign.has_value()) {
      if (!without_sibling) {
        half_width = *own_campaign;
      } else if (*own_campaign > pooled) {
        half_width = std::max(half_width, *own_campaign);
      }
    }
    const double latency_share = held_at_share ? 1.0 : (1 - w) * kShareWeight + w;
    const double ttft_half_width = std::hypot(half_width, latency_share * throughput_half_width);
    p.ttft_s = ttft;
    p.ttft_lower_s = ttft * std::exp(-ttft_half_width);
    p.ttft_upper_s = ttft * std::exp(ttft_half_width);
    p.itl_s = decode / (output_tokens - 1);
    const double itl_half_width = ItlLogHalfWidth(batch_latency, ttft, latency_share,
                                                  throughput_half_width, half_width, disagreement);
    p.itl_lower_s = p.itl_s * std::exp(-itl_half_width);
    p.itl_upper_s = p.itl_s * std::exp(itl_half_width);
    // The first token cannot take longer than the whole batch at its upper bound, nor the gaps
    // after it where the campaign's figures agree: where TTFT is most of the batch latency, the
    // decode time is a small difference whose relative error explodes. A campaign whose own ITLs
    // lie far from the ones its latencies imply may measure gaps that far past the batch
    // (docs/METHOD.md §9).
    const double longest_batch = batch_latency * std::exp(throughput_half_width);
    p.ttft_upper_s = std::max(p.ttft_s, std::min(p.ttft_upper_s, longest_batch));
    const double longest_gap = longest_batch * std::exp(disagreement) / (output_tokens - 1);
    p.itl_upper_s = std::max(p.itl_s, std::min(p.itl_upper_s, longest_gap));
  }
  if (tails_campaign != nullptr && output_tokens >= 2) {
    Configuration tails_of = query.configuration;
    tails_of.campaign = *tails_campaign;
    if (tails_of.campaign != query.configuration.campaign) {
      // The trees read the campaign among their features, and a tail is its harness's: the rows
      // again, as the named campaign's.
      for (size_t k = 0; k < answered.size(); ++k) {
        const PointPrediction& p = points[answered[k]];
        FeaturesOf(tails_of, resolved, query.shape, p.batch_size, backbones[k], p.batch_latency_s,
                   absl::MakeSpan(rows).subspan(k * static_cast<size_t>(columns),
                                                static_cast<size_t>(columns)));
      }
    }
    CompleteTails(tails_of, confidence_level, rows, answered, backbones, points);
  }
}

void LatencyModel::CompleteTails(const Configuration& configuration, double confidence_level,
                                 absl::Span<const float> rows, absl::Span<const size_t> answered,
                                 absl::Span<const double> backbones,
                                 absl::Span<PointPrediction> points) const {
  std::vector<double> log_mean_over_reference(answered.size()), log_over_reference(answered.size());
  for (const TailTarget target : {TailTarget::kTtft, TailTarget::kTpot}) {
    const std::optional<LatencyTails::Calibration> calibration =
        tails_.CalibrationOf(target, configuration, confidence_level);
    if (!calibration.has_value()) continue;
    const bool ttft = target == TailTarget::kTtft;
    // The TTFT's reference is its backbone, the TPOT's its mean.
    for (size_t k = 0; k < answered.size(); ++k) {
      const PointPrediction& p = points[answered[k]];
      log_mean_over_reference[k] = ttft && p.ttft_s > 0 ? std::log(p.ttft_s / backbones[k]) : 0;
    }
    tails_.PredictLogOverReference(target, calibration->mean_weight, rows, column_count(),
                                   log_mean_over_reference, absl::MakeSpan(log_over_reference));
    for (size_t k = 0; k < answered.size(); ++k) {
      PointPrediction& p = points[answered[k]];
      const double mean = ttft ? p.ttft_s : p.itl_s;
      if (!(mean > 0)) continue;
      // The held-out scores were made with the measured batch latency, which the features read
      // and a query only predicts: the TTFT's answer carries the predicted latency's error, and
      // the TPOT's its predicted mean's, each taken as independent of the scores. A 99th
      // percentile is never below its mean.
      const double reference = ttft ? backbones[k] : mean;
      const double tail = std::max(mean, reference * std::exp(log_over_reference[k]));
      const double half_width =
          std::hypot(ttft ? std::log(p.upper_tokens_per_s / p.throughput_tokens_per_s)
                          : std::log(p.itl_upper_s / mean),
                     calibration->half_width);
      (ttft ? p.p99_ttft_s : p.p99_tpot_s) = tail;
      (ttft ? p.p99_ttft_lower_s : p.p99_tpot_lower_s) = tail * std::exp(-half_width);
      (ttft ? p.p99_ttft_upper_s : p.p99_tpot_upper_s) = tail * std::exp(half_width);
    }
  }
}

void LatencyModel::EncodeTailsTo(ByteWriter& writer) const { tails_.EncodeTo(writer); }

absl::Status LatencyModel::DecodeTailsFrom(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(tails_, LatencyTails::DecodeFrom(reader, column_count()));
  return absl::OkStatus();
}

void LatencyModel::EncodeCampaignScoresTo(ByteWriter& writer) const {
  for (int s = 0; s < kLatencySituationCount; ++s) {
    writer.PutU32(campaign_score_counts_[s].size());
    for (size_t c = 0; c < campaign_score_counts_[s].size(); ++c) {
      PutScoreQuantiles(writer, campaign_score_counts_[s][c], campaign_score_quantiles_[s][c]);
    }
  }
}

absl::Status LatencyModel::DecodeCampaignScoresFrom(ByteReader& reader) {
  for (int s = 0; s < kLatencySituationCount; ++s) {
    PERFCAST_ASSIGN_OR_RETURN(const uint32_t count, reader.GetU32());
    // A situation has an entry for every trained campaign, or none (a campaign held out whole).
    if (count != 0 && count != campaigns_.size()) {
      return absl::DataLossError(absl::StrCat("bundle: latency model: ", count,
                                              " campaigns' scores for ", campaigns_.size(),
                                              " campaigns"));
    }
    if (count != 0 && static_cast<LatencySituation>(s) == LatencySituation::kNewCampaign) {
      return absl::DataLossError("bundle: latency model: campaign scores of a campaign held out");
    }
    campaign_score_counts_[s].assign(count, 0);
    campaign_score_quantiles_[s].assign(count, {});
    int64_t total = 0;
    for (uint32_t c = 0; c < count; ++c) {
      PERFCAST_RETURN_IF_ERROR(
          GetScoreQuantiles(reader, kMaxStoredScoreCount, "bundle: latency model: campaign scores",
                            campaign_score_counts_[s][c], campaign_score_quantiles_[s][c]));
      total += campaign_score_counts_[s][c];
    }
    // The campaigns split the pooled answers.
    if (count != 0 && total != score_counts_[s]) {
      return absl::DataLossError(absl::StrCat("bundle: latency model: campaign scores count ",
                                              total, " answers, the pooled ", score_counts_[s]));
    }
  }
  return absl::OkStatus();
}

void LatencyModel::EncodeTo(ByteWriter& writer) const {
  writer.PutU32(empty() ? 0 : 1);
  if (empty()) return;
  for (const std::vector<std::string>& names : names_) writer.PutStrings(names);
  writer.PutStrings(configurations_);
  writer.PutStrings(campaigns_);
  for (int s = 0; s < kLatencySituationCount; ++s) {
    PutScoreQuantiles(writer, score_counts_[s], score_quantiles_[s]);
  }
  writer.PutU32(disagreement_quantiles_.size());
  for (const std::vector<double>& quantiles : disagreement_quantiles_) {
    writer.PutU32(quantiles.empty() ? 0 : 1);
    for (double q : quantiles) writer.PutDouble(q);
  }
  correction_->EncodeTo(writer);
  share_correction_->EncodeTo(writer);
}

absl::StatusOr<LatencyModel> LatencyModel::DecodeFrom(ByteReader& reader,
                                                      std::shared_ptr<const Catalogue> catalogue,
                                                      uint32_t bundle_format) {
  LatencyModel model;
  model.catalogue_ = std::move(catalogue);
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t present, reader.GetU32());
  if (present == 0) return model;
  constexpr uint32_t kMaxNames = 1000000;
  auto read_list = [&](std::vector<std::string>& list) -> absl::Status {
    PERFCAST_ASSIGN_OR_RETURN(
        list, reader.GetStrings(kMaxNames, "bundle: latency model: too many names"));
    return absl::OkStatus();
  };
  for (std::vector<std::string>& names : model.names_) PERFCAST_RETURN_IF_ERROR(read_list(names));
  PERFCAST_RETURN_IF_ERROR(read_list(model.configurations_));
  PERFCAST_RETURN_IF_ERROR(read_list(model.campaigns_));
  // Format 10 and older: no kExtrapolatedBatch scores; the others in enum order.
  const bool has_extrapolated_batch = bundle_format >= 11;
  model.concurrency_backbone_prefills_own_prompt_ =
      bundle_format >= kFirstLatencyFormatWithConcurrencyBackbone;
  model.sibling_rule_ = bundle_format >= kFirstLatencyFormatWithSamePrecisionSiblingsFirst
                            ? LatencySiblings::Rule::kSamePrecisionFirst
                        : bundle_format >= kFirstLatencyFormatWithNearAndDistantSiblings
                            ? LatencySiblings::Rule::kAsManyFieldsShared
                            : LatencySiblings::Rule::kNearestAlone;
  for (int s = 0; s < kLatencySituationCount; ++s) {
    if (s == static_cast<int>(LatencySituation::kExtrapolatedBatch) && !has_extrapolated_batch) {
      continue;
    }
    PERFCAST_RETURN_IF_ERROR(GetScoreQuantiles(reader, kMaxStoredScoreCount,
                                               "bundle: latency model", model.score_counts_[s],
                                               model.score_quantiles_[s]));
  }
  if (!has_extrapolated_batch) {
    const int same = static_cast<int>(LatencySituation::kSameConfiguration);
    const int extrapolated = static_cast<int>(LatencySituation::kExtrapolatedBatch);
    model.score_counts_[extrapolated] = model.score_counts_[same];
    model.score_quantiles_[extrapolated] = model.score_quantiles_[same];
  }
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t disagreement_count, reader.GetU32());
  if (disagreement_count != model.campaigns_.size() + 1) {
    return absl::DataLossError("bundle: latency model: bad disagreement count");
  }
  model.disagreement_quantiles_.resize(disagreement_count);
  for (std::vector<double>& quantiles : model.disagreement_quantiles_) {
    PERFCAST_ASSIGN_OR_RETURN(const uint32_t present_quantiles, reader.GetU32());
    if (present_quantiles == 0) continue;
    PERFCAST_RETURN_IF_ERROR(GetDisagreementQuantiles(reader, quantiles));
  }
  PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor correction, XGBoostRegressor::DecodeFrom(reader));
  PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor share_correction,
                            XGBoostRegressor::DecodeFrom(reader));
  if (correction.feature_count() != model.column_count() ||
      share_correction.feature_count() != model.column_count()) {
    return absl::DataLossError("bundle: the latency model does not match its features");
  }
  model.correction_ = std::move(correction);
  model.share_correction_ = std::move(share_correction);
  model.BuildLookups();
  return model;
}

void LatencyModel::EncodeSiblingsTo(ByteWriter& writer) const {
  for (double weight : sibling_weights_) writer.PutDouble(weight);
  for (int s = 0; s < kLatencySituationCount; ++s) {
    PutScoreQuantiles(writer, no_sibling_counts_[s], no_sibling_quantiles_[s]);
  }
  siblings_.EncodeTo(writer);
}

void LatencyModel::EncodeDisagreementByOutputTo(ByteWriter& writer) const {
  writer.PutU32(disagreement_by_output_.size());
  for (const std::vector<OutputDisagreement>& lengths : disagreement_by_output_) {
    writer.PutU32(lengths.size());
    for (const OutputDisagreement& at : lengths) {
      writer.PutI32(at.log2_output_tokens);
      for (double q : at.quantiles) writer.PutDouble(q);
    }
  }
}

absl::Status LatencyModel::DecodeDisagreementByOutputFrom(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t count, reader.GetU32());
  // One entry per campaign and the pooled one, as the whole quantiles (none for a model trained
  // on no latencies).
  if (count != disagreement_quantiles_.size()) {
    return absl::DataLossError("bundle: latency model: bad disagreement-by-output count");
  }
  disagreement_by_output_.assign(count, {});
  for (std::vector<OutputDisagreement>& lengths : disagreement_by_output_) {
    PERFCAST_ASSIGN_OR_RETURN(const uint32_t length_count, reader.GetU32());
    if (length_count > kMaxLog2OutputTokens + 1) {
      return absl::DataLossError("bundle: latency model: bad output-length count");
    }
    for (uint32_t i = 0; i < length_count; ++i) {
      OutputDisagreement at;
      PERFCAST_ASSIGN_OR_RETURN(at.log2_output_tokens, reader.GetI32());
      if (at.log2_output_tokens < 0 || at.log2_output_tokens > kMaxLog2OutputTokens ||
          (!lengths.empty() && !(at.log2_output_tokens > lengths.back().log2_output_tokens))) {
        return absl::DataLossError("bundle: latency model: bad or unordered output length");
      }
      PERFCAST_RETURN_IF_ERROR(GetDisagreementQuantiles(reader, at.quantiles));
      lengths.push_back(std::move(at));
    }
  }
  return absl::OkStatus();
}

absl::Status LatencyModel::DecodeSiblingsFrom(ByteReader& reader) {
  for (double& weight : sibling_weights_) {
    PERFCAST_ASSIGN_OR_RETURN(weight, reader.GetDouble());
    if (!(weight >= 0 && weight <= 1)) {
      return absl::DataLossError("bundle: latency model: sibling weight outside [0, 1]");
    }
  }
  for (int s = 0; s < kLatencySituationCount; ++s) {
    // The answers without a sibling are some of the situation's.
    PERFCAST_RETURN_IF_ERROR(GetScoreQuantiles(reader, static_cast<uint32_t>(score_counts_[s]),
                                               "bundle: latency model: no-sibling scores",
                                               no_sibling_counts_[s], no_sibling_quantiles_[s]));
  }
  PERFCAST_ASSIGN_OR_RETURN(siblings_, LatencySiblings::DecodeFrom(reader));
  // Until format 26 one weight served every sibling; from it, its own section follows.
  distant_sibling_weights_ = sibling_weights_;
  return absl::OkStatus();
}

void LatencyModel::EncodeDistantSiblingWeightsTo(ByteWriter& writer) const {
  for (double weight : distant_sibling_weights_) writer.PutDouble(weight);
}

absl::Status LatencyModel::DecodeDistantSiblingWeightsFrom(ByteReader& reader) {
  for (double& weight : distant_sibling_weights_) {
    PERFCAST_ASSIGN_OR_RETURN(weight, reader.GetDouble());
    if (!(weight >= 0 && weight <= 1)) {
      return absl::DataLossError("bundle: latency model: distant sibling weight outside [0, 1]");
    }
  }
  return absl::OkStatus();
}

}  // namespace perfcast
