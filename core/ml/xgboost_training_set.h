#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/ml/feature_matrix.h"
#include "core/ml/sparse_feature_matrix.h"

namespace perfcast {

// Training rows and their targets held in XGBoost's own matrix (a sparse copy that skips missing
// values), from which models train.
//
// Move-only: the matrix is XGBoost's, and training on it (through a const reference) caches its
// histogram index there. Thread safety: none; one set serves one training at a time.
class XGBoostTrainingSet {
 public:
  // InvalidArgument when there are no rows or the targets do not match them.
  static absl::StatusOr<XGBoostTrainingSet> Create(const FeatureMatrix& features,
                                                   absl::Span<const float> targets);
  // The same set from rows that keep only their present values: the same matrix, the same
  // models, without a dense copy of the rows at any time.
  static absl::StatusOr<XGBoostTrainingSet> Create(const SparseFeatureMatrix& features,
                                                   absl::Span<const float> targets);

  int row_count() const { return row_count_; }
  int column_count() const { return column_count_; }
  // What the models start from: the mean target, accumulated in double as floats in row order.
  float mean_target() const { return mean_target_; }
  // XGBoost's DMatrixHandle.
  void* handle() const { return matrix_.get(); }

 private:
  struct MatrixDeleter {
    void operator()(void* handle) const;
  };
  using MatrixPtr = std::unique_ptr<void, MatrixDeleter>;

  // `matrix` (one row per target) with `targets` as its labels.
  static absl::StatusOr<XGBoostTrainingSet> WithLabels(MatrixPtr matrix,
                                                       absl::Span<const float> targets,
                                                       int column_count);

  XGBoostTrainingSet(MatrixPtr matrix, int row_count, int column_count, float mean_target)
      : matrix_(std::move(matrix)),
        row_count_(row_count),
        column_count_(column_count),
        mean_target_(mean_target) {}

  MatrixPtr matrix_;
  int row_count_ = 0;
  int column_count_ = 0;
  float mean_target_ = 0;
};

}  // namespace perfcast
