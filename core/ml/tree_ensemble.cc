#include "core/ml/tree_ensemble.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

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
    split = kPassThrough;
    Place(nodes, node, tree, 2 * slot + 1, level + 1);
    Place(nodes, node, tree, 2 * slot + 2, level + 1);
    return;
  }
  split = {n.value, (static_cast<uint32_t>(n.feature) << 1) | (n.missing == n.no ? 1u : 0u)};
  Place(nodes, n.yes, tree, 2 * slot + 1, level + 1);
  Place(nodes, n.no, tree, 2 * slot + 2, level + 1);
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

void TreeEnsemble::PredictSimilarRows(absl::Span<const float> rows, int column_count,
                                      absl::Span<float> out) const {
  const size_t row_count = out.size();
  const auto columns = static_cast<size_t>(column_count);
  if (row_count <= 1) {
    PredictRows(rows, column_count, out);
    return;
  }
  const auto at = [&](uint32_t row, size_t column) { return rows[row * columns + column]; };
  // How each column runs down the rows. A split on a column every row shares sends them on
  // whole; on one that never falls (or never rises) it sends a run of them left and the rest
  // right, found by bisection; on any other it parts them one by one, stably, which keeps each
  // part in row order, so the columns that run one way still do within it.
  enum class Run : uint8_t { kShared, kRising, kFalling, kMixed };
  // Flags per column, gathered a row against the one before it, branch-free.
  std::vector<uint8_t> rises(columns, 0), falls(columns, 0), differs(columns, 0), missing(columns, 0);
  for (size_t c = 0; c < columns; ++c) missing[c] = std::isnan(rows[c]);
  for (size_t r = 1; r < row_count; ++r) {
    const float* previous = rows.data() + (r - 1) * columns;
    const float* row = rows.data() + r * columns;
    for (size_t c = 0; c < columns; ++c) {
      uint32_t previous_bits, bits;
      std::memcpy(&previous_bits, previous + c, sizeof bits);
      std::memcpy(&bits, row + c, sizeof bits);
      differs[c] |= previous_bits != bits;
      rises[c] |= row[c] > previous[c];
      falls[c] |= row[c] < previous[c];
      missing[c] |= row[c] != row[c];
    }
  }
  std::vector<Run> runs(columns, Run::kShared);
  for (size_t c = 0; c < columns; ++c) {
    if (!differs[c]) continue;
    runs[c] = missing[c] || (rises[c] && falls[c]) ? Run::kMixed
                                                   : (falls[c] ? Run::kFalling : Run::kRising);
  }
  std::vector<float> sums(row_count, base_score_);
  // The rows of a walk are order[begin, end): those that took the same branches so far.
  struct Walk {
    uint32_t slot;
    int level;
    uint32_t begin;
    uint32_t end;
  };
  std::vector<uint32_t> order(row_count);
  std::vector<uint32_t> right_rows(row_count);
  std::vector<Walk> walks;
  for (const Tree& tree : trees_) {
    const Split* splits = splits_.data() + tree.first_split;
    const float* leaves = leaves_.data() + tree.first_leaf;
    const uint32_t bottom = (1u << tree.depth) - 1;
    for (uint32_t r = 0; r < row_count; ++r) order[r] = r;
    bool in_row_order = true;  // order[k] == k until a mixed column parts the rows
    walks.assign(1, Walk{0, 0, 0, static_cast<uint32_t>(row_count)});
    while (!walks.empty()) {
      Walk walk = walks.back();
      walks.pop_back();
      while (walk.level < tree.depth) {
        const Split& split = splits[walk.slot];
        const size_t column = split.column >> 1;
        const Run run = split.threshold == kPassThrough.threshold ? Run::kShared : runs[column];
        const uint32_t left = 2 * walk.slot + 1;
        ++walk.level;
        if (run == Run::kShared) {
          walk.slot = left + (GoesRightBranchFree(split, at(order[walk.begin], column)) ? 1 : 0);
          continue;
        }
        // Rows [begin, cut) go one way and [cut, end) the other.
        uint32_t cut;
        bool first_go_right;
        if (run == Run::kMixed) {
          cut = walk.begin;
          uint32_t right_count = 0;
          for (uint32_t k = walk.begin; k < walk.end; ++k) {
            // Branch-free: which way a row goes is as good as random to the branch predictor.
            const uint32_t r = order[k];
            const bool right = GoesRightBranchFree(split, at(r, column));
            right_rows[right_count] = r;
            order[cut] = r;
            right_count += right;
            cut += !right;
          }
          std::copy(right_rows.begin(), right_rows.begin() + right_count, order.begin() + cut);
          in_row_order = false;
          first_go_right = false;
        } else {
          // Rising: the rows go left, then right. Falling: right, then left.
          first_go_right = run == Run::kFalling;
          uint32_t low = walk.begin, high = walk.end;
          while (low < high) {
            const uint32_t middle = low + (high - low) / 2;
            const bool before_cut = GoesRightBranchFree(split, at(order[middle], column)) == first_go_right;
            low = before_cut ? middle + 1 : low;
            high = before_cut ? high : middle;
          }
          cut = low;
        }
        const uint32_t first_slot = left + (first_go_right ? 1 : 0);
        const uint32_t second_slot = left + (first_go_right ? 0 : 1);
        if (cut == walk.begin) {
          walk.slot = second_slot;
        } else if (cut == walk.end) {
          walk.slot = first_slot;
        } else {
          walks.push_back(Walk{second_slot, walk.level, cut, walk.end});
          walk.slot = first_slot;
          walk.end = cut;
        }
      }
      const float leaf = leaves[walk.slot - bottom];
      if (in_row_order) {
        for (uint32_t k = walk.begin; k < walk.end; ++k) sums[k] += leaf;
      } else {
        for (uint32_t k = walk.begin; k < walk.end; ++k) sums[order[k]] += leaf;
      }
    }
  }
  std::copy(sums.begin(), sums.end(), out.begin());
}

}  // namespace perfcast
