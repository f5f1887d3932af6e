#pragma once

#include <array>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "core/data/benchmark_record.h"
#include "core/fit/anchor_curve.h"
#include "core/model/workload_features.h"

namespace perfcast {

struct AnchorChoice {
  int anchor_index = 0;
  bool is_same_curve = false;
};

// The largest batch measured on each axis (BatchSemantics' order; 0 where none is on it).
using BatchRangeByAxis = std::array<double, std::size(kAllBatchSemantics)>;

// Widens `range` to the batches of `anchor` on its axis.
void WidenBatchRange(const AnchorCurve& anchor, BatchRangeByAxis& range);

// How far along the batch corrections trained on curves of `largest` reach for a query on
// `axis`: the largest batch on that axis or, where no curve is on it, on any (the trees saw its
// rows nowhere); infinite where there is no curve at all.
double LargestTrainedBatchFor(const BatchRangeByAxis& largest, BatchSemantics axis);

// The training curves, indexed for choosing the anchors of a query.
//
// Thread safety: immutable after construction.
class AnchorIndex {
 public:
  explicit AnchorIndex(std::vector<AnchorCurve> anchors);
  // The software stack of each hardware name ("" where unknown; see TransferFeatures). With it,
  // OtherConfigurations prefers, among configurations on other hardware, those of the query's
  // stack: a datasheet ratio carries between parts of one stack, far less across stacks.
  void SetSoftwareStacks(const std::function<std::string(const std::string&)>& stack_of);

  const std::vector<AnchorCurve>& anchors() const { return anchors_; }
  bool HasConfiguration(const Configuration& configuration) const {
    return by_configuration_.contains(configuration);
  }
  // Every configuration, sorted.
  const std::vector<Configuration>& configurations() const { return configurations_; }
  // The largest batch size the curves on `axis` measured; 0 where none is on it.
  int LargestBatchOn(BatchSemantics axis) const {
    return static_cast<int>(largest_batch_on_axis_[static_cast<size_t>(axis)]);
  }
  // The largest batch size the curves on `axis` measured, or where none is on that axis, the
  // largest any curve measured: how far along the batch the corrections were trained for a query
  // on `axis` (Corrector::largest_trained_batch). Infinite for an empty index.
  double LargestTrainedBatchFor(BatchSemantics axis) const {
    return perfcast::LargestTrainedBatchFor(largest_batch_on_axis_, axis);
  }
  // Of the configurations that measured one of `systems` (the same hardware, GPU count, framework,
  // model and precision, in any campaign) on their axis, the one whose curves a query read off
  // another campaign's reads: the one with the most curves of it (a few curves of one submitter do
  // not replace a campaign's sweep), then one with the query's shape, then the earliest in
  // `systems` and, within one system, the first campaign by name. nullopt when none did.
  std::optional<Configuration> ConfigurationMeasuring(absl::Span<const Configuration> systems,
                                                      const Shape& shape) const;
  // Position of a known configuration in configurations().
  int ConfigurationRank(const Configuration& configuration) const;
  // Indices into anchors() of the curves of configurations()[rank], in anchor order.
  const std::vector<int>& AnchorsOfRank(int rank) const { return anchors_by_rank_[rank]; }
  // The curve of exactly this configuration and shape, or -1.
  int Find(const Configuration& configuration, const Shape& shape) const;

  // Up to `count` curves of the same configuration other than `shape`'s own, nearest shape first.
  std::vector<AnchorChoice> SameConfiguration(const Configuration& configuration,
                                              const Shape& shape, int count) const;

  // Up to `count` curves from other configurations, one per configuration, the most similar
  // configuration first (same model, hardware, framework, precision; close GPU count and model
  // size; other hardware of the same software stack, see SetSoftwareStacks), each the
  // configuration's curve nearest to `shape`. With a `must_differ` field, only configurations
  // whose value of that field differs from the query's and from every name in `also_not`
  // (other spellings of the query's value, such as the GPU's under other campaigns' names).
  std::vector<AnchorChoice> OtherConfigurations(
      const Configuration& configuration, const Shape& shape, int count,
      ConfigurationField must_differ = ConfigurationField::kNone,
      absl::Span<const std::string> also_not = {}) const;

  // The curves at `from` and at `to` of the configuration most similar to `configuration` (by the
  // score OtherConfigurations ranks by, without its shape term) among the others that measured
  // both shapes on the query's batch axis, preferring any whose two curves each have 2 points or
  // more: how the step between the two shapes moved a system like it. nullopt when no other
  // configuration measured both. With a `must_differ` field, only configurations whose value of
  // that field differs from the query's.
  struct ShapePair {
    int at_from = -1;
    int at_to = -1;
  };
  std::optional<ShapePair> SiblingMeasuredAt(
      const Configuration& configuration, const Shape& from, const Shape& to,
      ConfigurationField must_differ = ConfigurationField::kNone) const;

 private:
  // Shapes as (log2 input, log2 output): distances are computed per anchor on every query.
  struct LogShape {
    double input = 0;
    double output = 0;
  };
  static LogShape LogOf(const Shape& shape);
  static double Distance(const LogShape& a, const LogShape& b) {
    return std::abs(a.input - b.input) + std::abs(a.output - b.output);
  }

  // A configuration's names as small integers, so that a query meets every configuration
  // without string comparisons; -1 for a name no configuration has. The model's code also
  // indexes its size.
  enum CodedField {
    kHardwareCode,
    kFrameworkCode,
    kModelCode,
    kPrecisionCode,
    kCampaignCode,
    kStackCode,
    kCodedFieldCount
  };
  using Codes = std::array<int, kCodedFieldCount>;
  static CodedField CodedFieldOf(ConfigurationField field);  // kCodedFieldCount for kNone
  static std::array<const std::string*, kCodedFieldCount> CodedNames(
      const Configuration& configuration, const std::string& stack);
  // codes_, code_of_ and model_sizes_ from configurations_ and stacks_.
  void AssignCodes();
  Codes CodesOf(const Configuration& configuration, const std::string& stack) const;
  // Whether configurations_[c] is `configuration` itself, whose codes are `asked`.
  bool IsQueried(const Configuration& configuration, const Codes& asked, size_t c) const;
  // What configurations_[c] gains for being other hardware of the query's software stack.
  double StackBonus(const std::string& stack, const Codes& asked, size_t c) const;

  std::vector<AnchorCurve> anchors_;
  BatchRangeByAxis largest_batch_on_axis_{};
  std::vector<LogShape> log_shapes_;  // parallel to anchors_
  std::vector<int> rank_of_anchor_;   // parallel to anchors_: its configuration's rank
  absl::flat_hash_map<std::pair<int, int>, std::vector<int>> anchors_at_shape_;  // by (in, out)
  absl::flat_hash_map<Configuration, std::vector<int>> by_configuration_;
  std::vector<Configuration> configurations_;      // sorted, for deterministic scans
  std::vector<std::vector<int>> anchors_by_rank_;  // parallel to configurations_
  std::function<std::string(const std::string&)> stack_of_;
  std::vector<std::string> stacks_;  // parallel to configurations_; empty without SetSoftwareStacks
  std::array<absl::flat_hash_map<std::string, int>, kCodedFieldCount> code_of_;
  std::vector<Codes> codes_;                         // parallel to configurations_
  std::vector<ModelSize> model_sizes_;               // by model code
  std::vector<std::vector<int>> ranks_of_model_;     // configuration ranks by model code
  std::vector<std::vector<int>> ranks_of_hardware_;  // and by hardware code
  // Parallel to configurations_, apart from them so that a scan reads only what it compares.
  std::vector<int> num_gpus_;
  std::vector<BatchSemantics> batch_semantics_;
};

// L1 distance in (log2 input tokens, log2 output tokens).
double ShapeDistance(const Shape& a, const Shape& b);

}  // namespace perfcast
