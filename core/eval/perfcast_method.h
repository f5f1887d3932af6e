#pragma once

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "core/eval/evaluation_method.h"
#include "core/model/perfcast_model.h"

namespace perfcast {

// perfcast's own predictor, trained and queried exactly as the server does. `name` tells
// variants apart in one evaluation (with and without the catalogue, say).
//
// With `as_refit`, a new-campaign fold with shots is trained the way a server's refit takes a
// campaign's first results: a model is trained without the shots first, and the model that
// answers reuses its cross-fit (TrainOptions::reuse_cross_fit_of). Other folds train as without.
class PerfcastMethod : public EvaluationMethod {
 public:
  PerfcastMethod(std::string name, TrainOptions options, bool as_refit = false)
      : name_(std::move(name)), options_(std::move(options)), as_refit_(as_refit) {}
  absl::string_view name() const override { return name_; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const override;

 private:
  std::string name_;
  TrainOptions options_;
  bool as_refit_ = false;
};

}  // namespace perfcast
