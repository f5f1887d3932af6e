#include "core/model/cross_fit_folds.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "core/catalogue/catalogue.h"

namespace perfcast {

CrossFitFolds AssignFolds(const AnchorIndex& index, uint64_t seed, const Catalogue* catalogue) {
  std::mt19937_64 random(seed);
  auto assign = [&](size_t count) {
    std::vector<int> order(count);
    std::iota(order.begin(), order.end(), 0);
    // Fisher-Yates by hand: std::shuffle's sequence differs between standard libraries.
    for (size_t i = count; i > 1; --i) std::swap(order[i - 1], order[random() % i]);
    std::vector<int> fold(count);
    for (size_t i = 0; i < count; ++i) fold[order[i]] = static_cast<int>(i % kCrossFitFolds);
    return fold;
  };
  CrossFitFolds folds;
  folds.of_curve = assign(index.anchors().size());
  folds.of_configuration = assign(index.configurations().size());

  // Types numbered in order of first appearance, so that the folds depend on the data and the
  // seed only.
  absl::flat_hash_map<std::string, int> type_numbers;
  std::vector<int> type_of_configuration;
  for (const Configuration& configuration : index.configurations()) {
    const auto [it, inserted] = type_numbers.try_emplace(
        HardwareTypeOf(configuration.hardware, catalogue), static_cast<int>(type_numbers.size()));
    type_of_configuration.push_back(it->second);
  }
  if (type_numbers.size() >= static_cast<size_t>(kCrossFitFolds)) {
    const std::vector<int> fold_of_type = assign(type_numbers.size());
    std::vector<int>& by_hardware = folds.of_configuration_by_hardware.emplace();
    for (int type : type_of_configuration) by_hardware.push_back(fold_of_type[type]);
  }
  return folds;
}

FoldsOfCurves FoldsOfEachCurve(const AnchorIndex& index, const CrossFitFolds& folds) {
  FoldsOfCurves out;
  for (const AnchorCurve& anchor : index.anchors()) {
    const int rank = index.ConfigurationRank(anchor.curve().configuration);
    out.by_configuration.push_back(folds.of_configuration[rank]);
    if (folds.of_configuration_by_hardware) {
      out.by_hardware.push_back((*folds.of_configuration_by_hardware)[rank]);
    }
  }
  return out;
}

FoldBatchRanges::FoldBatchRanges(const AnchorIndex& index, absl::Span<const int> fold_of_curve) {
  for (size_t i = 0; i < std::min(fold_of_curve.size(), index.anchors().size()); ++i) {
    const int fold = fold_of_curve[i];
    if (fold < 0) continue;
    if (static_cast<size_t>(fold) >= largest_in_fold_.size()) largest_in_fold_.resize(fold + 1);
    WidenBatchRange(index.anchors()[i], largest_in_fold_[fold]);
  }
}

double FoldBatchRanges::LargestTrainedBatchFor(int fold, BatchSemantics axis) const {
  BatchRangeByAxis outside{};
  for (size_t f = 0; f < largest_in_fold_.size(); ++f) {
    if (static_cast<int>(f) == fold) continue;
    for (size_t a = 0; a < outside.size(); ++a) {
      outside[a] = std::max(outside[a], largest_in_fold_[f][a]);
    }
  }
  return perfcast::LargestTrainedBatchFor(outside, axis);
}

std::optional<CrossFitFolds> CarryFolds(const AnchorIndex& previous_index,
                                        const CrossFitFolds& previous, const AnchorIndex& index,
                                        const CrossFitFolds& fresh, const Catalogue* catalogue) {
  // Hardware types are only added while every curve stays, so only a removal can take the
  // hardware folds away.
  if (previous.of_configuration_by_hardware.has_value() &&
      !fresh.of_configuration_by_hardware.has_value()) {
    return std::nullopt;
  }
  CrossFitFolds folds = fresh;
  // Fold models grown on fewer hardware types than folds have no hardware set: a type added
  // since (a new campaign's GPU) leaves the folds without one too, and unseen hardware is
  // calibrated by the configuration-fold models, as it was when they were grown.
  if (!previous.of_configuration_by_hardware.has_value()) {
    folds.of_configuration_by_hardware.reset();
  }
  size_t carried_curves = 0;
  for (size_t curve = 0; curve < index.anchors().size(); ++curve) {
    const Curve& c = index.anchors()[curve].curve();
    if (const int before = previous_index.Find(c.configuration, c.shape); before >= 0) {
      folds.of_curve[curve] = previous.of_curve[before];
      ++carried_curves;
    }
  }
  // A curve gone since would leave what the fold models trained on untold to the next training
  // that carries these folds.
  if (carried_curves != previous_index.anchors().size()) return std::nullopt;
  absl::flat_hash_map<std::string, int> fold_of_type;
  if (previous.of_configuration_by_hardware) {
    for (size_t rank = 0; rank < previous_index.configurations().size(); ++rank) {
      fold_of_type.try_emplace(
          HardwareTypeOf(previous_index.configurations()[rank].hardware, catalogue),
          (*previous.of_configuration_by_hardware)[rank]);
    }
  }
  for (size_t rank = 0; rank < index.configurations().size(); ++rank) {
    const Configuration& configuration = index.configurations()[rank];
    if (previous_index.HasConfiguration(configuration)) {
      folds.of_configuration[rank] =
          previous.of_configuration[previous_index.ConfigurationRank(configuration)];
    }
    if (folds.of_configuration_by_hardware) {
      if (auto it = fold_of_type.find(HardwareTypeOf(configuration.hardware, catalogue));
          it != fold_of_type.end()) {
        (*folds.of_configuration_by_hardware)[rank] = it->second;
      }
    }
  }
  return folds;
}

}  // namespace perfcast
