#include "core/ml/tree_ensemble.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace perfcast {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// A leaf at depth 1 beside a split whose leaves are at depth 2: the shallow leaf is padded down
// to depth 2. Node ids out of order, as XGBoost may write them.
const std::vector<std::string> kUnevenTree = {
    "0:[f0<0.5] yes=1,no=2,missing=2\n"
    "\t2:[f1<2] yes=3,no=4,missing=3\n"
    "\t\t3:leaf=2\n"
    "\t\t4:leaf=3\n"
    "\t1:leaf=1\n"};

TEST(TreeEnsembleTest, WalksAnUnevenTreeByHand) {
  absl::StatusOr<TreeEnsemble> ensemble = TreeEnsemble::FromTextDump(kUnevenTree, 0.5f);
  ASSERT_TRUE(ensemble.ok()) << ensemble.status();
  auto predict = [&](float f0, float f1) {
    const float row[] = {f0, f1};
    return ensemble->Predict(row);
  };
  EXPECT_EQ(predict(0, 100), 0.5f + 1);  // f0 < 0.5: the shallow leaf, whatever f1
  EXPECT_EQ(predict(0, kNaN), 0.5f + 1);
  EXPECT_EQ(predict(1, 1), 0.5f + 2);        // f0 >= 0.5, f1 < 2
  EXPECT_EQ(predict(0.5f, 2), 0.5f + 3);     // equal to a threshold goes to "no"
  EXPECT_EQ(predict(kNaN, 5), 0.5f + 3);     // missing f0 goes to "no" here
  EXPECT_EQ(predict(kNaN, kNaN), 0.5f + 2);  // missing f1 goes to "yes" there
}

TEST(TreeEnsembleTest, RowsInLockstepMatchOneRowAtATime) {
  // Two trees of different depths; 11 rows span a full group of lanes and a partial one.
  std::vector<std::string> trees = kUnevenTree;
  trees.push_back("0:leaf=-0.25\n");
  absl::StatusOr<TreeEnsemble> ensemble = TreeEnsemble::FromTextDump(trees, 0);
  ASSERT_TRUE(ensemble.ok()) << ensemble.status();
  std::vector<float> rows;
  for (int r = 0; r < 11; ++r) {
    rows.push_back(r % 3 == 0 ? kNaN : 0.2f * static_cast<float>(r));
    rows.push_back(r % 4 == 0 ? kNaN : 0.5f * static_cast<float>(r));
  }
  std::vector<float> out(11);
  ensemble->PredictRows(rows, 2, absl::MakeSpan(out));
  for (size_t r = 0; r < out.size(); ++r) {
    EXPECT_EQ(out[r], ensemble->Predict(absl::MakeConstSpan(&rows[2 * r], 2))) << "row " << r;
  }
}

TEST(TreeEnsembleTest, RefusesACycle) {
  const std::vector<std::string> cycle = {"0:[f0<1] yes=0,no=0,missing=0\n"};
  EXPECT_EQ(TreeEnsemble::FromTextDump(cycle, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TreeEnsembleTest, RefusesAMissingBranchThatIsNeitherYesNorNo) {
  const std::vector<std::string> third_branch = {
      "0:[f0<1] yes=1,no=2,missing=3\n1:leaf=1\n2:leaf=2\n3:leaf=3\n"};
  EXPECT_EQ(TreeEnsemble::FromTextDump(third_branch, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A chain of `depth` splits on f0 < 1, 2, ...: leaf i is where f0 first falls below i + 1.
std::string ChainTree(int depth) {
  std::string dump;
  for (int i = 0; i < depth; ++i) {
    dump += std::to_string(2 * i) + ":[f0<" + std::to_string(i + 1) +
            "] yes=" + std::to_string(2 * i + 1) + ",no=" + std::to_string(2 * i + 2) +
            ",missing=" + std::to_string(2 * i + 1) + "\n" + std::to_string(2 * i + 1) +
            ":leaf=" + std::to_string(i) + "\n";
  }
  return dump + std::to_string(2 * depth) + ":leaf=" + std::to_string(depth) + "\n";
}

TEST(TreeEnsembleTest, TakesTreesUpToTheDepthLimitAndRefusesDeeper) {
  const std::vector<std::string> deepest = {ChainTree(TreeEnsemble::kMaxDepth)};
  absl::StatusOr<TreeEnsemble> ensemble = TreeEnsemble::FromTextDump(deepest, 0);
  ASSERT_TRUE(ensemble.ok()) << ensemble.status();
  const float middle[] = {7.5f};  // below 8 first: leaf 7
  EXPECT_EQ(ensemble->Predict(middle), 7);
  const float beyond[] = {100};  // right all the way down
  EXPECT_EQ(ensemble->Predict(beyond), TreeEnsemble::kMaxDepth);

  const std::vector<std::string> too_deep = {ChainTree(TreeEnsemble::kMaxDepth + 1)};
  EXPECT_EQ(TreeEnsemble::FromTextDump(too_deep, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace perfcast
