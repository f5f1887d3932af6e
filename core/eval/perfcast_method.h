#pragma once

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "core/eval/evaluation_method.h"
#include "core/model/perfcast_model.h"

namespace perfcast {

// perfcast's own predictor, trained and queried exactly as the server does. `name` tells
// variants apart in one evaluation (with and without the catalogue, say).
class PerfcastMethod : public EvaluationMethod {
 public:
  PerfcastMethod(std::string name, TrainOptions options)
      : name_(std::move(name)), options_(std::move(options)) {}
  absl::string_view name() const override { return name_; }
  absl::StatusOr<std::vector<MethodPrediction>> TrainAndPredict(
      const Fold& fold, absl::Span<const double> confidence_levels) const override;

 private:
  std::string name_;
  TrainOptions options_;
};

}  // namespace perfcast
