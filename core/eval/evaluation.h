#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/eval/evaluation_method.h"
#include "core/eval/evaluation_protocol.h"

namespace perfcast {

// Observed coverage of a method's intervals at one nominal level.
struct LevelCoverage {
  double confidence_level = 0;
  double coverage = 0;      // share of points inside the interval
  double median_width = 0;  // median of (hi - lo) / true
};

// What a figures line measures: the throughput, or the mean TTFT or ITL, or the 99th percentile
// of the TTFT or of the TPOT, of the points whose measured record carries it
// (docs/EVALUATION.md §3).
enum class EvaluationTarget { kThroughput, kTtft, kItl, kP99Ttft, kP99Tpot };
inline constexpr EvaluationTarget kAllEvaluationTargets[] = {
    EvaluationTarget::kThroughput, EvaluationTarget::kTtft, EvaluationTarget::kItl,
    EvaluationTarget::kP99Ttft, EvaluationTarget::kP99Tpot};
// "throughput", "ttft", "itl", "p99_ttft", "p99_tpot".
absl::string_view EvaluationTargetName(EvaluationTarget target);

// The figures of docs/EVALUATION.md §3 for one (protocol, method, target).
struct EvaluationFigures {
  std::string protocol;
  std::string method;
  EvaluationTarget target = EvaluationTarget::kThroughput;
  // new-campaign only: the held-out campaign (kAllCampaigns on the line over every held-out
  // campaign) and the share of its curves trained on. nullopt for the other protocols.
  std::optional<std::string> campaign;
  std::optional<double> shots;
  int points = 0;    // held-out points predicted
  int declined = 0;  // held-out points the method declined
  double median_ape = 0;
  double p90_ape = 0;
  std::optional<double> coverage;  // share of points inside the interval
  std::optional<double> median_width;
  double confidence_level = 0.9;
  // Every evaluated level, ascending (the reliability table), for methods with intervals.
  std::vector<LevelCoverage> reliability;
  // Spearman rank correlation of the method's expected error with the observed APE, for methods
  // that give an expected error.
  std::optional<double> error_rank_correlation;
  double seconds = 0;
};

// The campaign of new-campaign's line over every held-out campaign.
inline constexpr char kAllCampaigns[] = "all";

struct EvaluationOptions {
  uint64_t seed = 42;
  double confidence_level = 0.9;  // of `coverage` and `median_width`
  // Further levels of the reliability table, each in (0, 1).
  std::vector<double> reliability_levels;
  // Folds trained at once. Methods are stateless, so folds are independent; the figures do not
  // depend on this number.
  int parallel_folds = 1;
  // new-campaign: the share of the held-out campaign's curves trained on, in [0, 1)
  // (docs/EVALUATION.md §2). Ignored by the other protocols.
  double shots = 0;
  // new-hardware: resolves the hardware names into the types held out (MakeFolds); may be null.
  // Not owned; outlives the call.
  const Catalogue* catalogue = nullptr;
  // Called after each fold of each method: (protocol, method, fold done, fold count).
  std::function<void(absl::string_view, absl::string_view, int, int)> progress;
  // Called once per held-out point and method, declined points included, in fold order from the
  // calling thread: the raw material of an analysis the summary figures cannot give (errors by
  // kind of configuration, by batch size). The prediction's intervals follow the levels of the
  // headline first, then the other levels ascending. `fold` is the point's fold (its campaign and
  // shots for new-campaign).
  std::function<void(absl::string_view protocol, absl::string_view method, const Fold& fold,
                     const HeldOutPoint&, const MethodPrediction&)>
      on_point;
};

// Runs every method over every fold of `protocol`. Per method, the throughput's figures come
// first, then those of the TTFT and the ITL when some held-out point carries the target and the
// method predicted it somewhere; a point whose record lacks a target is skipped for it. `progress`
// is called from one thread at a time, in no particular fold order.
//
// new-campaign gives, per method, one figures per held-out campaign (in name order) and then one
// over all of them (campaign kAllCampaigns); its `seconds` are the fold's own, the overall line's
// the method's. INVALID_ARGUMENT for options.shots outside [0, 1); new-campaign on data it cannot
// hold a campaign out of is FAILED_PRECONDITION (CheckNewCampaignApplies).
absl::StatusOr<std::vector<EvaluationFigures>> Evaluate(
    Protocol protocol, absl::Span<const Curve> curves,
    absl::Span<const std::unique_ptr<EvaluationMethod>> methods, const EvaluationOptions& options);

// The main table, then the reliability table when any figures have one.
std::string FiguresTable(absl::Span<const EvaluationFigures> figures);
// One JSON object per line.
std::string FiguresJsonLines(absl::Span<const EvaluationFigures> figures);

}  // namespace perfcast
