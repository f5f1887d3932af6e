#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace perfcast {

// A trained regression forest laid out flat for fast, allocation-free inference. Built from an
// XGBoost model's text dump, it reproduces XGBoost's predictions (float comparisons, NaN takes
// the "missing" branch) without the C API's per-call overhead (tens of microseconds).
//
// Thread safety: immutable after construction; Predict may be called from any thread.
class TreeEnsemble {
 public:
  // `tree_dumps` is XGBoosterDumpModelEx's output in "text" format, one string per tree.
  static absl::StatusOr<TreeEnsemble> FromTextDump(absl::Span<const std::string> tree_dumps,
                                                   float base_score);

  float Predict(absl::Span<const float> features) const;
  // Predicts `out.size()` rows stored one after another in `rows`, walking each tree for all
  // rows in lockstep: the independent walks overlap their memory latency, which a single walk
  // down a tree cannot. REQUIRES: rows.size() == out.size() * column_count.
  void PredictRows(absl::Span<const float> rows, int column_count, absl::Span<float> out) const;
  int tree_count() const { return static_cast<int>(tree_roots_.size()); }

 private:
  struct Node {
    int32_t feature;  // -1 for a leaf
    float value;      // split threshold, or leaf value
    int32_t yes;      // taken when feature < value
    int32_t no;
    int32_t missing;  // taken when the feature is NaN
  };

  std::vector<Node> nodes_;
  std::vector<int32_t> tree_roots_;
  float base_score_ = 0;
};

}  // namespace perfcast
