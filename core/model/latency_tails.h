#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/data/benchmark_record.h"
#include "core/ml/feature_matrix.h"
#include "core/ml/xgboost_regressor.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// The 99th percentiles over requests that a point's latencies have beside their means.
enum class TailTarget {
  kTtft,  // of the time to first token
  kTpot,  // of each request's time per output token (not of single gaps between tokens)
};
inline constexpr int kTailTargetCount = 2;

// One training point: its row of the latency model's features (measured batch latency), its
// configuration and folds, and per target the log of its 99th percentile over its reference (what
// the latency model chose: the TTFT's backbone, the mean TPOT) where both are known.
struct TailSample {
  int feature_row = 0;
  const Configuration* configuration = nullptr;
  int curve_fold = 0;
  int configuration_fold = 0;
  std::array<std::optional<double>, kTailTargetCount> log_over_reference;
  // For a target whose reference is not its mean (the TTFT's), log(mean / reference) as measured,
  // and as the latency model answered it with the row's curve [0] and configuration [1] held out:
  // what the tail read over the mean instead then errs by.
  std::array<std::optional<double>, kTailTargetCount> log_mean_over_reference;
  std::array<std::optional<double>, 2> held_out_log_mean_over_reference;
};

// How far a point's 99th percentiles lie from a reference (docs/METHOD.md §9): per target an
// XGBoost regressor of log(p99 / reference) on the latency model's features and, for a reference
// other than the mean, one of log(p99 / mean) read over the predicted mean, blended in log by a
// weight chosen on held-out answers (few results of a campaign teach the ratio to the mean sooner
// than the tail itself); calibrated by held-out curves (a configuration whose tails were measured
// at other shapes) and held-out configurations (one whose campaign's were). What a tail is depends
// on how the harness sends its requests (a burst, a Poisson stream) more than on the system, so
// a target is answered only for the campaigns whose results carried it.
//
// Thread safety: immutable once built.
class LatencyTails {
 public:
  LatencyTails() = default;

  // Learns each target from the samples that carry it, `features` holding their rows; a target
  // with too few samples is left untrained, and one whose held-out answers were too few to
  // calibrate is trained but answers nothing.
  static absl::StatusOr<LatencyTails> Train(const FeatureMatrix& features,
                                            absl::Span<const TailSample> samples,
                                            const XGBoostParams& params, int fold_count);

  bool trained(TailTarget target) const {
    return tails_[static_cast<int>(target)].over_reference.has_value();
  }

  // What a query for `configuration` reads of a target at `level`, from held-out curves where
  // the configuration's tails were trained on, from held-out configurations where only its
  // campaign's were: the log half-width of its log(p99 / reference), and the weight in [0, 1] of
  // the over-mean form. nullopt where the target is not answered.
  struct Calibration {
    double half_width = 0;
    double mean_weight = 0;
  };
  std::optional<Calibration> CalibrationOf(TailTarget target, const Configuration& configuration,
                                           double level) const;

  // log(p99 / reference) of each of the rows (the latency model's features, `columns` each), with
  // the over-mean form at `mean_weight` (CalibrationOf) over each row's predicted log(mean /
  // reference).
  void PredictLogOverReference(TailTarget target, double mean_weight, absl::Span<const float> rows,
                               int columns, absl::Span<const double> log_mean_over_reference,
                               absl::Span<double> out) const;

  void EncodeTo(ByteWriter& writer) const;
  // DataLoss for a regressor whose width is not `feature_count`, a bad weight, quantile or count.
  static absl::StatusOr<LatencyTails> DecodeFrom(ByteReader& reader, int feature_count);

 private:
  // Calibration situations: [0] curves held out, [1] configurations held out.
  static constexpr int kSituations = 2;
  struct Tail {
    std::optional<XGBoostRegressor> over_reference;
    std::optional<XGBoostRegressor> over_mean;
    std::array<double, kSituations> mean_weights{};
    std::array<std::vector<double>, kSituations> quantiles;
    std::array<int, kSituations> counts{};
    // Sorted ToString() of the configurations, and campaigns, it was trained on.
    std::vector<std::string> configurations;
    std::vector<std::string> campaigns;
  };
  // The calibration situation `configuration` reads; nullopt where the target is not answered.
  static std::optional<int> SituationOf(const Tail& tail, const Configuration& configuration);
  std::array<Tail, kTailTargetCount> tails_;
};

}  // namespace perfcast
