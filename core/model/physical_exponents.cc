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

void PhysicalExponents::EncodeTo(ByteWriter& writer) const {
  writer.PutDouble(same_hardware);
  writer.PutDouble(same_stack);
  writer.PutDouble(other_stack);
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

}  // namespace perfcast
