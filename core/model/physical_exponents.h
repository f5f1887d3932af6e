#pragma once

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/benchmark_record.h"
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

// Powers of the datasheets' ratios that scale an anchor (see RowBuilder::FitPhysicalExponents):
// of the speed ratio between an anchor's configuration and the query's, one per AnchorKind, and
// of the roofline's step from the anchor's shape to the query's. Each is in [0, 1]: a roofline
// ratio bounds a speed-up, it does not promise it.
struct PhysicalExponents {
  double same_hardware = 0;
  double same_stack = 0;
  double other_stack = 0;
  // Absent in a bundle of format 17 or older, whose exponents scale the decode ratio across
  // shape and configuration together (CatalogueTransfer::decode_log_ratio), as it was trained.
  std::optional<double> shape;

  double For(AnchorKind kind) const;
  // What the datasheets add to the log of an anchor's throughput.
  double LogScale(AnchorKind kind, const CatalogueTransfer& transfer) const;

  // The kinds' exponents; the shape's follows the bundle's last section (format 18 on).
  void EncodeTo(ByteWriter& writer) const;
  void EncodeShapeTo(ByteWriter& writer) const;
  // DataLoss for an exponent outside [0, 1].
  static absl::StatusOr<PhysicalExponents> DecodeFrom(ByteReader& reader);
  absl::Status DecodeShapeFrom(ByteReader& reader);
};

}  // namespace perfcast
