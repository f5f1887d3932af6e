#include "core/model/cross_fit_folds.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/catalogue/catalogue.h"
#include "core/data/curve.h"
#include "core/fit/anchor_curve.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast {
namespace {

AnchorIndex SyntheticIndex() {
  std::vector<AnchorCurve> anchors;
  for (Curve& curve : GroupIntoCurves(testing::SyntheticRecords())) {
    anchors.emplace_back(std::move(curve));
  }
  return AnchorIndex(std::move(anchors));
}

// Fold sizes differ by at most one: each fold's model trains on about the same share of rows.
void ExpectBalanced(const std::vector<int>& folds) {
  std::vector<int> sizes(kCrossFitFolds, 0);
  for (int fold : folds) {
    ASSERT_GE(fold, 0);
    ASSERT_LT(fold, kCrossFitFolds);
    ++sizes[fold];
  }
  EXPECT_LE(
      *std::max_element(sizes.begin(), sizes.end()) - *std::min_element(sizes.begin(), sizes.end()),
      1);
}

TEST(CrossFitFoldsTest, EveryCurveAndConfigurationHasABalancedFold) {
  const AnchorIndex index = SyntheticIndex();
  const CrossFitFolds folds = AssignFolds(index, 42);
  ASSERT_EQ(folds.of_curve.size(), index.anchors().size());
  ASSERT_EQ(folds.of_configuration.size(), index.configurations().size());
  ExpectBalanced(folds.of_curve);
  ExpectBalanced(folds.of_configuration);
}

TEST(CrossFitFoldsTest, TheSeedDecides) {
  const AnchorIndex index = SyntheticIndex();
  const CrossFitFolds first = AssignFolds(index, 42);
  const CrossFitFolds again = AssignFolds(index, 42);
  const CrossFitFolds other = AssignFolds(index, 7);
  EXPECT_EQ(first.of_curve, again.of_curve);
  EXPECT_EQ(first.of_configuration, again.of_configuration);
  EXPECT_NE(first.of_curve, other.of_curve);
}

// Records of one curve per configuration on each of `hardware`, one configuration per GPU count.
AnchorIndex IndexOn(const std::vector<std::string>& hardware,
                    const std::vector<int>& gpu_counts = {1, 2}) {
  std::vector<BenchmarkRecord> records;
  for (const std::string& name : hardware) {
    for (int gpus : gpu_counts) {
      for (int batch : {1, 8, 32}) {
        BenchmarkRecord record;
        record.configuration = {name, gpus, "vllm", "meta-llama/Llama-2-7b-hf", "fp16"};
        record.shape = {128, 128};
        record.batch_size = batch;
        record.throughput_tokens_per_s = 100.0 * batch;
        records.push_back(record);
      }
    }
  }
  std::vector<AnchorCurve> anchors;
  for (Curve& curve : GroupIntoCurves(records)) anchors.emplace_back(std::move(curve));
  return AnchorIndex(std::move(anchors));
}

TEST(CrossFitFoldsTest, HardwareFoldsHoldOutEveryConfigurationOfAHardwareType) {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  // "NVIDIA H100" is an alias of "NVIDIA H100 SXM 80GB": one hardware type in two spellings.
  const AnchorIndex index = IndexOn({"NVIDIA H100", "NVIDIA H100 SXM 80GB", "NVIDIA A100 SXM4 80GB",
                                     "AMD MI300X", "NVIDIA GH200", "Intel Gaudi2", "NVIDIA L40S"});
  const CrossFitFolds folds = AssignFolds(index, 42, &*catalogue);
  ASSERT_TRUE(folds.of_configuration_by_hardware.has_value());
  const std::vector<int>& by_hardware = *folds.of_configuration_by_hardware;
  ASSERT_EQ(by_hardware.size(), index.configurations().size());
  std::map<std::string, std::set<int>> folds_of_type;
  std::set<int> used;
  for (size_t rank = 0; rank < by_hardware.size(); ++rank) {
    std::string type = index.configurations()[rank].hardware;
    if (type == "NVIDIA H100") type = "NVIDIA H100 SXM 80GB";
    folds_of_type[type].insert(by_hardware[rank]);
    used.insert(by_hardware[rank]);
  }
  for (const auto& [type, type_folds] : folds_of_type) {
    EXPECT_EQ(type_folds.size(), 1u) << type << " is split over folds";
  }
  EXPECT_EQ(used.size(), static_cast<size_t>(kCrossFitFolds));
  // The curve and configuration folds do not move when the hardware folds are added.
  const CrossFitFolds without_catalogue = AssignFolds(index, 42);
  EXPECT_EQ(folds.of_curve, without_catalogue.of_curve);
  EXPECT_EQ(folds.of_configuration, without_catalogue.of_configuration);
}

TEST(CrossFitFoldsTest, NoHardwareFoldsWithFewerHardwareTypesThanFolds) {
  // Two GPUs of the synthetic data: holding one out would leave folds without rows.
  EXPECT_FALSE(AssignFolds(SyntheticIndex(), 42).of_configuration_by_hardware.has_value());
  EXPECT_FALSE(AssignFolds(IndexOn({"a", "b", "c"}), 42).of_configuration_by_hardware.has_value());
  EXPECT_TRUE(
      AssignFolds(IndexOn({"a", "b", "c", "d"}), 42).of_configuration_by_hardware.has_value());
}

TEST(CarryFoldsTest, WhatTheEarlierTrainingKnewKeepsItsFoldAndTheRestTakesTheFreshOne) {
  const AnchorIndex before = IndexOn({"a", "b", "c", "d"});
  const CrossFitFolds earlier = AssignFolds(before, 42);
  ASSERT_TRUE(earlier.of_configuration_by_hardware.has_value());
  const AnchorIndex now = IndexOn({"a", "b", "c", "d", "e", "f"});
  // Another seed, so that a fold equal to the earlier one is carried, not drawn again.
  const CrossFitFolds fresh = AssignFolds(now, 7);
  const std::optional<CrossFitFolds> carried = CarryFolds(before, earlier, now, fresh);
  ASSERT_TRUE(carried.has_value());
  ASSERT_EQ(carried->of_curve.size(), now.anchors().size());
  ASSERT_TRUE(carried->of_configuration_by_hardware.has_value());
  std::map<std::string, int> hardware_fold_before;
  for (size_t rank = 0; rank < before.configurations().size(); ++rank) {
    hardware_fold_before[before.configurations()[rank].hardware] =
        (*earlier.of_configuration_by_hardware)[rank];
  }
  int differs_from_fresh = 0;
  for (size_t curve = 0; curve < now.anchors().size(); ++curve) {
    const Curve& c = now.anchors()[curve].curve();
    const int rank = now.ConfigurationRank(c.configuration);
    const int by_hardware = (*carried->of_configuration_by_hardware)[rank];
    if (const int earlier_curve = before.Find(c.configuration, c.shape); earlier_curve >= 0) {
      const int earlier_rank = before.ConfigurationRank(c.configuration);
      EXPECT_EQ(carried->of_curve[curve], earlier.of_curve[earlier_curve]);
      EXPECT_EQ(carried->of_configuration[rank], earlier.of_configuration[earlier_rank]);
      EXPECT_EQ(by_hardware, hardware_fold_before.at(c.configuration.hardware));
      differs_from_fresh += carried->of_curve[curve] != fresh.of_curve[curve];
    } else {
      EXPECT_EQ(carried->of_curve[curve], fresh.of_curve[curve]);
      EXPECT_EQ(carried->of_configuration[rank], fresh.of_configuration[rank]);
      EXPECT_EQ(by_hardware, (*fresh.of_configuration_by_hardware)[rank]);
    }
  }
  EXPECT_GT(differs_from_fresh, 0);
}

TEST(CarryFoldsTest, ANewConfigurationOfAKnownHardwareTypeTakesThatTypesFold) {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  const std::vector<std::string> hardware = {"NVIDIA H100 SXM 80GB", "NVIDIA A100 SXM4 80GB",
                                             "AMD MI300X", "NVIDIA L40S", "Intel Gaudi2"};
  const AnchorIndex before = IndexOn(hardware);
  const CrossFitFolds earlier = AssignFolds(before, 42, &*catalogue);
  ASSERT_TRUE(earlier.of_configuration_by_hardware.has_value());
  // A four-GPU configuration of each, and the same three GPU counts of H100 under another
  // spelling of its entry.
  std::vector<std::string> more = hardware;
  more.push_back("NVIDIA H100");
  const AnchorIndex now = IndexOn(more, {1, 2, 4});
  const std::optional<CrossFitFolds> carried =
      CarryFolds(before, earlier, now, AssignFolds(now, 7, &*catalogue), &*catalogue);
  ASSERT_TRUE(carried.has_value());
  std::map<std::string, int> fold_of_type;
  for (size_t rank = 0; rank < before.configurations().size(); ++rank) {
    fold_of_type[before.configurations()[rank].hardware] =
        (*earlier.of_configuration_by_hardware)[rank];
  }
  for (size_t rank = 0; rank < now.configurations().size(); ++rank) {
    std::string type = now.configurations()[rank].hardware;
    if (type == "NVIDIA H100") type = "NVIDIA H100 SXM 80GB";
    EXPECT_EQ((*carried->of_configuration_by_hardware)[rank], fold_of_type.at(type))
        << now.configurations()[rank].hardware << " on " << now.configurations()[rank].num_gpus;
  }
}

TEST(CarryFoldsTest, AFourthHardwareTypeKeepsFoldsWithoutAHardwareSet) {
  // The data now have enough hardware types for hardware folds, the fold models, grown on three,
  // have none: the carried folds have none either, and the rest is carried as usual.
  const AnchorIndex three = IndexOn({"a", "b", "c"});
  const AnchorIndex four = IndexOn({"a", "b", "c", "d"});
  const CrossFitFolds earlier = AssignFolds(three, 42);
  const std::optional<CrossFitFolds> carried =
      CarryFolds(three, earlier, four, AssignFolds(four, 42));
  ASSERT_TRUE(carried.has_value());
  EXPECT_FALSE(carried->of_configuration_by_hardware.has_value());
  for (size_t curve = 0; curve < four.anchors().size(); ++curve) {
    const Curve& c = four.anchors()[curve].curve();
    if (const int before = three.Find(c.configuration, c.shape); before >= 0) {
      EXPECT_EQ(carried->of_curve[curve], earlier.of_curve[static_cast<size_t>(before)]);
    }
  }
}

TEST(CarryFoldsTest, NotWhenACurveIsGone) {
  const AnchorIndex four = IndexOn({"a", "b", "c", "d"});
  const AnchorIndex three = IndexOn({"a", "b", "c"});
  // A hardware type, and so its curves, gone.
  EXPECT_FALSE(CarryFolds(four, AssignFolds(four, 42), three, AssignFolds(three, 42)).has_value());
  const AnchorIndex five = IndexOn({"a", "b", "c", "d", "e"});
  const AnchorIndex four_of_five = IndexOn({"a", "b", "c", "e"});
  EXPECT_FALSE(CarryFolds(five, AssignFolds(five, 42), four_of_five, AssignFolds(four_of_five, 42))
                   .has_value());
  EXPECT_TRUE(CarryFolds(four, AssignFolds(four, 42), five, AssignFolds(five, 42)).has_value());
}

}  // namespace
}  // namespace perfcast
