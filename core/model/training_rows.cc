#include "core/model/training_rows.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/types/span.h"
#include "core/model/anchored_prediction.h"

namespace perfcast {

static_assert(kMaxFeatureColumns <= SparseFeatureMatrix::kMaxColumns);

RowBuilder::RowBuilder(const TransferFeatures& features)
    : features_(features), row_(features.column_count()) {
  matrix_.column_count = features.column_count();
}

void RowBuilder::AddCurve(const Curve& target, int target_index, const AnchorCurve& anchor,
                          bool same_curve, size_t first_point) {
  for (size_t p = first_point; p < target.points.size(); ++p) {
    const CurvePoint& point = target.points[p];
    const double anchor_value = anchor.ThroughputAt(point.batch_size);
    if (!(anchor_value > 0) || !std::isfinite(anchor_value)) continue;
    const CatalogueTransfer transfer =
        features_.Compute(target.configuration, target.shape, anchor, same_curve, point.batch_size,
                          absl::MakeSpan(row_));
    matrix_.AddRow(row_);
    targets_.push_back(std::log(point.throughput_tokens_per_s / anchor_value));
    target_curves_.push_back(target_index);
    transfers_.push_back(transfer);
    anchor_kinds_.push_back(
        AnchorKindOf(target.configuration, anchor.curve().configuration, transfer));
    same_configuration_.push_back(target.configuration == anchor.curve().configuration);
  }
}

namespace {

// The least-squares k of `target ~ k * ratio` through the origin, kept in [0, 1].
class ThroughOrigin {
 public:
  void Add(double ratio, double target) {
    cross_ += ratio * target;
    square_ += ratio * ratio;
  }
  double Exponent() const { return square_ > 0 ? std::clamp(cross_ / square_, 0.0, 1.0) : 0.0; }

 private:
  double cross_ = 0;
  double square_ = 0;
};

}  // namespace

PhysicalExponents RowBuilder::FitPhysicalExponents() {
  // Within a configuration the step between configurations is nil, so its rows tell the shape's
  // exponent alone.
  ThroughOrigin shape;
  for (size_t row = 0; row < targets_.size(); ++row) {
    if (same_configuration_[row]) shape.Add(transfers_[row].shape_log_ratio, targets_[row]);
  }
  PhysicalExponents exponents{.shape = shape.Exponent()};
  ThroughOrigin kinds[3];
  for (size_t row = 0; row < targets_.size(); ++row) {
    const CatalogueTransfer& transfer = transfers_[row];
    kinds[static_cast<int>(anchor_kinds_[row])].Add(
        transfer.physical_log_ratio, targets_[row] - *exponents.shape * transfer.shape_log_ratio);
  }
  exponents.same_hardware = kinds[static_cast<int>(AnchorKind::kSameHardware)].Exponent();
  exponents.same_stack = kinds[static_cast<int>(AnchorKind::kSameStack)].Exponent();
  exponents.other_stack = kinds[static_cast<int>(AnchorKind::kOtherStack)].Exponent();
  for (size_t row = 0; row < targets_.size(); ++row) {
    targets_[row] -= static_cast<float>(exponents.LogScale(anchor_kinds_[row], transfers_[row]));
  }
  return exponents;
}

size_t LargerBatchSplit(size_t point_count) {
  return point_count >= 4 ? (point_count + 1) / 2 : point_count;
}

AnchorCurve Truncated(const AnchorCurve& anchor, size_t keep) {
  const Curve& curve = anchor.curve();
  Curve kept{curve.configuration, curve.shape, {}};
  kept.points.assign(curve.points.begin(), curve.points.begin() + keep);
  AnchorCurve out(std::move(kept));
  out.AttachRoofline(anchor.roofline());
  return out;
}

void AddTrainingRows(const AnchorIndex& index, RowBuilder& rows) {
  const auto& anchors = index.anchors();
  for (size_t i = 0; i < anchors.size(); ++i) {
    const Curve& curve = anchors[i].curve();
    const int target = static_cast<int>(i);
    for (const AnchorChoice& choice :
         index.SameConfiguration(curve.configuration, curve.shape, kSiblingsForNewShape)) {
      rows.AddCurve(curve, target, anchors[choice.anchor_index], false, 0);
    }
    const size_t n = curve.points.size();
    if (const size_t half = LargerBatchSplit(n); half < n) {
      for (size_t keep : {half, n - 1}) {
        if (keep == n - 1 && keep == half) continue;
        rows.AddCurve(curve, target, Truncated(anchors[i], keep), true, keep);
      }
    }
    // Besides the most similar configurations: the most similar on other hardware, and in other
    // campaigns (what a query about a campaign the data lack starts from).
    constexpr std::pair<int, ConfigurationField> kOtherSets[] = {
        {kOtherConfigurations, ConfigurationField::kNone},
        {kOtherHardware, ConfigurationField::kHardware},
        {kOtherCampaigns, ConfigurationField::kCampaign}};
    for (const auto& [count, must_differ] : kOtherSets) {
      for (const AnchorChoice& choice :
           index.OtherConfigurations(curve.configuration, curve.shape, count, must_differ)) {
        rows.AddCurve(curve, target, anchors[choice.anchor_index], false, 0);
      }
    }
  }
}

}  // namespace perfcast
