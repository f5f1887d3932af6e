#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/curve.h"

namespace perfcast {

// The held-out experiments of docs/EVALUATION.md §2.
enum class Protocol { kNewShape, kLargerBatch, kNewConfig, kNewHardware, kNewCampaign };
inline constexpr Protocol kAllProtocols[] = {Protocol::kNewShape, Protocol::kLargerBatch,
                                             Protocol::kNewConfig, Protocol::kNewHardware,
                                             Protocol::kNewCampaign};

absl::string_view ProtocolName(Protocol protocol);
absl::StatusOr<Protocol> ParseProtocol(absl::string_view name);

struct HeldOutPoint {
  Configuration configuration;
  Shape shape;
  int batch_size = 0;
  double throughput_tokens_per_s = 0;
  // The measured mean TTFT and ITL, where the data have them (CurvePoint).
  std::optional<double> ttft_s;
  std::optional<double> itl_s;
  // Their 99th percentiles, likewise.
  std::optional<double> p99_ttft_s;
  std::optional<double> p99_tpot_s;
};

// One training run: what a method may learn from, and the points it must then predict. No
// point in `held_out` is in `training`.
struct Fold {
  std::vector<Curve> training;
  std::vector<HeldOutPoint> held_out;
  // new-campaign only: the campaign held out, and the share of its curves given in training
  // (`shot_curves` of them). nullopt for the other protocols.
  std::optional<std::string> campaign;
  std::optional<double> shots;
  int shot_curves = 0;
  // The shot curves as indices into `training`, in the order drawn: a smaller share draws the
  // first of the same curves.
  std::vector<int> shots_drawn;
};

// new-campaign holds out a campaign only when it has at least this many curves: with --shots, one
// curve or more goes to training and one or more stays to be predicted (docs/EVALUATION.md §2).
inline constexpr int kMinCurvesOfHeldOutCampaign = 2;

// The campaigns new-campaign holds out, in name order: those with kMinCurvesOfHeldOutCampaign
// curves or more, when the data hold at least one other campaign to train on.
std::vector<std::string> HeldOutCampaigns(absl::Span<const Curve> curves);

// OK when new-campaign has a campaign to hold out; otherwise FAILED_PRECONDITION saying why (one
// campaign only, or none with enough curves).
absl::Status CheckNewCampaignApplies(absl::Span<const Curve> curves);

// How many of a held-out campaign's `curve_count` curves `shots` puts in training:
// floor(shots x curve_count), at least 1 when shots > 0 and at most curve_count - 1, so that one
// curve is always left to predict. REQUIRES: 0 <= shots < 1, curve_count >= 2.
int ShotCurveCount(double shots, int curve_count);

// The folds of a protocol over `curves` (from GroupIntoCurves).
//
// new-config and new-hardware hold out each configuration / hardware type in turn. A hardware
// type is what HardwareTypeOf makes of the name with `catalogue` (which may be null): two
// campaigns' spellings of one GPU are held out together, since the model reads either as the
// GPU the other names, and holding out one would not leave the GPU unseen. new-shape and
// larger-batch hold out each eligible curve (whole, or its larger half) in turn, and to keep the
// run short they do so for every configuration at once: fold k holds out the k-th eligible curve
// of each configuration, in a seeded random order. A per-configuration method sees exactly the
// data it would with one curve held out; a method that learns across configurations sees less
// (the k-th curves of the other configurations are missing too), which can only make its figures
// worse.
//
// new-campaign holds out each campaign of HeldOutCampaigns in turn, every curve of it; with
// `shots` > 0 its first ShotCurveCount curves, in a seeded order per campaign that does not depend
// on `shots` (so the shot curves of 0.1 are among those of 0.3), go to training whole and the rest
// are predicted. `shots` is ignored by the other protocols. REQUIRES: 0 <= shots < 1.
std::vector<Fold> MakeFolds(Protocol protocol, absl::Span<const Curve> curves, uint64_t seed,
                            double shots = 0, const Catalogue* catalogue = nullptr);

}  // namespace perfcast
