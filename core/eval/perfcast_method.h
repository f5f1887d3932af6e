#pragma once

#include <cstddef>
#include <functional>
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
// campaign's results as they grow: a model is trained on the first 1 / kRefitShotDivisor of the
// shots drawn first (as `--shots 0.1` is to `--shots 0.3`; none when that is less than a curve),
// and the model that answers reuses its cross-fit (TrainOptions::reuse_cross_fit_of) where a
// refit would. Other folds train as without. `refit_note`, if set, is told of each fold whose refit
// grew its cross-fit instead, and why; it may be called from several threads at once.
inline constexpr size_t kRefitShotDivisor = 3;

class PerfcastMethod : public EvaluationMethod {
 public:
  PerfcastMethod(std::string name, TrainOptions options, bool as_refit = false,
                 std::function<void(const std::string&)> refit_note = nullptr)
      : name_(std::move(name)),
        options_(std::move(options)),
        as_refit_(as_refit),
        refit_note_(std::move(refit_note)) {}
  absl::string_view name() const override { return name_; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const override;

 private:
  std::string name_;
  TrainOptions options_;
  bool as_refit_ = false;
  std::function<void(const std::string&)> refit_note_;
};

}  // namespace perfcast
