#include "core/model/cross_fit_folds.h"

#include <numeric>
#include <random>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "core/catalogue/name_matching.h"

namespace perfcast {
namespace {

// The hardware type a configuration runs on: its catalogue entry where there is one, so that
// two campaigns' spellings of one GPU fall into one fold.
std::string HardwareType(const Configuration& configuration, const Catalogue* catalogue) {
  if (catalogue != nullptr) {
    if (absl::StatusOr<const AcceleratorSpec*> entry =
            catalogue->FindAccelerator(configuration.hardware);
        entry.ok()) {
      return (*entry)->name;
    }
  }
  return FoldName(configuration.hardware);
}

}  // namespace

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
    const auto [it, inserted] = type_numbers.try_emplace(HardwareType(configuration, catalogue),
                                                         static_cast<int>(type_numbers.size()));
    type_of_configuration.push_back(it->second);
  }
  if (type_numbers.size() >= static_cast<size_t>(kCrossFitFolds)) {
    const std::vector<int> fold_of_type = assign(type_numbers.size());
    std::vector<int>& by_hardware = folds.of_configuration_by_hardware.emplace();
    for (int type : type_of_configuration) by_hardware.push_back(fold_of_type[type]);
  }
  return folds;
}

}  // namespace perfcast
