#include "core/eval/evaluation_protocol.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/util/byte_coding.h"

namespace perfcast {
namespace {

// Fisher-Yates with mt19937_64, whose output the standard fixes, so the order is the same on
// every platform (std::shuffle's is not).
void SeededShuffle(std::vector<int>& items, uint64_t seed) {
  std::mt19937_64 random(seed);
  for (size_t i = items.size(); i > 1; --i) {
    const size_t j = random() % i;
    std::swap(items[i - 1], items[j]);
  }
}

void AddPoints(const Curve& curve, size_t first, std::vector<HeldOutPoint>& out) {
  for (size_t p = first; p < curve.points.size(); ++p) {
    out.push_back({curve.configuration, curve.shape, curve.points[p].batch_size,
                   curve.points[p].throughput_tokens_per_s, curve.points[p].ttft_s,
                   curve.points[p].itl_s, curve.points[p].p99_ttft_s, curve.points[p].p99_tpot_s});
  }
}

// Folds where fold k holds out the k-th eligible curve of every configuration.
// `kept_points(curve)` is how many of its smallest batches stay in training (0 = the whole
// curve is held out).
template <typename Eligible, typename KeptPoints>
std::vector<Fold> CurveFolds(absl::Span<const Curve> curves, uint64_t seed, Eligible eligible,
                             KeptPoints kept_points) {
  std::map<Configuration, std::vector<int>> by_configuration;
  for (int i = 0; i < static_cast<int>(curves.size()); ++i) {
    if (eligible(i)) by_configuration[curves[i].configuration].push_back(i);
  }
  std::vector<int> fold_of(curves.size(), -1);
  int fold_count = 0;
  uint64_t configuration_seed = seed;
  for (auto& [configuration, members] : by_configuration) {
    SeededShuffle(members, configuration_seed++);
    for (size_t k = 0; k < members.size(); ++k) fold_of[members[k]] = static_cast<int>(k);
    fold_count = std::max(fold_count, static_cast<int>(members.size()));
  }
  std::vector<Fold> folds(fold_count);
  for (int k = 0; k < fold_count; ++k) {
    for (int i = 0; i < static_cast<int>(curves.size()); ++i) {
      if (fold_of[i] != k) {
        folds[k].training.push_back(curves[i]);
        continue;
      }
      const size_t kept = kept_points(curves[i]);
      if (kept > 0) {
        Curve truncated = curves[i];
        truncated.points.resize(kept);
        folds[k].training.push_back(std::move(truncated));
      }
      AddPoints(curves[i], kept, folds[k].held_out);
    }
  }
  return folds;
}

template <typename Key>
std::vector<Fold> GroupFolds(absl::Span<const Curve> curves, Key key) {
  std::set<decltype(key(curves[0]))> groups;
  for (const Curve& curve : curves) groups.insert(key(curve));
  std::vector<Fold> folds;
  for (const auto& group : groups) {
    Fold fold;
    for (const Curve& curve : curves) {
      if (key(curve) == group) {
        AddPoints(curve, 0, fold.held_out);
      } else {
        fold.training.push_back(curve);
      }
    }
    folds.push_back(std::move(fold));
  }
  return folds;
}

// new-campaign: one fold per held-out campaign; its seeded first ShotCurveCount curves train.
std::vector<Fold> CampaignFolds(absl::Span<const Curve> curves, uint64_t seed, double shots) {
  std::vector<Fold> folds;
  for (const std::string& campaign : HeldOutCampaigns(curves)) {
    std::vector<int> members;
    for (int i = 0; i < static_cast<int>(curves.size()); ++i) {
      if (curves[i].configuration.campaign == campaign) members.push_back(i);
    }
    // Seeded by the campaign's name, not its position, so that adding a campaign to the data does
    // not change which curves another campaign gives as shots.
    SeededShuffle(members, seed ^ Fnv1a64(campaign));
    const int shot_count = ShotCurveCount(shots, static_cast<int>(members.size()));
    std::vector<bool> is_shot(curves.size(), false);
    for (int k = 0; k < shot_count; ++k) is_shot[members[k]] = true;
    Fold fold;
    fold.campaign = campaign;
    fold.shots = shots;
    fold.shot_curves = shot_count;
    std::vector<int> place_in_training(curves.size(), -1);
    for (int i = 0; i < static_cast<int>(curves.size()); ++i) {
      if (curves[i].configuration.campaign != campaign || is_shot[i]) {
        place_in_training[i] = static_cast<int>(fold.training.size());
        fold.training.push_back(curves[i]);
      } else {
        AddPoints(curves[i], 0, fold.held_out);
      }
    }
    for (int k = 0; k < shot_count; ++k) fold.shots_drawn.push_back(place_in_training[members[k]]);
    folds.push_back(std::move(fold));
  }
  return folds;
}

}  // namespace

std::vector<std::string> HeldOutCampaigns(absl::Span<const Curve> curves) {
  std::map<std::string, int> curves_of;
  for (const Curve& curve : curves) ++curves_of[curve.configuration.campaign];
  std::vector<std::string> held_out;
  if (curves_of.size() < 2) return held_out;
  for (const auto& [campaign, count] : curves_of) {
    if (count >= kMinCurvesOfHeldOutCampaign) held_out.push_back(campaign);
  }
  return held_out;
}

absl::Status CheckNewCampaignApplies(absl::Span<const Curve> curves) {
  std::map<std::string, int> curves_of;
  for (const Curve& curve : curves) ++curves_of[curve.configuration.campaign];
  if (curves_of.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "new-campaign needs data of 2 campaigns or more (the CSV column `source`), to train on "
        "the others while one is held out; the data hold ",
        curves_of.empty() ? std::string("none")
                          : absl::StrCat("only '", curves_of.begin()->first, "'")));
  }
  if (HeldOutCampaigns(curves).empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("new-campaign holds out a campaign of ", kMinCurvesOfHeldOutCampaign,
                     " curves or more; every campaign of the data has fewer"));
  }
  return absl::OkStatus();
}

int ShotCurveCount(double shots, int curve_count) {
  if (!(shots > 0)) return 0;
  // The small epsilon keeps 0.3 x 10 at 3 despite binary rounding.
  const int count = static_cast<int>(std::floor(shots * curve_count + 1e-9));
  return std::clamp(count, 1, std::max(curve_count - 1, 1));
}

absl::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kNewShape:
      return "new-shape";
    case Protocol::kLargerBatch:
      return "larger-batch";
    case Protocol::kNewConfig:
      return "new-config";
    case Protocol::kNewHardware:
      return "new-hardware";
    case Protocol::kNewCampaign:
      return "new-campaign";
  }
  return "unknown";
}

absl::StatusOr<Protocol> ParseProtocol(absl::string_view name) {
  for (Protocol p : kAllProtocols) {
    if (ProtocolName(p) == name) return p;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("protocol '", name,
                   "': expected new-shape, larger-batch, new-config, new-hardware, new-campaign "
                   "or all"));
}

std::vector<Fold> MakeFolds(Protocol protocol, absl::Span<const Curve> curves, uint64_t seed,
                            double shots, const Catalogue* catalogue) {
  if (curves.empty()) return {};
  switch (protocol) {
    case Protocol::kNewShape: {
      std::map<Configuration, int> usable_curves;
      for (const Curve& curve : curves) {
        if (curve.points.size() >= 3) ++usable_curves[curve.configuration];
      }
      return CurveFolds(
          curves, seed,
          [&](int i) {
            return curves[i].points.size() >= 3 && usable_curves[curves[i].configuration] >= 2;
          },
          [](const Curve&) { return size_t{0}; });
    }
    case Protocol::kLargerBatch:
      return CurveFolds(
          curves, seed, [&](int i) { return curves[i].points.size() >= 5; },
          [](const Curve& curve) { return (curve.points.size() + 1) / 2; });
    case Protocol::kNewConfig:
      return GroupFolds(curves, [](const Curve& curve) { return curve.configuration; });
    case Protocol::kNewHardware:
      return GroupFolds(curves, [catalogue](const Curve& curve) {
        return HardwareTypeOf(curve.configuration.hardware, catalogue);
      });
    case Protocol::kNewCampaign:
      return CampaignFolds(curves, seed, shots);
  }
  return {};
}

}  // namespace perfcast
