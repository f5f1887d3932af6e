// Which curves a shape its configuration has not measured is predicted from (docs/METHOD.md §2).
#include <set>
#include <string>
#include <vector>

#include "core/model/anchor_index.h"
#include "core/model/anchored_prediction.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

Curve MakeCurve(const std::string& hardware, int gpus, const Shape& shape) {
  Curve curve;
  curve.configuration = {hardware, gpus, "vllm", "org/model-7b", "fp16"};
  curve.shape = shape;
  for (int batch : {1, 4, 16, 64}) {
    curve.points.push_back({batch, 100.0 * batch / (1.0 + batch / 32.0)});
  }
  return curve;
}

// gpu-a x1 measured one shape; gpu-a x2 and gpu-b x1 measured four each.
AnchorIndex MakeIndex() {
  std::vector<AnchorCurve> anchors;
  anchors.emplace_back(MakeCurve("gpu-a", 1, {128, 128}));
  for (const Shape& shape :
       {Shape{128, 128}, Shape{512, 512}, Shape{1024, 1024}, Shape{2048, 128}}) {
    anchors.emplace_back(MakeCurve("gpu-a", 2, shape));
    anchors.emplace_back(MakeCurve("gpu-b", 1, shape));
  }
  return AnchorIndex(std::move(anchors));
}

const Configuration& ConfigurationOf(const AnchorIndex& index, const AnchorChoice& choice) {
  return index.anchors()[choice.anchor_index].curve().configuration;
}

TEST(NewShapeAnchorsTest, AConfigurationWithEnoughShapesIsPredictedFromItsOwnAlone) {
  const AnchorIndex index = MakeIndex();
  const Configuration query{"gpu-b", 1, "vllm", "org/model-7b", "fp16"};
  const std::vector<AnchorChoice> chosen = NewShapeAnchors(index, query, {1024, 512});
  ASSERT_EQ(chosen.size(), static_cast<size_t>(kSiblingsForNewShape));
  for (const AnchorChoice& choice : chosen) {
    EXPECT_EQ(ConfigurationOf(index, choice), query);
    EXPECT_FALSE(choice.is_same_curve);
  }
  EXPECT_TRUE(NewShapeCompletion(index, query, {1024, 512}, kSiblingsForNewShape).empty());
}

TEST(NewShapeAnchorsTest, ASingleFarSiblingIsJoinedByOtherConfigurationsAtTheQueryShape) {
  const AnchorIndex index = MakeIndex();
  const Configuration query{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  const Shape shape{1024, 1024};
  const std::vector<AnchorChoice> chosen = NewShapeAnchors(index, query, shape);
  ASSERT_EQ(chosen.size(), static_cast<size_t>(kSiblingsForNewShape));
  // The configuration's own curve comes first and keeps the configuration's level...
  EXPECT_EQ(ConfigurationOf(index, chosen[0]), query);
  // ...then one curve each of the other configurations, at the query's shape, which they
  // measured.
  std::set<std::string> others;
  for (size_t i = 1; i < chosen.size(); ++i) {
    const Curve& curve = index.anchors()[chosen[i].anchor_index].curve();
    EXPECT_NE(curve.configuration, query);
    EXPECT_EQ(curve.shape.input_tokens, shape.input_tokens);
    EXPECT_EQ(curve.shape.output_tokens, shape.output_tokens);
    others.insert(curve.configuration.hardware + "/" + std::to_string(curve.configuration.num_gpus));
  }
  EXPECT_EQ(others.size(), chosen.size() - 1);
}

TEST(NewShapeAnchorsTest, WithoutAnySiblingThereIsNothingToCompleteTheQueryIsANewConfiguration) {
  const AnchorIndex index = MakeIndex();
  const Configuration unmeasured{"gpu-a", 8, "vllm", "org/model-7b", "fp16"};
  EXPECT_TRUE(NewShapeAnchors(index, unmeasured, {1024, 1024}).empty());
  EXPECT_TRUE(NewShapeCompletion(index, unmeasured, {1024, 1024}, 0).empty());
  // Two of the three anchors are missing for one sibling, one for two.
  const Configuration single{"gpu-a", 1, "vllm", "org/model-7b", "fp16"};
  EXPECT_EQ(NewShapeCompletion(index, single, {1024, 1024}, 1).size(), 2u);
  EXPECT_EQ(NewShapeCompletion(index, single, {1024, 1024}, 2).size(), 1u);
}

}  // namespace
}  // namespace perfcast
