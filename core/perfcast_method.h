#pragma once

#include "absl/strings/string_view.h"
#include "core/evaluation_method.h"
#include "core/perfcast_model.h"

namespace perfcast {

// perfcast's own predictor, trained and queried exactly as the server does.
class PerfcastMethod : public EvaluationMethod {
 public:
  explicit PerfcastMethod(TrainOptions options) : options_(options) {}
  absl::string_view name() const override { return "perfcast"; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const override;

 private:
  TrainOptions options_;
};

}  // namespace perfcast
