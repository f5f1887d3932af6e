#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/data/curve.h"

namespace perfcast {

// The held-out experiments of docs/EVALUATION.md §2.
enum class Protocol { kNewShape, kLargerBatch, kNewConfig, kNewHardware };

absl::string_view ProtocolName(Protocol protocol);
absl::StatusOr<Protocol> ParseProtocol(absl::string_view name);

struct HeldOutPoint {
  Configuration configuration;
  Shape shape;
  int batch_size = 0;
  double throughput_tokens_per_s = 0;
};

// One training run: what a method may learn from, and the points it must then predict. No
// point in `held_out` is in `training`.
struct Fold {
  std::vector<Curve> training;
  std::vector<HeldOutPoint> held_out;
};

// The folds of a protocol over `curves` (from GroupIntoCurves).
//
// new-config and new-hardware hold out each configuration / hardware type in turn. new-shape and
// larger-batch hold out each eligible curve (whole, or its larger half) in turn, and to keep the
// run short they do so for every configuration at once: fold k holds out the k-th eligible curve
// of each configuration, in a seeded random order. A per-configuration method sees exactly the
// data it would with one curve held out; a method that learns across configurations sees less
// (the k-th curves of the other configurations are missing too), which can only make its figures
// worse.
std::vector<Fold> MakeFolds(Protocol protocol, absl::Span<const Curve> curves, uint64_t seed);

}  // namespace perfcast
