#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "core/data/curve.h"
#include "core/fit/anchor_curve.h"
#include "core/ml/sparse_feature_matrix.h"
#include "core/model/anchor_index.h"
#include "core/model/physical_exponents.h"
#include "core/model/workload_features.h"

namespace perfcast {

// Rows of "predict the curve at `batch` from `anchor`", target log(true / anchor), each labelled
// with the index of the curve whose throughput it targets.
//
// Thread safety: none; one builder per training. Holds a reference to `features`, which must
// outlive it and have at most kMaxFeatureColumns columns (PerfcastModel::Train checks).
class RowBuilder {
 public:
  explicit RowBuilder(const TransferFeatures& features);

  // One row per point of `target` from `first_point` on at which `anchor` has a finite, positive
  // throughput.
  void AddCurve(const Curve& target, int target_index, const AnchorCurve& anchor, bool same_curve,
                size_t first_point);

  // The exponent k of the roofline's step between shapes, (query roofline / the roofline at the
  // anchor's shape)^k, from the anchors of the target's own configuration; then, for anchors on
  // the target's own hardware, on other hardware of its software stack and on another stack
  // apart, the exponent of the decode ceilings' ratio between the configurations. Each is the
  // least-squares fit through the origin on log values, kept in [0, 1] (a roofline ratio bounds
  // a speed-up, it does not promise it), and 0 where there are no ratios. The scaling is then
  // taken out of the targets, so that the trees learn what the datasheets do not explain. Call
  // once, after the last AddCurve.
  PhysicalExponents FitPhysicalExponents();

  // The rows, handed over once they are complete (the caller trains on them and frees them);
  // the builder is left with none.
  SparseFeatureMatrix TakeMatrix() {
    return std::exchange(matrix_, SparseFeatureMatrix{matrix_.column_count});
  }
  const std::vector<float>& targets() const { return targets_; }
  const std::vector<int>& target_curves() const { return target_curves_; }

 private:
  const TransferFeatures& features_;
  std::vector<float> row_;
  SparseFeatureMatrix matrix_;
  std::vector<float> targets_;
  std::vector<int> target_curves_;
  std::vector<CatalogueTransfer> transfers_;
  std::vector<AnchorKind> anchor_kinds_;
  std::vector<bool> same_configuration_;
};

// Where a curve splits into the measured smaller half and the larger batches predicted from it,
// in the larger-batch situations of training and calibration alike: `point_count` (no split)
// for curves of fewer than 4 points.
size_t LargerBatchSplit(size_t point_count);

// The first `keep` points of `anchor`'s curve, fitted again, with its roofline: what the curve's
// larger batches are predicted from. REQUIRES: 0 < keep <= the curve's point count.
AnchorCurve Truncated(const AnchorCurve& anchor, size_t keep);

// Every situation a query can be in, simulated on the training curves: another curve of the same
// configuration, the curve's own smaller batches, and curves of other configurations.
void AddTrainingRows(const AnchorIndex& index, RowBuilder& rows);

}  // namespace perfcast
