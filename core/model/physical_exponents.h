#pragma once

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"
#include "core/fit/anchor_curve.h"
#include "core/model/workload_features.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// Where an anchor's hardware stands to the query's: how well datasheets predict a speed-up
// differs between them. Other hardware brings other kernels; another software stack (CUDA, ROCm,
// ...) brings another compiler, libraries and framework maturity, which on the public data moves
// throughput by 2-8x against the datasheets' ratio (an MI300X runs vLLM at about 0.6x an H100
// whose bandwidth is 0.63x its own).
enum class AnchorKind { kSameHardware = 0, kSameStack = 1, kOtherStack = 2 };

AnchorKind AnchorKindOf(const Configuration& query, const Configuration& anchor,
                        const CatalogueTransfer& transfer);

// How the datasheets enter a prediction (see RowBuilder::FitPhysicalExponents): powers of the
// speed ratio between an anchor's configuration and the query's, one per AnchorKind, and of the
// roofline's step from the anchor's shape to the query's, each in [0, 1] (a roofline ratio bounds
// a speed-up, it does not promise it); and the most of its roofline a prediction may claim.
struct PhysicalExponents {
  double same_hardware = 0;
  double same_stack = 0;
  double other_stack = 0;
  // Absent in a bundle of format 17 or older, whose exponents scale the decode ratio across
  // shape and configuration together (CatalogueTransfer::decode_log_ratio), as it was trained.
  std::optional<double> shape;
  // Throughput over the KV-capped roofline that a prediction from anchors of other
  // configurations may not pass: a high quantile of what the training data measured against their
  // own rooflines (EfficiencyCeilingOf). Absent in a bundle of format 17 or older and in a model
  // without a catalogue.
  std::optional<double> efficiency_ceiling;

  double For(AnchorKind kind) const;
  // What the datasheets add to the log of an anchor's throughput.
  double LogScale(AnchorKind kind, const CatalogueTransfer& transfer) const;
  // `log_throughput` held at the efficiency ceiling of the query's roofline, where both are known.
  double Ceiled(double log_throughput, const CatalogueTransfer& transfer) const;

  // The kinds' exponents; the shape's and the ceiling follow the bundle's last section (format 18
  // on).
  void EncodeTo(ByteWriter& writer) const;
  void EncodeShapeAndCeilingTo(ByteWriter& writer) const;
  // DataLoss for an exponent outside [0, 1] or a ceiling that is not finite and positive.
  static absl::StatusOr<PhysicalExponents> DecodeFrom(ByteReader& reader);
  absl::Status DecodeShapeAndCeilingFrom(ByteReader& reader);
};

// The `quantile` (nearest rank) of the measured throughputs of `anchors` over their
// configurations' KV-capped rooflines at their shapes and batch sizes; absent without a catalogue
// or with fewer than kMinEfficiencyPoints points whose roofline is known, where the 99th
// percentile would be the largest.
inline constexpr int kMinEfficiencyPoints = 100;
// A high quantile rather than the largest: a point far above its roofline is more likely a
// catalogue figure that is off (a KV cache of fewer bytes than the precision says) than a system
// faster than its datasheets, and one such point would lift the ceiling for every query.
inline constexpr double kEfficiencyCeilingQuantile = 0.99;
std::optional<double> EfficiencyCeilingOf(const Catalogue* catalogue,
                                          absl::Span<const AnchorCurve> anchors, double quantile);

}  // namespace perfcast
