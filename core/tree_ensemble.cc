#include "absl/strings/string_view.h"
#include "core/tree_ensemble.h"

#include <array>
#include <algorithm>
#include <cmath>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

absl::StatusOr<TreeEnsemble> TreeEnsemble::FromTextDump(absl::Span<const std::string> tree_dumps,
                                                        float base_score) {
  TreeEnsemble ensemble;
  ensemble.base_score_ = base_score;
  for (const std::string& dump : tree_dumps) {
    // Node ids are local to a tree; children are resolved once all of its lines are read.
    absl::flat_hash_map<int, int32_t> index_of_id;
    std::vector<std::pair<int32_t, std::array<int, 3>>> pending_children;
    const int32_t first = static_cast<int32_t>(ensemble.nodes_.size());
    for (absl::string_view line : absl::StrSplit(dump, '\n', absl::SkipWhitespace())) {
      line = absl::StripAsciiWhitespace(line);
      const size_t colon = line.find(':');
      int id = 0;
      if (colon == absl::string_view::npos || !absl::SimpleAtoi(line.substr(0, colon), &id)) {
        return absl::InvalidArgumentError(absl::StrCat("tree dump: bad line '", line, "'"));
      }
      absl::string_view rest = line.substr(colon + 1);
      const int32_t index = static_cast<int32_t>(ensemble.nodes_.size());
      index_of_id[id] = index;
      Node node{-1, 0, -1, -1, -1};
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
            !absl::SimpleAtoi(rest.substr(0, less), &node.feature) ||
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
      ensemble.nodes_.push_back(node);
    }
    for (const auto& [index, children] : pending_children) {
      int32_t* targets[3] = {&ensemble.nodes_[index].yes, &ensemble.nodes_[index].no,
                             &ensemble.nodes_[index].missing};
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
    if (root == index_of_id.end() || root->second != first) {
      return absl::InvalidArgumentError("tree dump: tree does not start at node 0");
    }
    ensemble.tree_roots_.push_back(first);
  }
  return ensemble;
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
    for (int32_t root : tree_roots_) {
      int32_t at[kLanes];
      for (size_t l = 0; l < lanes; ++l) at[l] = root;
      for (bool walking = true; walking;) {
        walking = false;
        for (size_t l = 0; l < lanes; ++l) {
          const Node& node = nodes_[at[l]];
          if (node.feature < 0) continue;
          const float x = lane_rows[l][node.feature];
          at[l] = std::isnan(x) ? node.missing : (x < node.value ? node.yes : node.no);
          walking = true;
        }
      }
      for (size_t l = 0; l < lanes; ++l) sums[l] += nodes_[at[l]].value;
    }
    for (size_t l = 0; l < lanes; ++l) out[first + l] = sums[l];
  }
}

}  // namespace perfcast
