#include "core/model/physical_exponents.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/status/status.h"
#include "core/catalogue/physical_features.h"
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

double PhysicalExponents::Ceiled(double log_throughput, const CatalogueTransfer& transfer) const {
  if (!efficiency_ceiling.has_value() || !std::isfinite(transfer.query_log_roofline)) {
    return log_throughput;
  }
  return std::min(log_throughput, transfer.query_log_roofline + std::log(*efficiency_ceiling));
}

void PhysicalExponents::EncodeTo(ByteWriter& writer) const {
  writer.PutDouble(same_hardware);
  writer.PutDouble(same_stack);
  writer.PutDouble(other_stack);
}

void PhysicalExponents::EncodeShapeAndCeilingTo(ByteWriter& writer) const {
  for (const std::optional<double>& value : {shape, efficiency_ceiling}) {
    writer.PutU32(value.has_value() ? 1 : 0);
    if (value.has_value()) writer.PutDouble(*value);
  }
}

namespace {

// DataLoss for a decoded exponent outside [0, 1] (NaN included).
absl::Status CheckExponent(double value) {
  if (value >= 0 && value <= 1) return absl::OkStatus();
  return absl::DataLossError("bundle: a physical exponent is outside [0, 1]");
}

absl::StatusOr<std::optional<double>> GetOptionalDouble(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t present, reader.GetU32());
  if (present > 1) return absl::DataLossError("bundle: a bad marker of an optional value");
  if (present == 0) return std::optional<double>();
  PERFCAST_ASSIGN_OR_RETURN(const double value, reader.GetDouble());
  return std::optional<double>(value);
}

}  // namespace

absl::StatusOr<PhysicalExponents> PhysicalExponents::DecodeFrom(ByteReader& reader) {
  PhysicalExponents exponents;
  for (double* exponent :
       {&exponents.same_hardware, &exponents.same_stack, &exponents.other_stack}) {
    PERFCAST_ASSIGN_OR_RETURN(const double value, reader.GetDouble());
    PERFCAST_RETURN_IF_ERROR(CheckExponent(value));
    *exponent = value;
  }
  return exponents;
}

absl::Status PhysicalExponents::DecodeShapeAndCeilingFrom(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(const std::optional<double> decoded_shape, GetOptionalDouble(reader));
  if (decoded_shape.has_value()) PERFCAST_RETURN_IF_ERROR(CheckExponent(*decoded_shape));
  PERFCAST_ASSIGN_OR_RETURN(const std::optional<double> ceiling, GetOptionalDouble(reader));
  if (ceiling.has_value() && !(*ceiling > 0 && std::isfinite(*ceiling))) {
    return absl::DataLossError("bundle: an efficiency ceiling is not finite and positive");
  }
  shape = decoded_shape;
  efficiency_ceiling = ceiling;
  return absl::OkStatus();
}

std::optional<double> EfficiencyCeilingOf(const Catalogue* catalogue,
                                          absl::Span<const AnchorCurve> anchors, double quantile) {
  if (catalogue == nullptr) return std::nullopt;
  std::vector<double> efficiencies;
  for (const AnchorCurve& anchor : anchors) {
    const Curve& curve = anchor.curve();
    const std::optional<ResolvedConfiguration> resolved =
        catalogue->LookupConfiguration(curve.configuration);
    if (!resolved.has_value()) continue;
    for (const CurvePoint& point : curve.points) {
      const double roofline = KvCappedRoofline(*resolved, curve.shape, point.batch_size);
      if (roofline > 0 && std::isfinite(roofline)) {
        efficiencies.push_back(point.throughput_tokens_per_s / roofline);
      }
    }
  }
  if (efficiencies.size() < static_cast<size_t>(kMinEfficiencyPoints)) return std::nullopt;
  // The nearest rank: the smallest efficiency with at least `quantile` of them at or below it.
  const double rank = std::ceil(quantile * static_cast<double>(efficiencies.size()));
  const size_t k =
      std::clamp(static_cast<size_t>(std::max(rank, 1.0)) - 1, size_t{0}, efficiencies.size() - 1);
  std::nth_element(efficiencies.begin(), efficiencies.begin() + k, efficiencies.end());
  return efficiencies[k];
}

}  // namespace perfcast
