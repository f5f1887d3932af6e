#pragma once

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

// Powers of the datasheets' speed ratio that scale an anchor of another configuration (see
// RowBuilder::FitPhysicalExponents), one per AnchorKind. Each is in [0, 1]: a roofline ratio
// bounds a speed-up, it does not promise it.
struct PhysicalExponents {
  double same_hardware = 0;
  double same_stack = 0;
  double other_stack = 0;

  double For(AnchorKind kind) const;

  void EncodeTo(ByteWriter& writer) const;
  // DataLoss for an exponent outside [0, 1].
  static absl::StatusOr<PhysicalExponents> DecodeFrom(ByteReader& reader);
};

}  // namespace perfcast
