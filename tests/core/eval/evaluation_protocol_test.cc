#include "core/eval/evaluation_protocol.h"

#include <set>
#include <tuple>

#include "core/data/curve.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

using PointKey = std::tuple<Configuration, Shape, int>;

// The synthetic data measured by two campaigns: lab-a ran the 1- and 2-GPU systems (16 curves),
// lab-b the 4-GPU ones (8 curves). Every configuration stays in one campaign.
std::vector<Curve> SyntheticCurves() {
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  for (BenchmarkRecord& record : records) {
    record.configuration.campaign = record.configuration.num_gpus == 4 ? "lab-b" : "lab-a";
  }
  return GroupIntoCurves(records);
}

std::set<std::pair<Configuration, Shape>> CurvesOf(const std::vector<Curve>& curves,
                                                   absl::string_view campaign) {
  std::set<std::pair<Configuration, Shape>> out;
  for (const Curve& curve : curves) {
    if (curve.configuration.campaign == campaign) out.insert({curve.configuration, curve.shape});
  }
  return out;
}

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

INSTANTIATE_TEST_SUITE_P(Protocols, EveryProtocolTest, ::testing::ValuesIn(kAllProtocols),
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

TEST(NewHardwareTest, HoldsOutEverySpellingOfOneGpuTogether) {
  // gpu-b is measured under a second spelling, which an alias resolves to the same entry.
  std::vector<BenchmarkRecord> records = testing::SyntheticRecords();
  for (BenchmarkRecord& record : records) {
    if (record.configuration.hardware == "gpu-b" && record.configuration.num_gpus == 4) {
      record.configuration.hardware = "GPU-B 80GB";
    }
  }
  const std::vector<Curve> curves = GroupIntoCurves(records);
  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(
      {"name,memory_gib,memory_bandwidth_gb_per_s,bf16_dense_tflops,fp8_dense_tflops,"
       "interconnect_gb_per_s,source\n"
       "gpu-a,80,2000,500,,,https://example.com/a\n"
       "gpu-b,80,3000,900,,,https://example.com/b\n",
       "name,parameters,active_parameters,layers,hidden_size,attention_heads,kv_heads,head_dim,"
       "kv_cache_elements_per_token_per_layer,experts,experts_per_token,vocabulary,source\n",
       "name,weight_bytes_per_parameter,kv_cache_bytes_per_element,math,source\n",
       "kind,alias,entry\naccelerator,GPU-B 80GB,gpu-b\n", ""},
      "test");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();

  const std::vector<Fold> by_type = MakeFolds(Protocol::kNewHardware, curves, 42, 0, &*catalogue);
  const std::vector<Fold> by_name = MakeFolds(Protocol::kNewHardware, curves, 42);

  ASSERT_EQ(by_type.size(), 2u);
  EXPECT_EQ(by_name.size(), 3u);
  for (const Fold& fold : by_type) {
    std::set<std::string> held;
    for (const HeldOutPoint& point : fold.held_out) held.insert(point.configuration.hardware);
    EXPECT_EQ(held.contains("gpu-b"), held.contains("GPU-B 80GB"));
    for (const Curve& curve : fold.training) {
      EXPECT_NE(HardwareTypeOf(curve.configuration.hardware, &*catalogue),
                HardwareTypeOf(fold.held_out.front().configuration.hardware, &*catalogue));
    }
  }
}

TEST(NewCampaignTest, HoldsOutEachCampaignWholeAndTrainsOnNoneOfIt) {
  const std::vector<Curve> curves = SyntheticCurves();

  const std::vector<Fold> folds = MakeFolds(Protocol::kNewCampaign, curves, 42);

  ASSERT_EQ(folds.size(), 2u);
  EXPECT_EQ(folds[0].campaign, "lab-a");
  EXPECT_EQ(folds[1].campaign, "lab-b");
  for (const Fold& fold : folds) {
    EXPECT_EQ(fold.shots, 0.0);
    EXPECT_EQ(fold.shot_curves, 0);
    EXPECT_TRUE(CurvesOf(fold.training, *fold.campaign).empty());
    EXPECT_FALSE(fold.training.empty());
    for (const HeldOutPoint& point : fold.held_out) {
      EXPECT_EQ(point.configuration.campaign, *fold.campaign);
    }
    EXPECT_EQ(fold.held_out.size(), CurvesOf(curves, *fold.campaign).size() * 6);
  }
}

TEST(NewCampaignTest, TrainsOnTheShotCurvesWholeAndPredictsOnlyTheRest) {
  const std::vector<Curve> curves = SyntheticCurves();

  const std::vector<Fold> folds = MakeFolds(Protocol::kNewCampaign, curves, 42, 0.3);

  ASSERT_EQ(folds.size(), 2u);
  for (const Fold& fold : folds) {
    const auto campaign_curves = CurvesOf(curves, *fold.campaign);
    const auto shot_curves = CurvesOf(fold.training, *fold.campaign);
    // floor(0.3 x 16) = 4 of lab-a, floor(0.3 x 8) = 2 of lab-b.
    EXPECT_EQ(fold.shot_curves, static_cast<int>(campaign_curves.size() * 3 / 10));
    EXPECT_EQ(static_cast<int>(shot_curves.size()), fold.shot_curves);
    EXPECT_EQ(fold.shots, 0.3);
    for (const Curve& curve : fold.training) {
      if (curve.configuration.campaign == *fold.campaign) {
        EXPECT_EQ(curve.points.size(), 6u);
      }
    }
    std::set<std::pair<Configuration, Shape>> predicted;
    for (const HeldOutPoint& point : fold.held_out) {
      EXPECT_FALSE(shot_curves.contains({point.configuration, point.shape}));
      predicted.insert({point.configuration, point.shape});
    }
    EXPECT_EQ(predicted.size() + shot_curves.size(), campaign_curves.size());
  }
}

TEST(NewCampaignTest, PicksTheSameShotsForASeedAndNestsSmallerSharesInLarger) {
  const std::vector<Curve> curves = SyntheticCurves();
  auto shots_of = [&](double shots, uint64_t seed) {
    return CurvesOf(MakeFolds(Protocol::kNewCampaign, curves, seed, shots)[0].training, "lab-a");
  };

  const auto tenth = shots_of(0.1, 7);
  const auto third = shots_of(0.3, 7);

  EXPECT_EQ(tenth, shots_of(0.1, 7));
  EXPECT_EQ(tenth.size(), 1u);  // floor(0.1 x 16) = 1
  EXPECT_EQ(third.size(), 4u);
  for (const auto& curve : tenth) EXPECT_TRUE(third.contains(curve));
}

TEST(NewCampaignTest, ListsTheShotCurvesInTheOrderDrawn) {
  const std::vector<Curve> curves = SyntheticCurves();
  const Fold tenth = MakeFolds(Protocol::kNewCampaign, curves, 7, 0.1)[0];
  const Fold third = MakeFolds(Protocol::kNewCampaign, curves, 7, 0.3)[0];
  ASSERT_EQ(third.shots_drawn.size(), 4u);
  ASSERT_EQ(tenth.shots_drawn.size(), 1u);
  std::set<std::pair<Configuration, Shape>> drawn;
  for (int place : third.shots_drawn) {
    const Curve& curve = third.training[place];
    EXPECT_EQ(curve.configuration.campaign, "lab-a");
    drawn.insert({curve.configuration, curve.shape});
  }
  EXPECT_EQ(drawn, CurvesOf(third.training, "lab-a"));
  // The smaller share's curve is the larger one's first drawn.
  const Curve& first = tenth.training[tenth.shots_drawn[0]];
  const Curve& first_of_third = third.training[third.shots_drawn[0]];
  EXPECT_EQ(first.configuration, first_of_third.configuration);
  EXPECT_EQ(first.shape, first_of_third.shape);
  EXPECT_TRUE(MakeFolds(Protocol::kNewCampaign, curves, 7)[0].shots_drawn.empty());
}

TEST(NewCampaignTest, KeepsACampaignOfOneCurveInTrainingWithoutHoldingItOut) {
  std::vector<Curve> curves = SyntheticCurves();
  Curve lone = curves.front();
  lone.configuration.campaign = "lone";
  curves.push_back(lone);

  const std::vector<Fold> folds = MakeFolds(Protocol::kNewCampaign, curves, 42);

  ASSERT_EQ(folds.size(), 2u);
  for (const Fold& fold : folds) {
    EXPECT_NE(fold.campaign, "lone");
    EXPECT_EQ(CurvesOf(fold.training, "lone").size(), 1u);
  }
  EXPECT_EQ(HeldOutCampaigns(curves), (std::vector<std::string>{"lab-a", "lab-b"}));
}

TEST(NewCampaignTest, ExplainsWhyDataOfOneCampaignCannotBeHeldOut) {
  const std::vector<Curve> curves = GroupIntoCurves(testing::SyntheticRecords());

  const absl::Status status = CheckNewCampaignApplies(curves);

  EXPECT_TRUE(MakeFolds(Protocol::kNewCampaign, curves, 42).empty());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("2 campaigns or more"));
  EXPECT_TRUE(CheckNewCampaignApplies(SyntheticCurves()).ok());
}

TEST(NewCampaignTest, RoundsTheShotCountDownButGivesAtLeastOneAndLeavesOne) {
  EXPECT_EQ(ShotCurveCount(0, 10), 0);
  EXPECT_EQ(ShotCurveCount(0.1, 5), 1);   // floor(0.5) = 0, raised to 1
  EXPECT_EQ(ShotCurveCount(0.3, 10), 3);  // not 2 by binary rounding
  EXPECT_EQ(ShotCurveCount(0.29, 100), 29);
  EXPECT_EQ(ShotCurveCount(0.1, 385), 38);
  EXPECT_EQ(ShotCurveCount(0.9, 2), 1);  // one curve is always left to predict
}

TEST(ProtocolNameTest, ParsesWhatItPrints) {
  for (Protocol p : kAllProtocols) {
    auto parsed = ParseProtocol(ProtocolName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_EQ(ParseProtocol("new-gpu").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace perfcast
