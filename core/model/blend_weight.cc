#include "core/model/blend_weight.h"

#include <cmath>
#include <limits>

namespace perfcast {

double LeastErrorBlendWeight(absl::Span<const TwoWayAnswer> answers, int min_answers) {
  constexpr int kSteps = 20;
  if (static_cast<int>(answers.size()) < min_answers) return 0;
  double best_weight = 0;
  double best_error = std::numeric_limits<double>::infinity();
  for (int step = 0; step <= kSteps; ++step) {
    const double weight = static_cast<double>(step) / kSteps;
    double error = 0;
    for (const TwoWayAnswer& a : answers) {
      error += std::abs((1 - weight) * a.first + weight * a.second - a.target);
    }
    if (error < best_error) {
      best_error = error;
      best_weight = weight;
    }
  }
  return best_weight;
}

}  // namespace perfcast
