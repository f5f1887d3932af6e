#include "core/model/cross_fit_folds.h"

#include <numeric>
#include <random>
#include <utility>

namespace perfcast {

CrossFitFolds AssignFolds(const AnchorIndex& index, uint64_t seed) {
  std::mt19937_64 random(seed);
  auto assign = [&](size_t count) {
    std::vector<int> order(count);
    std::iota(order.begin(), order.end(), 0);
    // Fisher-Yates by hand: std::shuffle's sequence differs between standard libraries.
    for (size_t i = count; i > 1; --i) std::swap(order[i - 1], order[random() % i]);
    std::vector<int> fold(count);
    for (size_t i = 0; i < count; ++i) fold[order[i]] = static_cast<int>(i % kCrossFitFolds);
    return fold;
  };
  CrossFitFolds folds;
  folds.of_curve = assign(index.anchors().size());
  folds.of_configuration = assign(index.configurations().size());
  return folds;
}

}  // namespace perfcast
