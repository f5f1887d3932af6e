#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// Facts about how a model was built, carried in its bundle.
struct ModelInfo {
  int64_t trained_at_unix_s = 0;
  double training_seconds = 0;
  int point_count = 0;
  int curve_count = 0;
  int configuration_count = 0;

  // Only the facts that the model's curves do not tell again: the curve and configuration counts
  // are left to the decoder's caller, which counts them on the curves it decodes.
  void EncodeTo(ByteWriter& writer) const;
  static absl::StatusOr<ModelInfo> DecodeFrom(ByteReader& reader);
};

}  // namespace perfcast
