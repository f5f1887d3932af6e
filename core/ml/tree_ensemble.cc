#include "core/ml/tree_ensemble.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace perfcast {
namespace {

// Parses "key=value" out of "yes=1,no=2,missing=1".
absl::StatusOr<int> BranchTarget(absl::string_view branches, absl::string_view key) {
  for (absl::string_view part : absl::StrSplit(branches, ',')) {
    if (absl::ConsumePrefix(&part, key) && absl::ConsumePrefix(&part, "=")) {
      int id = 0;
      if (absl::SimpleAtoi(part, &id)) return id;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("tree dump: no '", key, "' in '", branches, "'"));
}

}  // namespace

absl::StatusOr<std::vector<TreeEnsemble::DumpNode>> TreeEnsemble::ParseTree(
    absl::string_view dump) {
  // Node ids are local to a tree; children are resolved once all of its lines are read.
  std::vector<DumpNode> nodes;
  absl::flat_hash_map<int, int32_t> index_of_id;
  std::vector<std::pair<int32_t, std::array<int, 3>>> pending_children;
  for (absl::string_view line : absl::StrSplit(dump, '\n', absl::SkipWhitespace())) {
    line = absl::StripAsciiWhitespace(line);
    const size_t colon = line.find(':');
    int id = 0;
    if (colon == absl::string_view::npos || !absl::SimpleAtoi(line.substr(0, colon), &id)) {
      return absl::InvalidArgumentError(absl::StrCat("tree dump: bad line '", line, "'"));
    }
    absl::string_view rest = line.substr(colon + 1);
    const int32_t index = static_cast<int32_t>(nodes.size());
    index_of_id[id] = index;
    DumpNode node{-1, 0, -1, -1, -1};
    if (absl::ConsumePrefix(&rest, "leaf=")) {
      if (!absl::SimpleAtof(rest, &node.value)) {
        return absl::InvalidArgumentError(absl::StrCat("tree dump: bad leaf '", line, "'"));
      }
    } else {
      // "[f12<0.5] yes=1,no=2,missing=1"
      if (!absl::ConsumePrefix(&rest, "[f")) {
        return absl::InvalidArgumentError(absl::StrCat("tree dump: bad split '", line, "'"));
      }
      const size_t less = rest.find('<');
      const size_t close = rest.find(']');
      if (less == absl::string_view::npos || close == absl::string_view::npos || less > close ||
          !absl::SimpleAtoi(rest.substr(0, less), &node.feature) || node.feature < 0 ||
          node.feature > kMaxFeatureIndex ||
          !absl::SimpleAtof(rest.substr(less + 1, close - less - 1), &node.value)) {
        return absl::InvalidArgumentError(absl::StrCat("tree dump: bad split '", line, "'"));
      }
      const absl::string_view branches = absl::StripAsciiWhitespace(rest.substr(close + 1));
      std::array<int, 3> children{};
      int slot = 0;
      for (absl::string_view key : {"yes", "no", "missing"}) {
        absl::StatusOr<int> child = BranchTarget(branches, key);
        if (!child.ok()) return child.status();
        children[slot++] = *child;
      }
      pending_children.emplace_back(index, children);
    }
    nodes.push_back(node);
  }
  for (const auto& [index, children] : pending_children) {
    int32_t* targets[3] = {&nodes[index].yes, &nodes[index].no, &nodes[index].missing};
    for (int k = 0; k < 3; ++k) {
      auto it = index_of_id.find(children[k]);
      if (it == index_of_id.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tree dump: node ", children[k], " referenced but not defined"));
      }
      *targets[k] = it->second;
    }
  }
  auto root = index_of_id.find(0);
  if (root == index_of_id.end() || root->second != 0) {
    return absl::InvalidArgumentError("tree dump: tree does not start at node 0");
  }
  return nodes;
}

absl::StatusOr<int> TreeEnsemble::DepthBelow(const std::vector<DumpNode>& nodes, int node,
                                             int level) {
  if (level > kMaxDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree dump: deeper than ", kMaxDepth, " levels (or a cycle)"));
  }
  const DumpNode& n = nodes[static_cast<size_t>(node)];
  if (n.feature < 0) return 0;
  if (n.missing != n.yes && n.missing != n.no) {
    return absl::InvalidArgumentError("tree dump: 'missing' is neither 'yes' nor 'no'");
  }
  absl::StatusOr<int> yes = DepthBelow(nodes, n.yes, level + 1);
  if (!yes.ok()) return yes;
  absl::StatusOr<int> no = DepthBelow(nodes, n.no, level + 1);
  if (!no.ok()) return no;
  return 1 + std::max(*yes, *no);
}

absl::StatusOr<TreeEnsemble> TreeEnsemble::FromTextDump(absl::Span<const std::string> tree_dumps,
                                                        float base_score) {
  TreeEnsemble ensemble;
  ensemble.base_score_ = base_score;
  for (const std::string& dump : tree_dumps) {
    absl::StatusOr<std::vector<DumpNode>> nodes = ParseTree(dump);
    if (!nodes.ok()) return nodes.status();
    absl::StatusOr<int> depth = DepthBelow(*nodes, 0, 0);
    if (!depth.ok()) return depth.status();
    Tree tree{static_cast<int32_t>(ensemble.splits_.size()),
              static_cast<int32_t>(ensemble.leaves_.size()), *depth};
    ensemble.splits_.resize(ensemble.splits_.size() + (size_t{1} << tree.depth) - 1);
    ensemble.leaves_.resize(ensemble.leaves_.size() + (size_t{1} << tree.depth));
    ensemble.Place(*nodes, 0, tree, 0, 0);
    ensemble.trees_.push_back(tree);
    ensemble.roots_.push_back(static_cast<uint32_t>(ensemble.nodes_.size()));
    ensemble.nodes_.emplace_back();
    ensemble.Link(*nodes, 0, ensemble.roots_.back());
  }
  return ensemble;
}

void TreeEnsemble::Place(const std::vector<DumpNode>& nodes, int node, const Tree& tree,
                         uint32_t slot, int level) {
  const DumpNode& n = nodes[static_cast<size_t>(node)];
  if (level == tree.depth) {  // the depth is the deepest leaf's: only leaves get here
    leaves_[static_cast<size_t>(tree.first_leaf) + slot - ((1u << tree.depth) - 1)] = n.value;
    return;
  }
  Split& split = splits_[static_cast<size_t>(tree.first_split) + slot];
  if (n.feature < 0) {
    // A leaf above the bottom: the same value down both sides, so the split does not matter.
    split = {0, 0};
    Place(nodes, node, tree, 2 * slot + 1, level + 1);
    Place(nodes, node, tree, 2 * slot + 2, level + 1);
    return;
  }
  split = {n.value, (static_cast<uint32_t>(n.feature) << 1) | (n.missing == n.no ? 1u : 0u)};
  Place(nodes, n.yes, tree, 2 * slot + 1, level + 1);
  Place(nodes, n.no, tree, 2 * slot + 2, level + 1);
}

void TreeEnsemble::Link(const std::vector<DumpNode>& nodes, int node, uint32_t at) {
  const DumpNode& n = nodes[static_cast<size_t>(node)];
  if (n.feature < 0) {
    nodes_[at] = Node{n.value, kLeafNode, 0};
    return;
  }
  const auto left = static_cast<uint32_t>(nodes_.size());
  nodes_[at] =
      Node{n.value, (static_cast<uint32_t>(n.feature) << 1) | (n.missing == n.no ? 1u : 0u), left};
  nodes_.resize(nodes_.size() + 2);
  Link(nodes, n.yes, left);
  Link(nodes, n.no, left + 1);
}

float TreeEnsemble::Predict(absl::Span<const float> features) const {
  float out;
  PredictRows(features, static_cast<int>(features.size()), absl::Span<float>(&out, 1));
  return out;
}

void TreeEnsemble::PredictRows(absl::Span<const float> rows, int column_count,
                               absl::Span<float> out) const {
  constexpr size_t kLanes = 8;
  for (size_t first = 0; first < out.size(); first += kLanes) {
    const size_t lanes = std::min(kLanes, out.size() - first);
    const float* lane_rows[kLanes];
    float sums[kLanes];
    for (size_t l = 0; l < lanes; ++l) {
      lane_rows[l] = rows.data() + (first + l) * static_cast<size_t>(column_count);
      sums[l] = base_score_;
    }
    for (const Tree& tree : trees_) {
      const Split* splits = splits_.data() + tree.first_split;
      uint32_t at[kLanes] = {};
      for (int level = 0; level < tree.depth; ++level) {
        for (size_t l = 0; l < lanes; ++l) {
          const Split& split = splits[at[l]];
          const float x = lane_rows[l][split.column >> 1];
          at[l] = 2 * at[l] + 1 + (GoesRight(split, x) ? 1u : 0u);
        }
      }
      // The walk ends in the bottom row, whose first position is 2^depth - 1.
      const float* leaves = leaves_.data() + tree.first_leaf;
      const uint32_t bottom = (1u << tree.depth) - 1;
      for (size_t l = 0; l < lanes; ++l) sums[l] += leaves[at[l] - bottom];
    }
    for (size_t l = 0; l < lanes; ++l) out[first + l] = sums[l];
  }
}

uint64_t TreeEnsemble::RightMask(const Split& split, const float* values, size_t count) {
  uint64_t mask = 0;
  size_t r = 0;
#if defined(__SSE2__)
  // Four rows a step: x < threshold is false for NaN, so "not less" sends NaN right, and the
  // missing-value bit then takes it back left where the split says so.
  const __m128 threshold = _mm_set1_ps(split.threshold);
  const __m128 nan_goes_right = _mm_castsi128_ps(_mm_set1_epi32((split.column & 1) != 0 ? -1 : 0));
  for (; r + 4 <= count; r += 4) {
    const __m128 x = _mm_loadu_ps(values + r);
    const __m128 not_less = _mm_cmpnlt_ps(x, threshold);
    const __m128 missing = _mm_cmpunord_ps(x, x);
    const __m128 right = _mm_andnot_ps(_mm_andnot_ps(nan_goes_right, missing), not_less);
    mask |= static_cast<uint64_t>(_mm_movemask_ps(right)) << r;
  }
#endif
  for (; r < count; ++r) {
    mask |= static_cast<uint64_t>(GoesRightBranchFree(split, values[r])) << r;
  }
  return mask;
}

void TreeEnsemble::PredictSimilarRows(absl::Span<const float> rows, int column_count,
                                      absl::Span<float> out) const {
  const auto columns = static_cast<size_t>(column_count);
  if (out.size() <= 1) {
    PredictRows(rows, column_count, out);
    return;
  }
  // A walk carries its rows as the bits of one word.
  constexpr size_t kMaxRows = 64;
  for (size_t first = kMaxRows; first < out.size(); first += kMaxRows) {
    const size_t count = std::min(kMaxRows, out.size() - first);
    PredictSimilarRows(rows.subspan(first * columns, count * columns), column_count,
                       out.subspan(first, count));
  }
  const size_t row_count = std::min(kMaxRows, out.size());
  // The columns that tell the rows apart (bit patterns, so that NaNs compare equal), copied out
  // column by column: a split on one of them tests every row at once; a split on any other
  // column reads the first row for all.
  std::vector<int> varying_index(columns, -1);
  std::vector<float> varying;  // row_count values per varying column
  for (size_t c = 0; c < columns; ++c) {
    uint32_t first_bits;
    std::memcpy(&first_bits, &rows[c], sizeof first_bits);
    bool differs = false;
    for (size_t r = 1; r < row_count; ++r) {
      uint32_t bits;
      std::memcpy(&bits, &rows[r * columns + c], sizeof bits);
      differs |= bits != first_bits;
    }
    if (!differs) continue;
    varying_index[c] = static_cast<int>(varying.size() / row_count);
    for (size_t r = 0; r < row_count; ++r) varying.push_back(rows[r * columns + c]);
  }
  const uint64_t all_rows = row_count == 64 ? ~uint64_t{0} : (uint64_t{1} << row_count) - 1;
  std::array<float, kMaxRows> sums;
  std::fill(sums.begin(), sums.begin() + row_count, base_score_);
  std::array<float, kMaxRows> leaf_of_row;
  struct Walk {
    uint32_t node;
    uint64_t rows;
  };
  std::array<Walk, kMaxDepth + 1> walks;
  for (const uint32_t root : roots_) {
    size_t pending = 0;
    walks[pending++] = Walk{root, all_rows};
    bool one_leaf = false;
    while (pending > 0) {
      Walk walk = walks[--pending];
      while (nodes_[walk.node].column != kLeafNode) {
        const Node& node = nodes_[walk.node];
        const Split split{node.value, node.column};
        const int index = varying_index[node.column >> 1];
        if (index < 0) {
          walk.node = node.left + (GoesRightBranchFree(split, rows[node.column >> 1]) ? 1 : 0);
          continue;
        }
        const uint64_t right =
            walk.rows &
            RightMask(split, varying.data() + static_cast<size_t>(index) * row_count, row_count);
        const uint64_t left_rows = walk.rows & ~right;
        if (right == 0) {
          walk.node = node.left;
        } else if (left_rows == 0) {
          walk.node = node.left + 1;
        } else {
          // Depth-first: one pending walk per level at most.
          walks[pending++] = Walk{node.left + 1, right};
          walk.node = node.left;
          walk.rows = left_rows;
        }
      }
      const float leaf = nodes_[walk.node].value;
      if (walk.rows == all_rows) {
        // Every row in one leaf, the common case: added straight to the sums.
        for (size_t r = 0; r < row_count; ++r) sums[r] += leaf;
        one_leaf = true;
        break;
      }
      for (uint64_t bits = walk.rows; bits != 0; bits &= bits - 1) {
        leaf_of_row[static_cast<size_t>(std::countr_zero(bits))] = leaf;
      }
    }
    // Every row met one leaf of the tree: added in tree order, as PredictRows adds.
    if (!one_leaf) {
      for (size_t r = 0; r < row_count; ++r) sums[r] += leaf_of_row[r];
    }
  }
  std::copy(sums.begin(), sums.begin() + row_count, out.begin());
}

}  // namespace perfcast
