#include "core/model/anchor_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace perfcast {
namespace {

// How much a configuration's measurements say about another's: a shared model matters most
// (same weights and attention layout), then hardware, then the serving stack.
double ConfigurationSimilarity(const Configuration& a, const ModelSize& a_size,
                               const Configuration& b, const ModelSize& b_size) {
  double score = 4.0 * (a.model == b.model) + 3.0 * (a.hardware == b.hardware) +
                 2.0 * (a.framework == b.framework) + 1.0 * (a.precision == b.precision);
  score -= std::abs(std::log2(static_cast<double>(a.num_gpus) / b.num_gpus));
  const double size_gap =
      std::abs(std::log2(a_size.billions_of_parameters / b_size.billions_of_parameters));
  score -= std::isnan(size_gap) ? 2.0 : 0.5 * size_gap;
  // The same x-axis matters about as much as the same hardware; the same harness less than the
  // same framework (docs/METHOD.md §8).
  // The unnamed campaign (results sent without one) is no harness: a query without a campaign
  // asks for the population, and no two submitters' unnamed results share a harness.
  score += 3.0 * (a.batch_semantics == b.batch_semantics) +
           1.5 * (!a.campaign.empty() && a.campaign == b.campaign);
  return score;
}

}  // namespace

double ShapeDistance(const Shape& a, const Shape& b) {
  return std::abs(std::log2(static_cast<double>(a.input_tokens) / b.input_tokens)) +
         std::abs(std::log2(static_cast<double>(a.output_tokens) / b.output_tokens));
}

AnchorIndex::LogShape AnchorIndex::LogOf(const Shape& shape) {
  return {std::log2(static_cast<double>(shape.input_tokens)),
          std::log2(static_cast<double>(shape.output_tokens))};
}

AnchorIndex::AnchorIndex(std::vector<AnchorCurve> anchors) : anchors_(std::move(anchors)) {
  for (int i = 0; i < static_cast<int>(anchors_.size()); ++i) {
    by_configuration_[anchors_[i].curve().configuration].push_back(i);
    log_shapes_.push_back(LogOf(anchors_[i].curve().shape));
  }
  for (const auto& [configuration, unused] : by_configuration_) {
    configurations_.push_back(configuration);
  }
  std::sort(configurations_.begin(), configurations_.end());
  for (const Configuration& c : configurations_) {
    sizes_.push_back(ParseModelSize(c.model));
    anchors_by_rank_.push_back(by_configuration_.at(c));
  }
}

void AnchorIndex::SetSoftwareStacks(
    const std::function<std::string(const std::string&)>& stack_of) {
  stack_of_ = stack_of;
  stacks_.clear();
  for (const Configuration& c : configurations_) stacks_.push_back(stack_of(c.hardware));
}

int AnchorIndex::ConfigurationRank(const Configuration& configuration) const {
  return static_cast<int>(
      std::lower_bound(configurations_.begin(), configurations_.end(), configuration) -
      configurations_.begin());
}

int AnchorIndex::Find(const Configuration& configuration, const Shape& shape) const {
  auto it = by_configuration_.find(configuration);
  if (it == by_configuration_.end()) return -1;
  for (int index : it->second) {
    if (anchors_[index].curve().shape == shape) return index;
  }
  return -1;
}

std::optional<std::string> AnchorIndex::CampaignMeasuring(const Configuration& configuration,
                                                          const Shape& shape) const {
  Configuration first = configuration;
  first.campaign.clear();
  first.batch_semantics = BatchSemantics::kStatic;
  auto same_system = [&configuration](const Configuration& c) {
    return c.hardware == configuration.hardware && c.num_gpus == configuration.num_gpus &&
           c.framework == configuration.framework && c.model == configuration.model &&
           c.precision == configuration.precision;
  };
  const std::string* best = nullptr;
  size_t best_curves = 0;
  bool best_has_shape = false;
  for (auto it = std::lower_bound(configurations_.begin(), configurations_.end(), first);
       it != configurations_.end() && same_system(*it); ++it) {
    if (it->batch_semantics != configuration.batch_semantics) continue;
    const std::vector<int>& curves = by_configuration_.at(*it);
    const bool has_shape = std::any_of(curves.begin(), curves.end(), [&](int index) {
      return anchors_[index].curve().shape == shape;
    });
    if (best == nullptr ||
        std::pair(curves.size(), has_shape) > std::pair(best_curves, best_has_shape)) {
      best = &it->campaign;
      best_curves = curves.size();
      best_has_shape = has_shape;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

std::vector<AnchorChoice> AnchorIndex::SameConfiguration(const Configuration& configuration,
                                                         const Shape& shape, int count) const {
  std::vector<std::pair<double, int>> ranked;
  auto it = by_configuration_.find(configuration);
  if (it == by_configuration_.end()) return {};
  const LogShape query = LogOf(shape);
  for (int index : it->second) {
    if (anchors_[index].curve().shape != shape) {
      ranked.emplace_back(Distance(query, log_shapes_[index]), index);
    }
  }
  const auto kept = ranked.begin() + std::min<size_t>(static_cast<size_t>(count), ranked.size());
  std::partial_sort(ranked.begin(), kept, ranked.end());
  std::vector<AnchorChoice> chosen;
  for (int i = 0; i < std::min<int>(count, ranked.size()); ++i) {
    chosen.push_back({ranked[i].second, false});
  }
  return chosen;
}

std::vector<AnchorChoice> AnchorIndex::OtherConfigurations(const Configuration& configuration,
                                                           const Shape& shape, int count,
                                                           ConfigurationField must_differ) const {
  const ModelSize size = ParseModelSize(configuration.model);
  const LogShape query = LogOf(shape);
  const std::string stack = stack_of_ ? stack_of_(configuration.hardware) : std::string();
  std::vector<std::pair<double, int>> ranked;  // (-score, anchor)
  for (size_t c = 0; c < configurations_.size(); ++c) {
    const Configuration& other = configurations_[c];
    if (other == configuration) continue;
    if (must_differ != ConfigurationField::kNone &&
        NameOf(other, must_differ) == NameOf(configuration, must_differ)) {
      continue;
    }
    int nearest = -1;
    double nearest_distance = std::numeric_limits<double>::infinity();
    for (int index : anchors_by_rank_[c]) {
      const double distance = Distance(query, log_shapes_[index]);
      if (distance < nearest_distance) {
        nearest = index;
        nearest_distance = distance;
      }
    }
    double score =
        ConfigurationSimilarity(configuration, size, other, sizes_[c]) - nearest_distance;
    // Half the weight of the same hardware, less than the same framework.
    if (!stack.empty() && other.hardware != configuration.hardware && stacks_[c] == stack) {
      score += 1.5;
    }
    ranked.emplace_back(-score, nearest);
  }
  const auto kept = ranked.begin() + std::min<size_t>(static_cast<size_t>(count), ranked.size());
  std::partial_sort(ranked.begin(), kept, ranked.end());
  std::vector<AnchorChoice> chosen;
  for (int i = 0; i < std::min<int>(count, ranked.size()); ++i) {
    chosen.push_back({ranked[i].second, false});
  }
  return chosen;
}

}  // namespace perfcast
