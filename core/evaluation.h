#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/evaluation_method.h"
#include "core/evaluation_protocol.h"

namespace perfcast {

// The figures of EVAL.md for one (protocol, method).
struct EvaluationFigures {
  std::string protocol;
  std::string method;
  int points = 0;    // held-out points predicted
  int declined = 0;  // held-out points the method declined
  double median_ape = 0;
  double p90_ape = 0;
  std::optional<double> coverage;  // share of points inside the interval
  std::optional<double> median_width;
  double confidence_level = 0.9;
  double seconds = 0;
};

struct EvaluationOptions {
  uint64_t seed = 42;
  double confidence_level = 0.9;
  // Folds trained at once. Methods are stateless, so folds are independent; the figures do not
  // depend on this number.
  int parallel_folds = 1;
  // Called after each fold of each method: (protocol, method, fold done, fold count).
  std::function<void(absl::string_view, absl::string_view, int, int)> progress;
};

// Runs every method over every fold of `protocol`. `progress` is called from one thread at a
// time, in no particular fold order.
absl::StatusOr<std::vector<EvaluationFigures>> Evaluate(
    Protocol protocol, absl::Span<const Curve> curves,
    absl::Span<const std::unique_ptr<EvaluationMethod>> methods, const EvaluationOptions& options);

std::string FiguresTable(absl::Span<const EvaluationFigures> figures);
// One JSON object per line.
std::string FiguresJsonLines(absl::Span<const EvaluationFigures> figures);

}  // namespace perfcast
