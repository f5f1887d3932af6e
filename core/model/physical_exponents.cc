#include "core/model/physical_exponents.h"

#include "absl/status/status.h"
#include "core/util/status_macros.h"

namespace perfcast {

AnchorKind AnchorKindOf(const Configuration& query, const Configuration& anchor,
                        const CatalogueTransfer& transfer) {
  if (anchor.hardware == query.hardware) return AnchorKind::kSameHardware;
  return transfer.same_software_stack ? AnchorKind::kSameStack : AnchorKind::kOtherStack;
}

double PhysicalExponents::For(AnchorKind kind) const {
  switch (kind) {
    case AnchorKind::kSameHardware:
      return same_hardware;
    case AnchorKind::kSameStack:
      return same_stack;
    case AnchorKind::kOtherStack:
      break;
  }
  return other_stack;
}

double PhysicalExponents::LogScale(AnchorKind kind, const CatalogueTransfer& transfer) const {
  if (!shape.has_value()) return For(kind) * transfer.decode_log_ratio;
  return For(kind) * transfer.physical_log_ratio + *shape * transfer.shape_log_ratio;
}

void PhysicalExponents::EncodeTo(ByteWriter& writer) const {
  writer.PutDouble(same_hardware);
  writer.PutDouble(same_stack);
  writer.PutDouble(other_stack);
}

void PhysicalExponents::EncodeShapeTo(ByteWriter& writer) const {
  writer.PutU32(shape.has_value() ? 1 : 0);
  if (shape.has_value()) writer.PutDouble(*shape);
}

absl::StatusOr<PhysicalExponents> PhysicalExponents::DecodeFrom(ByteReader& reader) {
  PhysicalExponents exponents;
  for (double* exponent :
       {&exponents.same_hardware, &exponents.same_stack, &exponents.other_stack}) {
    PERFCAST_ASSIGN_OR_RETURN(const double value, reader.GetDouble());
    if (!(value >= 0 && value <= 1)) {
      return absl::DataLossError("bundle: a physical exponent is outside [0, 1]");
    }
    *exponent = value;
  }
  return exponents;
}

absl::Status PhysicalExponents::DecodeShapeFrom(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t present, reader.GetU32());
  if (present > 1) return absl::DataLossError("bundle: a bad shape exponent marker");
  if (present == 0) {
    shape.reset();
    return absl::OkStatus();
  }
  PERFCAST_ASSIGN_OR_RETURN(const double value, reader.GetDouble());
  if (!(value >= 0 && value <= 1)) {
    return absl::DataLossError("bundle: a physical exponent is outside [0, 1]");
  }
  shape = value;
  return absl::OkStatus();
}

}  // namespace perfcast
