#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/curve.h"
#include "core/ml/xgboost_regressor.h"
#include "core/model/latency_siblings.h"
#include "core/model/latency_tails.h"
#include "core/model/prediction.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// The analytic backbone of the time to first token (docs/METHOD.md §9): the prompt tokens
// prefilled before a request's first token at the configuration's peak prefill rate, plus one
// decode step of the batch at its memory-bound rate. Every axis but a client's concurrency (a
// static batch, a published maximum at its stand-in batch) prefills all the batch's prompts
// before the first token; under concurrency (continuous batching) requests arrive staggered and
// a request waits for its own prompt, the queueing behind others' being the learned correction's
// to add. Non-decreasing in the batch size and the input tokens. Without catalogue figures for
// the configuration, a fixed stand-in (10,000 prompt tokens/s and 10 ms a step) that the learned
// correction then scales. A model reads it through LatencyModel, which gives a model of bundle
// format 24 or older the static batch's on every axis, as it was trained.
double TtftBackboneSeconds(const std::optional<ResolvedConfiguration>& resolved, const Shape& shape,
                           int batch_size, BatchSemantics semantics);
// The first bundle format (core/bundle/bundle_format.h) whose latency model was trained with a
// concurrency's backbone prefilling the request's own prompt.
inline constexpr uint32_t kFirstLatencyFormatWithConcurrencyBackbone = 25;
// The first bundle format whose latency model reads the mean share of the siblings as near as the
// nearest (LatencySiblings::FindCurves), weighs a sibling more than one field apart from the
// query by a weight of its own (stored after the last section), and chose both weights on such
// answers.
inline constexpr uint32_t kFirstLatencyFormatWithNearAndDistantSiblings = 26;
// The first bundle format whose latency model ranks, among siblings one field apart, one of the
// query's precision first and reads a second only as near in every respect
// (LatencySiblings::Rule::kSamePrecisionFirst), its weights chosen on such answers.
inline constexpr uint32_t kFirstLatencyFormatWithSamePrecisionSiblingsFirst = 27;

// The situations a latency answer can be in, from the most to the least supported by latency
// data; each has its own calibration (docs/METHOD.md §9).
enum class LatencySituation {
  kSameConfiguration,  // the configuration's latencies were measured (at some shape)
  // The same, at a batch past the largest its curve measured: the correction extrapolates, and
  // curves held out whole say nothing of how far it then errs.
  kExtrapolatedBatch,
  kNewConfiguration,  // not this configuration's, but its campaign's
  kNewCampaign,       // no latency of the campaign at all
};
inline constexpr int kLatencySituationCount = 4;

// How far the log of a point's ITL may err, from the errors of what it is made of: the ITL is
// (batch latency - TTFT) / (output tokens - 1), and the TTFT's read-as-a-share part
// (`latency_share` of its log) moves with the batch latency. An error of the batch latency
// therefore moves the decode time by (batch latency - share x TTFT) of itself, once; the TTFT's
// own error (`ttft_own_half_width`, from the held-out answers made with the measured batch
// latency) and how far the campaign's own ITLs lie from the ones its figures imply
// (`disagreement`) add as independent. Log half-widths throughout.
// REQUIRES: 0 < ttft_s < batch_latency_s.
double ItlLogHalfWidth(double batch_latency_s, double ttft_s, double latency_share,
                       double throughput_half_width, double ttft_own_half_width,
                       double disagreement);

// Predicts the mean TTFT and ITL of a point from its throughput prediction, so that the figures
// of one point agree: TTFT from its backbone under a learned correction (two XGBoost regressors,
// of log(TTFT / backbone) and of log(TTFT / batch latency), averaged), blended in log with the
// share of the batch latency its nearest sibling configurations measured (two where as near), by
// a weight its held-out errors chose for that kind of sibling, and calibrated by them; ITL = (batch
// latency - TTFT) / (output tokens - 1). An empty model (trained on no latencies, or decoded from a
// bundle from before them) answers nothing.
//
// Thread safety: immutable once built; every const method may be called from any thread.
class LatencyModel {
 public:
  LatencyModel() = default;

  // Learns from the points of `curves` that carry a TTFT. An empty model when none do.
  static absl::StatusOr<LatencyModel> Train(absl::Span<const Curve> curves,
                                            std::shared_ptr<const Catalogue> catalogue,
                                            uint64_t seed, int threads);

  bool empty() const { return !correction_.has_value(); }

  // Fills the latency fields of `points`, whose throughput and interval are set, for `query`
  // (its names the trained ones). Leaves them kUnavailable when the model is empty or has no
  // calibration for the query's situation. The 99th percentiles only with `tails_campaign`, the
  // campaign a query named (where its results carried them): one answered for the population of
  // campaigns reads a campaign's curves, but a tail belongs to the harness that measured it, and
  // a named campaign's query read off another campaign's curves has the named one's tails.
  void Complete(const PredictionQuery& query, double confidence_level,
                absl::Span<PointPrediction> points,
                const std::string* tails_campaign = nullptr) const;

  LatencySituation SituationOf(const Configuration& configuration) const;

  // The weight of the share of a sibling one field apart from the query (its model, GPU and
  // serving stack, and its GPU count or precision; LatencySiblings::SiblingCurves) in a TTFT's
  // log, in [0, 1]: 0 where it never helped.
  double sibling_weight(LatencySituation situation) const;
  // The same for a sibling further apart.
  double distant_sibling_weight(LatencySituation situation) const;

  const LatencyTails& tails() const { return tails_; }

  // The backbone's axis rule is not written: the format says it. A model decoded from a bundle
  // of format 24 or older, encoded again, would be read with today's backbone, so nothing saves a
  // decoded model (only trained ones are published).
  void EncodeTo(ByteWriter& writer) const;
  // `bundle_format`: a bundle of format 10 or older has no kExtrapolatedBatch scores, and
  // answers with its kSameConfiguration ones there, as it did; one of format 24 or older was
  // trained on the static batch's backbone on every axis, and reads it so; one of format 25 or
  // older reads the nearest sibling alone, under one weight for every kind of sibling.
  static absl::StatusOr<LatencyModel> DecodeFrom(ByteReader& reader,
                                                 std::shared_ptr<const Catalogue> catalogue,
                                                 uint32_t bundle_format);
  // The sibling weights, no-sibling quantiles and curves: a section of their own after the
  // interval calibrations' later kinds (format 16 on). A model decoded without them weighs no
  // sibling, as it did.
  void EncodeSiblingsTo(ByteWriter& writer) const;
  absl::Status DecodeSiblingsFrom(ByteReader& reader);
  // The disagreement quantiles by output length: a section of their own after the siblings
  // (format 17 on). A model decoded without them reads its campaigns' whole quantiles, as it did.
  void EncodeDisagreementByOutputTo(ByteWriter& writer) const;
  absl::Status DecodeDisagreementByOutputFrom(ByteReader& reader);
  // The 99th percentiles' model: a section of its own after the shape exponents (format 19 on).
  // A model decoded without it answers no 99th percentile, as it did.
  void EncodeTailsTo(ByteWriter& writer) const;
  absl::Status DecodeTailsFrom(ByteReader& reader);
  // Each campaign's own calibration scores: a section of their own after the tails (format 20
  // on). A model decoded without them calibrates every campaign with the pooled scores, as it did.
  void EncodeCampaignScoresTo(ByteWriter& writer) const;
  absl::Status DecodeCampaignScoresFrom(ByteReader& reader);
  // The weights of siblings more than one field apart: a section of their own after the unseen
  // hardware's scores (format 26 on). A model decoded without them weighs every sibling by the
  // sibling weights, as it did.
  void EncodeDistantSiblingWeightsTo(ByteWriter& writer) const;
  absl::Status DecodeDistantSiblingWeightsFrom(ByteReader& reader);

 private:
  // One feature row of a point; `row` has column_count() entries.
  void FeaturesOf(const Configuration& configuration,
                  const std::optional<ResolvedConfiguration>& resolved, const Shape& shape,
                  int batch_size, double backbone_s, double batch_latency_s,
                  absl::Span<float> row) const;
  int column_count() const;
  // The 99th percentiles of the `answered` points (whose means are set), from their feature rows
  // and TTFT backbones.
  void CompleteTails(const Configuration& configuration, double confidence_level,
                     absl::Span<const float> rows, absl::Span<const size_t> answered,
                     absl::Span<const double> backbones, absl::Span<PointPrediction> points) const;
  std::optional<ResolvedConfiguration> ResolveOf(const Configuration& configuration) const;
  // The weight of a sibling of the given kind in `situation` (sibling_weight or
  // distant_sibling_weight), whether the situation weighs either kind, and a calibrated
  // situation's two weights (of a sibling one field apart, and of one further).
  double SiblingWeight(LatencySituation situation, bool one_field_apart) const;
  bool WeighsSiblings(LatencySituation situation) const;
  std::pair<double, double> SiblingWeightsAt(int situation) const;
  // TtftBackboneSeconds on the axis this model's correction was trained with.
  double BackboneSeconds(const std::optional<ResolvedConfiguration>& resolved,
                         const Configuration& configuration, const Shape& shape,
                         int batch_size) const;
  // The situation whose calibration `situation` reads: itself, or where it has no scores the next
  // less supported one that has some; nullopt where none has.
  std::optional<int> CalibratedSituation(LatencySituation situation) const;
  // The |log error| quantile of `situation` at `level`; nullopt without calibration scores.
  std::optional<double> ScoreQuantile(LatencySituation situation, double level) const;
  // The same over the held-out answers that had no sibling, for a point outside its own curve
  // that has none where its situation weighs one; nullopt where the pooled scores stand (the
  // situation weighs no sibling, or too few answers lacked one to reach `level`).
  std::optional<double> NoSiblingScoreQuantile(LatencySituation situation, double level) const;
  // The index of `campaign` in campaigns_; nullopt for one not trained on.
  std::optional<size_t> CampaignIndexOf(const std::string& campaign) const;
  // The |log error| quantile at `level` of the held-out answers of `campaign` alone in the
  // situation whose calibration `situation` reads; nullopt for a campaign not trained on, or one
  // with too few answers there to reach `level` (the pooled scores stand).
  std::optional<double> CampaignScoreQuantile(LatencySituation situation,
                                              const std::string& campaign, double level) const;
  // The `level` quantile of how far the data's ITL lies from the one implied by their batch
  // latency and TTFT, in log; of `campaign`'s points, else of all; of those at the query's output
  // length where enough were measured there, else of all its points; 0 without any.
  double DisagreementQuantile(const std::string& campaign, int output_tokens, double level) const;
  void BuildLookups();

  std::shared_ptr<const Catalogue> catalogue_;
  // Whether the backbone under concurrency prefills the request's own prompt only
  // (TtftBackboneSeconds); false from a bundle of format 24 or older, whose correction was trained
  // on the whole batch's prompts on every axis.
  bool concurrency_backbone_prefills_own_prompt_ = true;
  // Which siblings a TTFT reads (LatencySiblings::FindCurves): the rule its bundle's sibling
  // weights were chosen under. Format 25 or older: the nearest alone (and one weight for any
  // sibling: its distant weights are its weights); 26: those sharing as many fields.
  LatencySiblings::Rule sibling_rule_ = LatencySiblings::Rule::kSamePrecisionFirst;
  // One-hot vocabulary: hardware, framework, model, precision, campaign, each sorted.
  std::array<std::vector<std::string>, 5> names_;
  // log(TTFT / backbone), and log(TTFT / batch latency); the TTFT's log is their mean.
  std::optional<XGBoostRegressor> correction_;
  std::optional<XGBoostRegressor> share_correction_;
  // The trained latency curves, and per situation the weight of a sibling's share read off them.
  LatencySiblings siblings_;
  // Where the data measured them, the 99th percentiles over the TTFT's backbone and the mean TPOT.
  LatencyTails tails_;
  std::array<double, kLatencySituationCount> sibling_weights_{};
  // Per situation, the weight of a sibling more than one field apart from the query:
  // its share carries over far less well, and a campaign of few results has mostly such
  // siblings.
  std::array<double, kLatencySituationCount> distant_sibling_weights_{};
  // Per situation, as score_quantiles_ over the held-out answers without a sibling.
  std::array<std::vector<double>, kLatencySituationCount> no_sibling_quantiles_;
  std::array<int, kLatencySituationCount> no_sibling_counts_{};
  // Per situation: 201 quantiles (0, 0.005, ..., 1) of the held-out |log(true / predicted)| of
  // the TTFT, and how many scores they summarise (0: no calibration).
  std::array<std::vector<double>, kLatencySituationCount> score_quantiles_;
  std::array<int, kLatencySituationCount> score_counts_{};
  // Per situation and campaign of campaigns_, as score_quantiles_ over that campaign's held-out
  // answers alone (empty where the situation is a campaign held out, or in a model decoded
  // without them).
  std::array<std::vector<std::vector<double>>, kLatencySituationCount> campaign_score_quantiles_;
  std::array<std::vector<int>, kLatencySituationCount> campaign_score_counts_;
  // 201 quantiles of |log(measured ITL / implied ITL)| per campaign of campaigns_ (empty: no
  // ITL measured), then pooled over all of them.
  std::vector<std::vector<double>> disagreement_quantiles_;
  // The same per output length (rounded log2 of the output tokens), where at least
  // kMinDisagreementScores points were measured at it: a harness's ITL may drift from its
  // latency with the output length (runs that end early, say).
  struct OutputDisagreement {
    int log2_output_tokens = 0;
    std::vector<double> quantiles;
  };
  std::vector<std::vector<OutputDisagreement>> disagreement_by_output_;  // ascending in length
  // Configurations (ToString) and campaigns whose latencies were trained on.
  std::vector<std::string> configurations_;
  std::vector<std::string> campaigns_;
  absl::flat_hash_set<std::string> configuration_set_;
  absl::flat_hash_set<std::string> campaign_set_;
};

}  // namespace perfcast
