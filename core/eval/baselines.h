#pragma once

#include "absl/strings/string_view.h"
#include "core/eval/evaluation_method.h"
#include "core/ml/xgboost_regressor.h"

namespace perfcast {

// The methods of docs/EVALUATION.md §4 that perfcast is measured against. Each learns from one
// configuration's curves only, so it declines every point of a configuration it has no curve of.

// The published ALA extrapolator: per configuration, the fitted (a, b, c) of each curve, and one
// XGBoost regressor per parameter on the shape features.
class PublishedAla : public EvaluationMethod {
 public:
  // `faithful`: the reference code's 5000 trees at learning rate 0.007 instead of 500 at 0.07.
  explicit PublishedAla(bool faithful, int threads);
  absl::string_view name() const override { return "published-ala"; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const override;

 private:
  XGBoostParams params_;
};

// The plain ML approach: XGBoost on the shape features plus log(batch), predicting log
// throughput, trained on the configuration's points.
class DirectXGBoost : public EvaluationMethod {
 public:
  explicit DirectXGBoost(int threads);
  absl::string_view name() const override { return "direct-xgboost"; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const override;

 private:
  XGBoostParams params_;
};

// The fitted curve of the nearest shape (L1 in log ii, log oo) in the same configuration.
class NearestCurve : public EvaluationMethod {
 public:
  absl::string_view name() const override { return "nearest-curve"; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const override;
};

}  // namespace perfcast
