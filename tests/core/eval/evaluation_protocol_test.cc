#include "core/eval/evaluation_protocol.h"

#include <set>
#include <tuple>

#include "core/data/curve.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

using PointKey = std::tuple<Configuration, Shape, int>;

std::vector<Curve> SyntheticCurves() { return GroupIntoCurves(testing::SyntheticRecords()); }

class EveryProtocolTest : public ::testing::TestWithParam<Protocol> {};

TEST_P(EveryProtocolTest, NeverTrainsOnAPointItPredicts) {
  const std::vector<Fold> folds = MakeFolds(GetParam(), SyntheticCurves(), 42);
  ASSERT_FALSE(folds.empty());
  for (const Fold& fold : folds) {
    ASSERT_FALSE(fold.held_out.empty());
    std::set<PointKey> trained;
    for (const Curve& curve : fold.training) {
      for (const CurvePoint& point : curve.points) {
        trained.insert({curve.configuration, curve.shape, point.batch_size});
      }
    }
    for (const HeldOutPoint& point : fold.held_out) {
      EXPECT_FALSE(trained.contains({point.configuration, point.shape, point.batch_size}))
          << ProtocolName(GetParam()) << " trains on " << point.configuration.ToString();
    }
  }
}

TEST_P(EveryProtocolTest, HoldsOutEveryEligiblePointExactlyOnce) {
  const std::vector<Curve> curves = SyntheticCurves();
  std::multiset<PointKey> held_out;
  for (const Fold& fold : MakeFolds(GetParam(), curves, 42)) {
    for (const HeldOutPoint& point : fold.held_out) {
      held_out.insert({point.configuration, point.shape, point.batch_size});
    }
  }
  size_t expected = 0;
  for (const Curve& curve : curves) {
    // Synthetic curves have 6 points; larger-batch holds out the larger 3 of each.
    expected += GetParam() == Protocol::kLargerBatch ? 3 : curve.points.size();
  }
  EXPECT_EQ(held_out.size(), expected);
  EXPECT_EQ(std::set<PointKey>(held_out.begin(), held_out.end()).size(), held_out.size());
}

TEST_P(EveryProtocolTest, IsDeterministicForASeed) {
  const std::vector<Curve> curves = SyntheticCurves();
  const std::vector<Fold> first = MakeFolds(GetParam(), curves, 7);
  const std::vector<Fold> second = MakeFolds(GetParam(), curves, 7);
  ASSERT_EQ(first.size(), second.size());
  for (size_t f = 0; f < first.size(); ++f) {
    ASSERT_EQ(first[f].held_out.size(), second[f].held_out.size());
    for (size_t i = 0; i < first[f].held_out.size(); ++i) {
      EXPECT_EQ(first[f].held_out[i].shape, second[f].held_out[i].shape);
      EXPECT_EQ(first[f].held_out[i].configuration, second[f].held_out[i].configuration);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Protocols, EveryProtocolTest,
                         ::testing::Values(Protocol::kNewShape, Protocol::kLargerBatch,
                                           Protocol::kNewConfig, Protocol::kNewHardware),
                         [](const auto& info) {
                           std::string name(ProtocolName(info.param));
                           std::erase(name, '-');
                           return name;
                         });

TEST(LargerBatchTest, KeepsTheSmallerHalfOfEachCurveInTraining) {
  for (const Fold& fold : MakeFolds(Protocol::kLargerBatch, SyntheticCurves(), 42)) {
    for (const HeldOutPoint& point : fold.held_out) {
      EXPECT_GE(point.batch_size, 32);  // batches 1, 8, 16 of 1..128 stay in training
      bool truncated_curve_present = false;
      for (const Curve& curve : fold.training) {
        if (curve.configuration == point.configuration && curve.shape == point.shape) {
          truncated_curve_present = true;
          EXPECT_EQ(curve.points.size(), 3u);
        }
      }
      EXPECT_TRUE(truncated_curve_present);
    }
  }
}

TEST(NewHardwareTest, TrainsOnNoConfigurationOfTheHeldOutHardware) {
  for (const Fold& fold : MakeFolds(Protocol::kNewHardware, SyntheticCurves(), 42)) {
    const std::string held = fold.held_out.front().configuration.hardware;
    for (const Curve& curve : fold.training) EXPECT_NE(curve.configuration.hardware, held);
  }
}

TEST(ProtocolNameTest, ParsesWhatItPrints) {
  for (Protocol p : {Protocol::kNewShape, Protocol::kLargerBatch, Protocol::kNewConfig,
                     Protocol::kNewHardware}) {
    auto parsed = ParseProtocol(ProtocolName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_EQ(ParseProtocol("new-gpu").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace perfcast
