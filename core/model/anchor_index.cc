#include "core/model/anchor_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/algorithm/container.h"

namespace perfcast {
namespace {

// How much a configuration's measurements say about another's: a shared model matters most
// (same weights and attention layout), then hardware, then the serving stack; then close GPU
// counts and model sizes. The gaps are the callers': they depend on one side's count and size
// only, so a scan works each out once.
double ConfigurationSimilarity(bool same_model, bool same_hardware, bool same_framework,
                               bool same_precision, double log2_gpus_gap, double log2_size_gap,
                               bool same_semantics, bool same_named_campaign) {
  double score =
      4.0 * same_model + 3.0 * same_hardware + 2.0 * same_framework + 1.0 * same_precision;
  score -= std::abs(log2_gpus_gap);
  const double size_gap = std::abs(log2_size_gap);
  score -= std::isnan(size_gap) ? 2.0 : 0.5 * size_gap;
  // The same x-axis matters about as much as the same hardware; the same harness less than the
  // same framework (docs/METHOD.md §8).
  // The unnamed campaign (results sent without one) is no harness: a query without a campaign
  // asks for the population, and no two submitters' unnamed results share a harness.
  score += 3.0 * same_semantics + 1.5 * same_named_campaign;
  return score;
}

// What other hardware of the query's software stack adds to a configuration's score: half the
// weight of the same hardware, less than the same framework.
constexpr double kSameStackBonus = 1.5;

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
    WidenBatchRange(anchors_[i], largest_batch_on_axis_);
  }
  for (const auto& [configuration, unused] : by_configuration_) {
    configurations_.push_back(configuration);
  }
  std::sort(configurations_.begin(), configurations_.end());
  rank_of_anchor_.resize(anchors_.size());
  for (const Configuration& c : configurations_) {
    const std::vector<int>& curves = by_configuration_.at(c);
    for (int index : curves) rank_of_anchor_[index] = static_cast<int>(anchors_by_rank_.size());
    anchors_by_rank_.push_back(curves);
  }
  for (int i = 0; i < static_cast<int>(anchors_.size()); ++i) {
    const Shape& shape = anchors_[i].curve().shape;
    anchors_at_shape_[{shape.input_tokens, shape.output_tokens}].push_back(i);
  }
  AssignCodes();
}

void WidenBatchRange(const AnchorCurve& anchor, BatchRangeByAxis& range) {
  double& largest = range[static_cast<size_t>(anchor.curve().configuration.batch_semantics)];
  largest = std::max(largest, static_cast<double>(anchor.max_batch_size()));
}

double LargestTrainedBatchFor(const BatchRangeByAxis& largest, BatchSemantics axis) {
  const double on_axis = largest[static_cast<size_t>(axis)];
  if (on_axis > 0) return on_axis;
  const double on_any = *std::max_element(largest.begin(), largest.end());
  return on_any > 0 ? on_any : std::numeric_limits<double>::infinity();
}

AnchorIndex::CodedField AnchorIndex::CodedFieldOf(ConfigurationField field) {
  switch (field) {
    case ConfigurationField::kHardware:
      return kHardwareCode;
    case ConfigurationField::kFramework:
      return kFrameworkCode;
    case ConfigurationField::kModel:
      return kModelCode;
    case ConfigurationField::kPrecision:
      return kPrecisionCode;
    case ConfigurationField::kCampaign:
      return kCampaignCode;
    case ConfigurationField::kNone:
      break;
  }
  return kCodedFieldCount;
}

std::array<const std::string*, AnchorIndex::kCodedFieldCount> AnchorIndex::CodedNames(
    const Configuration& configuration, const std::string& stack) {
  return {&configuration.hardware,  &configuration.framework, &configuration.model,
          &configuration.precision, &configuration.campaign,  &stack};
}

void AnchorIndex::AssignCodes() {
  for (auto& codes : code_of_) codes.clear();
  codes_.clear();
  model_sizes_.clear();
  ranks_of_model_.clear();
  ranks_of_hardware_.clear();
  num_gpus_.clear();
  batch_semantics_.clear();
  const std::string no_stack;
  for (size_t c = 0; c < configurations_.size(); ++c) {
    const auto names = CodedNames(configurations_[c], stacks_.empty() ? no_stack : stacks_[c]);
    Codes codes;
    for (size_t field = 0; field < names.size(); ++field) {
      codes[field] = code_of_[field]
                         .try_emplace(*names[field], static_cast<int>(code_of_[field].size()))
                         .first->second;
    }
    if (codes[kModelCode] == static_cast<int>(model_sizes_.size())) {
      model_sizes_.push_back(ParseModelSize(configurations_[c].model));
      ranks_of_model_.emplace_back();
    }
    ranks_of_model_[static_cast<size_t>(codes[kModelCode])].push_back(static_cast<int>(c));
    if (codes[kHardwareCode] == static_cast<int>(ranks_of_hardware_.size())) {
      ranks_of_hardware_.emplace_back();
    }
    ranks_of_hardware_[static_cast<size_t>(codes[kHardwareCode])].push_back(static_cast<int>(c));
    codes_.push_back(codes);
    num_gpus_.push_back(configurations_[c].num_gpus);
    batch_semantics_.push_back(configurations_[c].batch_semantics);
  }
}

AnchorIndex::Codes AnchorIndex::CodesOf(const Configuration& configuration,
                                        const std::string& stack) const {
  const auto names = CodedNames(configuration, stack);
  Codes codes;
  for (size_t field = 0; field < names.size(); ++field) {
    const auto it = code_of_[field].find(*names[field]);
    codes[field] = it == code_of_[field].end() ? -1 : it->second;
  }
  return codes;
}

void AnchorIndex::SetSoftwareStacks(
    const std::function<std::string(const std::string&)>& stack_of) {
  stack_of_ = stack_of;
  stacks_.clear();
  for (const Configuration& c : configurations_) stacks_.push_back(stack_of(c.hardware));
  AssignCodes();
}

bool AnchorIndex::IsQueried(const Configuration& configuration, const Codes& asked,
                            size_t c) const {
  const Codes& codes = codes_[c];
  for (const CodedField field :
       {kHardwareCode, kFrameworkCode, kModelCode, kPrecisionCode, kCampaignCode}) {
    if (asked[field] != codes[field]) return false;
  }
  return num_gpus_[c] == configuration.num_gpus &&
         batch_semantics_[c] == configuration.batch_semantics;
}

double AnchorIndex::StackBonus(const std::string& stack, const Codes& asked, size_t c) const {
  const Codes& codes = codes_[c];
  return !stack.empty() && asked[kHardwareCode] != codes[kHardwareCode] &&
                 asked[kStackCode] == codes[kStackCode]
             ? kSameStackBonus
             : 0;
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

std::optional<Configuration> AnchorIndex::ConfigurationMeasuring(
    absl::Span<const Configuration> systems, const Shape& shape) const {
  const Configuration* best = nullptr;
  size_t best_curves = 0;
  bool best_has_shape = false;
  for (const Configuration& system : systems) {
    Configuration first = system;
    first.campaign.clear();
    first.batch_semantics = BatchSemantics::kStatic;
    auto same_system = [&system](const Configuration& c) {
      return c.hardware == system.hardware && c.num_gpus == system.num_gpus &&
             c.framework == system.framework && c.model == system.model &&
             c.precision == system.precision;
    };
    for (auto it = std::lower_bound(configurations_.begin(), configurations_.end(), first);
         it != configurations_.end() && same_system(*it); ++it) {
      if (it->batch_semantics != system.batch_semantics) continue;
      const std::vector<int>& curves = by_configuration_.at(*it);
      const bool has_shape = std::any_of(curves.begin(), curves.end(), [&](int index) {
        return anchors_[index].curve().shape == shape;
      });
      if (best == nullptr ||
          std::pair(curves.size(), has_shape) > std::pair(best_curves, best_has_shape)) {
        best = &*it;
        best_curves = curves.size();
        best_has_shape = has_shape;
      }
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

std::vector<AnchorChoice> AnchorIndex::OtherConfigurations(
    const Configuration& configuration, const Shape& shape, int count,
    ConfigurationField must_differ, absl::Span<const std::string> also_not) const {
  if (count <= 0) return {};
  const ModelSize size = ParseModelSize(configuration.model);
  const LogShape query = LogOf(shape);
  const std::string stack = stack_of_ ? stack_of_(configuration.hardware) : std::string();
  const Codes asked = CodesOf(configuration, stack);
  const CodedField differ = CodedFieldOf(must_differ);
  std::vector<int> excluded_codes;
  if (differ != kCodedFieldCount) {
    for (const std::string& name : also_not) {
      if (const auto it = code_of_[differ].find(name); it != code_of_[differ].end()) {
        excluded_codes.push_back(it->second);
      }
    }
  }
  // The GPU-count and size gaps, once per distinct count and model rather than per configuration.
  constexpr double kUnset = std::numeric_limits<double>::infinity();
  std::vector<double> size_gaps(model_sizes_.size(), kUnset);
  std::array<double, 65> gpus_gaps;
  gpus_gaps.fill(kUnset);
  const auto gpus_gap = [&](int num_gpus) {
    const auto gap = [&] {
      return std::log2(static_cast<double>(configuration.num_gpus) / num_gpus);
    };
    if (num_gpus < 0 || num_gpus >= static_cast<int>(gpus_gaps.size())) return gap();
    double& cached = gpus_gaps[static_cast<size_t>(num_gpus)];
    if (cached == kUnset) cached = gap();
    return cached;
  };
  std::vector<std::pair<double, int>> ranked;  // (-score, anchor)
  // The `count` best (lowest) -scores so far, ascending: a configuration whose score cannot reach
  // the last of them, even with its nearest shape at distance 0, is not among the chosen.
  std::vector<double> best_so_far;
  const auto keep = [&](double negative_score) {
    if (count <= 0) return;
    if (std::ssize(best_so_far) == count) {
      if (negative_score >= best_so_far.back()) return;
      best_so_far.pop_back();
    }
    best_so_far.insert(std::upper_bound(best_so_far.begin(), best_so_far.end(), negative_score),
                       negative_score);
  };
  const bool named_campaign = !configuration.campaign.empty();
  const auto consider = [&](size_t c) {
    const Codes& codes = codes_[c];
    const auto same = [&](CodedField field) { return asked[field] == codes[field]; };
    const int num_gpus = num_gpus_[c];
    const bool same_semantics = batch_semantics_[c] == configuration.batch_semantics;
    if (IsQueried(configuration, asked, c)) return;
    if (differ != kCodedFieldCount &&
        (same(differ) || absl::c_linear_search(excluded_codes, codes[differ]))) {
      return;
    }
    const double stack_bonus = StackBonus(stack, asked, c);
    const bool bar_set = std::ssize(best_so_far) == count;
    // The score without its gaps, which only lower it, decides most configurations at once.
    if (bar_set &&
        -(ConfigurationSimilarity(same(kModelCode), same(kHardwareCode), same(kFrameworkCode),
                                  same(kPrecisionCode), 0, 0, same_semantics,
                                  named_campaign && same(kCampaignCode)) +
          stack_bonus) > best_so_far.back()) {
      return;
    }
    double& size_gap = size_gaps[static_cast<size_t>(codes[kModelCode])];
    if (size_gap == kUnset) {
      size_gap =
          std::log2(size.billions_of_parameters /
                    model_sizes_[static_cast<size_t>(codes[kModelCode])].billions_of_parameters);
    }
    const double similarity = ConfigurationSimilarity(
        same(kModelCode), same(kHardwareCode), same(kFrameworkCode), same(kPrecisionCode),
        gpus_gap(num_gpus), size_gap, same_semantics, named_campaign && same(kCampaignCode));
    if (bar_set && -(similarity + stack_bonus) > best_so_far.back()) return;
    int nearest = -1;
    double nearest_distance = std::numeric_limits<double>::infinity();
    for (int index : anchors_by_rank_[c]) {
      const double distance = Distance(query, log_shapes_[index]);
      if (distance < nearest_distance) {
        nearest = index;
        nearest_distance = distance;
      }
    }
    const double score = similarity - nearest_distance + stack_bonus;
    ranked.emplace_back(-score, nearest);
    keep(-score);
  };
  // The query's model and hardware weigh most, so their configurations come first: the bar they
  // set lets most others be passed over at a glance, and often all of them at once. The order
  // changes nothing chosen: a configuration passed over could not have beaten the bar, which
  // only rises.
  const int model_code = asked[kModelCode];
  const int hardware_code = asked[kHardwareCode];
  if (model_code >= 0) {
    for (const int c : ranks_of_model_[static_cast<size_t>(model_code)]) {
      consider(static_cast<size_t>(c));
    }
  }
  if (hardware_code >= 0) {
    for (const int c : ranks_of_hardware_[static_cast<size_t>(hardware_code)]) {
      if (codes_[static_cast<size_t>(c)][kModelCode] != model_code) {
        consider(static_cast<size_t>(c));
      }
    }
  }
  // The best score a configuration of another model and hardware can have.
  const double others_ceiling =
      ConfigurationSimilarity(false, false, true, true, 0, 0, true, named_campaign) +
      (stack.empty() ? 0 : kSameStackBonus);
  if (std::ssize(best_so_far) < count || -others_ceiling <= best_so_far.back()) {
    for (size_t c = 0; c < configurations_.size(); ++c) {
      // A code of -1 (a name no configuration has) matches none.
      if (codes_[c][kModelCode] != model_code && codes_[c][kHardwareCode] != hardware_code) {
        consider(c);
      }
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

std::optional<AnchorIndex::ShapePair> AnchorIndex::SiblingMeasuredAt(
    const Configuration& configuration, const Shape& from, const Shape& to,
    ConfigurationField must_differ) const {
  if (from == to) return std::nullopt;
  const auto at_from = anchors_at_shape_.find({from.input_tokens, from.output_tokens});
  const auto at_to = anchors_at_shape_.find({to.input_tokens, to.output_tokens});
  if (at_from == anchors_at_shape_.end() || at_to == anchors_at_shape_.end()) return std::nullopt;
  // Scanned from the shape fewer curves measured; the other is looked up per configuration.
  const bool from_side = at_from->second.size() <= at_to->second.size();
  const std::vector<int>& scanned = from_side ? at_from->second : at_to->second;
  const Shape& partner = from_side ? to : from;
  const ModelSize size = ParseModelSize(configuration.model);
  const std::string stack = stack_of_ ? stack_of_(configuration.hardware) : std::string();
  const Codes asked = CodesOf(configuration, stack);
  const bool named_campaign = !configuration.campaign.empty();
  const CodedField differ = CodedFieldOf(must_differ);
  std::optional<ShapePair> best;
  double best_score = -std::numeric_limits<double>::infinity();
  bool best_is_sweep = false;
  // A pair whose curves each measured 2 batch sizes or more, a sweep, tells the step along the
  // batch sizes; a single point only at its own. Any sweep goes before any single point.
  const auto is_sweep = [this](int a, int b) {
    return anchors_[a].curve().points.size() >= 2 && anchors_[b].curve().points.size() >= 2;
  };
  for (const int index : scanned) {
    const size_t c = static_cast<size_t>(rank_of_anchor_[index]);
    if (batch_semantics_[c] != configuration.batch_semantics) continue;
    const Codes& codes = codes_[c];
    const auto same = [&](CodedField field) { return asked[field] == codes[field]; };
    if (IsQueried(configuration, asked, c)) continue;
    if (differ != kCodedFieldCount && same(differ)) continue;
    const double stack_bonus = StackBonus(stack, asked, c);
    const auto score_with_gaps = [&](double log2_gpus_gap, double log2_size_gap) {
      return ConfigurationSimilarity(same(kModelCode), same(kHardwareCode), same(kFrameworkCode),
                                     same(kPrecisionCode), log2_gpus_gap, log2_size_gap,
                                     /*same_semantics=*/true,
                                     named_campaign && same(kCampaignCode)) +
             stack_bonus;
    };
    // Ties keep the first met (the scan is in anchor order), so that every process picks the
    // same. The gaps only lower a score: without them it decides most candidates at once.
    const bool may_be_sweep = anchors_[index].curve().points.size() >= 2;
    if (best_is_sweep && !may_be_sweep) continue;
    if (best_is_sweep == may_be_sweep && score_with_gaps(0, 0) <= best_score) continue;
    const double score = score_with_gaps(
        std::log2(static_cast<double>(configuration.num_gpus) / num_gpus_[c]),
        std::log2(size.billions_of_parameters /
                  model_sizes_[static_cast<size_t>(codes[kModelCode])].billions_of_parameters));
    if (best_is_sweep == may_be_sweep && score <= best_score) continue;
    for (const int other : anchors_by_rank_[c]) {
      if (anchors_[other].curve().shape != partner) continue;
      const bool sweep = is_sweep(index, other);
      if (sweep == best_is_sweep ? score > best_score : sweep) {
        best = from_side ? ShapePair{index, other} : ShapePair{other, index};
        best_score = score;
        best_is_sweep = sweep;
      }
      break;
    }
  }
  return best;
}

}  // namespace perfcast
