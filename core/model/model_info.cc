#include "core/model/model_info.h"

#include "core/util/status_macros.h"

namespace perfcast {

void ModelInfo::EncodeTo(ByteWriter& writer) const {
  writer.PutU64(static_cast<uint64_t>(trained_at_unix_s));
  writer.PutDouble(training_seconds);
  writer.PutI32(point_count);
}

absl::StatusOr<ModelInfo> ModelInfo::DecodeFrom(ByteReader& reader) {
  ModelInfo info;
  PERFCAST_ASSIGN_OR_RETURN(const uint64_t trained_at_unix_s, reader.GetU64());
  info.trained_at_unix_s = static_cast<int64_t>(trained_at_unix_s);
  PERFCAST_ASSIGN_OR_RETURN(info.training_seconds, reader.GetDouble());
  PERFCAST_ASSIGN_OR_RETURN(info.point_count, reader.GetI32());
  return info;
}

}  // namespace perfcast
