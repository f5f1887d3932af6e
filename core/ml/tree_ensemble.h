#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace perfcast {

// A trained regression forest laid out flat for fast, allocation-free inference. Built from an
// XGBoost model's text dump, it reproduces XGBoost's predictions (float comparisons, NaN takes
// the "missing" branch) without the C API's per-call overhead (tens of microseconds).
//
// Each tree is stored complete to its depth, a leaf above the bottom copied into every slot
// below it: a walk is then a fixed number of steps (child = 2 * node + 1 + right), with no child
// indices to load and no test for a leaf, which the lanes of PredictRows interleave well. The
// price is memory for lopsided trees: a depth-6 tree takes 760 bytes however few its leaves.
// PredictSimilarRows walks a second copy of each tree, linked nodes that stop at the first leaf
// (12 bytes a node).
//
// Thread safety: immutable after construction; Predict may be called from any thread.
class TreeEnsemble {
 public:
  // `tree_dumps` is XGBoosterDumpModelEx's output in "text" format, one string per tree.
  // InvalidArgument for a malformed dump or a tree deeper than kMaxDepth.
  static absl::StatusOr<TreeEnsemble> FromTextDump(absl::Span<const std::string> tree_dumps,
                                                   float base_score);
  static constexpr int kMaxDepth = 16;
  // Larger feature indices in a dump are refused: no model has that many columns.
  static constexpr int kMaxFeatureIndex = 1 << 20;

  float Predict(absl::Span<const float> features) const;
  // Predicts `out.size()` rows stored one after another in `rows`, walking each tree for all
  // rows in lockstep: the independent walks overlap their memory latency, which a single walk
  // down a tree cannot. REQUIRES: rows.size() == out.size() * column_count.
  void PredictRows(absl::Span<const float> rows, int column_count, absl::Span<float> out) const;
  // The same answers as PredictRows, for rows that differ from each other in few columns (one
  // anchor's rows at many batch sizes): a walk keeps the rows together while a split reads a column
  // they share, and parts them only where it reads one they do not, so a tree costs about its
  // depth times the number of leaves the rows reach rather than its depth times the rows.
  // REQUIRES: rows.size() == out.size() * column_count, and column_count exceeds every feature
  // index the trees split on (as for PredictRows).
  void PredictSimilarRows(absl::Span<const float> rows, int column_count,
                          absl::Span<float> out) const;
  int tree_count() const { return static_cast<int>(trees_.size()); }

 private:
  struct Split {
    float threshold;  // the walk goes right unless feature < threshold; NaN by `column & 1`
    uint32_t column;  // the feature's index << 1, | 1 where NaN goes right
  };
  // Bit r set where row r of `values` (one column, `count` <= 64 rows) goes right at `split`.
  static uint64_t RightMask(const Split& split, const float* values, size_t count);
  static bool GoesRight(const Split& split, float x) {
    return x < split.threshold ? false : (std::isnan(x) ? (split.column & 1) != 0 : true);
  }
  // The same without branches, for walks whose turns the branch predictor cannot learn (the
  // interleaved lanes of PredictRows do better with the branches).
  static bool GoesRightBranchFree(const Split& split, float x) {
    const bool less = x < split.threshold;
    const bool missing = std::isnan(x);
    const bool missing_goes_right = (split.column & 1) != 0;
    return static_cast<bool>(static_cast<int>(!less) &
                             (static_cast<int>(!missing) | static_cast<int>(missing_goes_right)));
  }
  struct Tree {
    int32_t first_split;  // 2^depth - 1 splits in breadth-first order
    int32_t first_leaf;   // then 2^depth leaves, left to right
    int32_t depth;
  };

  // One node of a text dump; children are indices into the tree's nodes.
  struct DumpNode {
    int32_t feature;  // -1 for a leaf
    float value;      // split threshold, or leaf value
    int32_t yes;      // taken when feature < value
    int32_t no;
    int32_t missing;  // taken when the feature is NaN
  };
  // The nodes of one tree, its root first.
  static absl::StatusOr<std::vector<DumpNode>> ParseTree(absl::string_view dump);
  // Levels of splits below `node`, which is `level` deep; InvalidArgument past kMaxDepth.
  static absl::StatusOr<int> DepthBelow(const std::vector<DumpNode>& nodes, int node, int level);
  // Writes `node`'s subtree into `tree` from complete-tree position `slot` at `level`.
  void Place(const std::vector<DumpNode>& nodes, int node, const Tree& tree, uint32_t slot,
             int level);

  // The trees again as linked nodes, without the padding of the complete layout: a walk of
  // PredictSimilarRows stops at the first leaf it meets. A node's children are adjacent.
  struct Node {
    float value;      // the split's threshold, or the leaf's value
    uint32_t column;  // as Split::column; kLeafNode for a leaf
    uint32_t left;    // index of the "yes" child; "no" is left + 1
  };
  static constexpr uint32_t kLeafNode = ~uint32_t{0};
  // Appends `node`'s subtree below nodes_[at], which is reserved for it.
  void Link(const std::vector<DumpNode>& nodes, int node, uint32_t at);

  std::vector<Node> nodes_;
  std::vector<uint32_t> roots_;  // parallel to trees_
  std::vector<Split> splits_;
  std::vector<float> leaves_;
  std::vector<Tree> trees_;
  float base_score_ = 0;
};

}  // namespace perfcast
