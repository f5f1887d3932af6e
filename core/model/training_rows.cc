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
    physical_log_ratios_.push_back(transfer.physical_log_ratio);
    anchor_kinds_.push_back(
        AnchorKindOf(target.configuration, anchor.curve().configuration, transfer));
  }
}

PhysicalExponents RowBuilder::FitPhysicalExponents() {
  double cross[3] = {0, 0, 0}, square[3] = {0, 0, 0};
  for (size_t row = 0; row < targets_.size(); ++row) {
    const int kind = static_cast<int>(anchor_kinds_[row]);
    cross[kind] += physical_log_ratios_[row] * targets_[row];
    square[kind] += physical_log_ratios_[row] * physical_log_ratios_[row];
  }
  auto fit = [&](AnchorKind kind) {
    const int k = static_cast<int>(kind);
    return square[k] > 0 ? std::clamp(cross[k] / square[k], 0.0, 1.0) : 0.0;
  };
  const PhysicalExponents exponents{.same_hardware = fit(AnchorKind::kSameHardware),
                                    .same_stack = fit(AnchorKind::kSameStack),
                                    .other_stack = fit(AnchorKind::kOtherStack)};
  for (size_t row = 0; row < targets_.size(); ++row) {
    targets_[row] -=
        static_cast<float>(exponents.For(anchor_kinds_[row]) * physical_log_ratios_[row]);
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
