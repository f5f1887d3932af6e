// AnchorIndex::OtherConfigurations against the rule it implements (docs/METHOD.md §2, §8),
// scored here for every configuration of the default data: its scan passes most configurations
// over, which must never change the choice.
#include "core/model/anchor_index.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_csv.h"
#include "core/data/curve.h"
#include "core/model/workload_features.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

struct DefaultIndex {
  AnchorIndex index;
  Catalogue catalogue;
};

const DefaultIndex& Default() {
  static const DefaultIndex* loaded = [] {
    auto data =
        ReadBenchmarkCsv(PERFCAST_SOURCE_DIR "/data/default_benchmarks.csv", BadRowPolicy::kSkip);
    auto catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
    EXPECT_TRUE(data.ok()) << data.status();
    EXPECT_TRUE(catalogue.ok()) << catalogue.status();
    std::vector<AnchorCurve> anchors;
    for (Curve& curve : GroupIntoCurves(data->records)) anchors.emplace_back(std::move(curve));
    auto* out = new DefaultIndex{AnchorIndex(std::move(anchors)), *std::move(catalogue)};
    out->index.SetSoftwareStacks([&catalogue = out->catalogue](const std::string& hardware) {
      return std::string(catalogue.SoftwareStackOf(hardware));
    });
    return out;
  }();
  return *loaded;
}

// Every configuration scored in full, in the order of operations the index uses, so that ties
// fall the same way.
std::vector<int> ScoredInFull(const DefaultIndex& d, const Configuration& query, const Shape& shape,
                              int count, ConfigurationField must_differ,
                              const std::vector<std::string>& also_not = {}) {
  const AnchorIndex& index = d.index;
  const ModelSize size = ParseModelSize(query.model);
  const std::string stack(d.catalogue.SoftwareStackOf(query.hardware));
  const double input = std::log2(static_cast<double>(shape.input_tokens));
  const double output = std::log2(static_cast<double>(shape.output_tokens));
  std::vector<std::pair<double, int>> ranked;
  for (size_t rank = 0; rank < index.configurations().size(); ++rank) {
    const Configuration& other = index.configurations()[rank];
    if (other == query) continue;
    if (must_differ != ConfigurationField::kNone &&
        (NameOf(other, must_differ) == NameOf(query, must_differ) ||
         absl::c_linear_search(also_not, NameOf(other, must_differ)))) {
      continue;
    }
    const bool same_hardware = other.hardware == query.hardware;
    double similarity = 4.0 * (other.model == query.model) + 3.0 * same_hardware +
                        2.0 * (other.framework == query.framework) +
                        1.0 * (other.precision == query.precision);
    similarity -= std::abs(std::log2(static_cast<double>(query.num_gpus) / other.num_gpus));
    const double size_gap = std::abs(std::log2(size.billions_of_parameters /
                                               ParseModelSize(other.model).billions_of_parameters));
    similarity -= std::isnan(size_gap) ? 2.0 : 0.5 * size_gap;
    similarity += 3.0 * (other.batch_semantics == query.batch_semantics) +
                  1.5 * (!query.campaign.empty() && other.campaign == query.campaign);
    const double stack_bonus =
        !stack.empty() && !same_hardware && d.catalogue.SoftwareStackOf(other.hardware) == stack
            ? 1.5
            : 0;
    int nearest = -1;
    double nearest_distance = std::numeric_limits<double>::infinity();
    for (const int a : index.AnchorsOfRank(static_cast<int>(rank))) {
      const Shape& s = index.anchors()[a].curve().shape;
      const double distance = std::abs(input - std::log2(static_cast<double>(s.input_tokens))) +
                              std::abs(output - std::log2(static_cast<double>(s.output_tokens)));
      if (distance < nearest_distance) {
        nearest = a;
        nearest_distance = distance;
      }
    }
    ranked.emplace_back(-(similarity - nearest_distance + stack_bonus), nearest);
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<int> chosen;
  for (int i = 0; i < std::min<int>(count, static_cast<int>(ranked.size())); ++i) {
    chosen.push_back(ranked[static_cast<size_t>(i)].second);
  }
  return chosen;
}

std::vector<int> Chosen(const std::vector<AnchorChoice>& choices) {
  std::vector<int> out;
  for (const AnchorChoice& c : choices) out.push_back(c.anchor_index);
  return out;
}

TEST(OtherConfigurationsTest, PassingConfigurationsOverNeverChangesTheChoice) {
  const DefaultIndex& d = Default();
  const std::vector<Configuration>& configurations = d.index.configurations();
  ASSERT_GT(configurations.size(), 100u);
  // Known configurations as they are and as queries the data lack: another GPU count, precision,
  // model or hardware, no campaign or one never seen; each for every field that must differ.
  const std::vector<std::function<void(Configuration&)>> variants = {
      [](Configuration&) {},
      [](Configuration& c) { c.num_gpus *= 2; },
      [](Configuration& c) { c.precision = c.precision == "fp8" ? "fp16" : "fp8"; },
      [](Configuration& c) { c.model = "unknown-org/unknown-model-13b"; },
      [](Configuration& c) { c.hardware = "NVIDIA H100"; },
      [](Configuration& c) { c.hardware = "unknown accelerator"; },
      [](Configuration& c) { c.campaign.clear(); },
      [](Configuration& c) { c.campaign = "a campaign never seen"; },
  };
  const std::pair<int, ConfigurationField> sets[] = {{4, ConfigurationField::kNone},
                                                     {3, ConfigurationField::kHardware},
                                                     {2, ConfigurationField::kCampaign},
                                                     {1, ConfigurationField::kModel}};
  int compared = 0;
  for (size_t rank = 0; rank < configurations.size(); rank += 5) {
    const Shape shape =
        d.index.anchors()[d.index.AnchorsOfRank(static_cast<int>(rank)).front()].curve().shape;
    for (size_t v = 0; v < variants.size(); ++v) {
      Configuration query = configurations[rank];
      variants[v](query);
      // The other spellings of the query's GPU in the data, which a GPU held out as new must not
      // be read from.
      std::vector<std::string> spellings;
      for (const Configuration& c : configurations) {
        if (c.hardware != query.hardware &&
            HardwareTypeOf(c.hardware, &d.catalogue) ==
                HardwareTypeOf(query.hardware, &d.catalogue) &&
            !absl::c_linear_search(spellings, c.hardware)) {
          spellings.push_back(c.hardware);
        }
      }
      for (const auto& [count, must_differ] : sets) {
        const std::vector<std::string> also_not =
            must_differ == ConfigurationField::kHardware ? spellings : std::vector<std::string>{};
        for (const Shape& asked : {shape, Shape{shape.input_tokens * 3, shape.output_tokens}}) {
          ASSERT_EQ(Chosen(d.index.OtherConfigurations(query, asked, count, must_differ)),
                    ScoredInFull(d, query, asked, count, must_differ))
              << query.hardware << " x" << query.num_gpus << " " << query.framework << " "
              << query.model << " " << query.precision << " '" << query.campaign << "', variant "
              << v << ", count " << count;
          ASSERT_EQ(Chosen(d.index.OtherConfigurations(query, asked, count, must_differ, also_not)),
                    ScoredInFull(d, query, asked, count, must_differ, also_not))
              << query.hardware << " x" << query.num_gpus << " " << query.framework << " "
              << query.model << " " << query.precision << " '" << query.campaign << "', variant "
              << v << ", count " << count;
          ++compared;
        }
      }
    }
  }
  EXPECT_GT(compared, 5000);
}

TEST(OtherConfigurationsTest, AnotherSpellingOfTheQuerysNameIsNoOtherName) {
  const DefaultIndex& d = Default();
  constexpr char kH100[] = "NVIDIA H100 SXM 80GB";
  const auto type_of = [&](const Configuration& c) {
    return HardwareTypeOf(c.hardware, &d.catalogue);
  };
  // Every spelling of the H100 in the data, and its configurations.
  std::vector<std::string> spellings;
  std::vector<const Configuration*> h100s;
  for (const Configuration& c : d.index.configurations()) {
    if (type_of(c) != kH100) continue;
    h100s.push_back(&c);
    if (!absl::c_linear_search(spellings, c.hardware)) spellings.push_back(c.hardware);
  }
  ASSERT_GE(spellings.size(), 3u);
  const auto h100s_among = [&](const std::vector<AnchorChoice>& chosen) {
    int count = 0;
    for (const AnchorChoice& c : chosen) {
      count += type_of(d.index.anchors()[c.anchor_index].curve().configuration) == kH100;
    }
    return count;
  };
  // Told only that the name must differ, the nearest configurations of some include the same GPU
  // under other spellings; told the spellings too, never.
  int with_twins = 0;
  for (const Configuration* h100 : h100s) {
    const Shape shape{1024, 1024};
    with_twins += h100s_among(d.index.OtherConfigurations(*h100, shape, 8,
                                                          ConfigurationField::kHardware)) > 0;
    const std::vector<AnchorChoice> by_type =
        d.index.OtherConfigurations(*h100, shape, 8, ConfigurationField::kHardware, spellings);
    EXPECT_EQ(by_type.size(), 8u);
    EXPECT_EQ(h100s_among(by_type), 0) << h100->hardware << " " << h100->model;
    // Names of no field exclude nothing.
    EXPECT_EQ(
        Chosen(d.index.OtherConfigurations(*h100, shape, 8, ConfigurationField::kNone, spellings)),
        Chosen(d.index.OtherConfigurations(*h100, shape, 8)));
  }
  EXPECT_GT(with_twins, 10);
}

TEST(OtherConfigurationsTest, NoCountNoChoice) {
  const DefaultIndex& d = Default();
  EXPECT_TRUE(d.index.OtherConfigurations(d.index.configurations().front(), {128, 128}, 0).empty());
}

}  // namespace
}  // namespace perfcast
