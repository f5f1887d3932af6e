#include "core/ml/xgboost_training_set.h"

#include <xgboost/c_api.h>

#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/ml/xgboost_error.h"

namespace perfcast {
namespace {

float MeanOf(absl::Span<const float> targets) {
  return std::accumulate(targets.begin(), targets.end(), 0.0) / static_cast<double>(targets.size());
}

}  // namespace

void XGBoostTrainingSet::MatrixDeleter::operator()(void* handle) const { XGDMatrixFree(handle); }

absl::StatusOr<XGBoostTrainingSet> XGBoostTrainingSet::Create(const FeatureMatrix& features,
                                                              absl::Span<const float> targets) {
  const int rows = features.row_count();
  if (rows == 0 || static_cast<size_t>(rows) != targets.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("xgboost train: ", rows, " rows but ", targets.size(), " targets"));
  }
  DMatrixHandle handle = nullptr;
  if (XGDMatrixCreateFromMat(features.values.data(), rows, features.column_count,
                             std::numeric_limits<float>::quiet_NaN(), &handle) != 0) {
    return XGBoostError("dmatrix");
  }
  MatrixPtr matrix(handle);
  if (XGDMatrixSetFloatInfo(handle, "label", targets.data(), rows) != 0) {
    return XGBoostError("label");
  }
  return XGBoostTrainingSet(std::move(matrix), rows, features.column_count, MeanOf(targets));
}

absl::StatusOr<XGBoostTrainingSet> XGBoostTrainingSet::Subset(absl::Span<const int> rows) const {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= row_count_) {
      return absl::InvalidArgumentError(
          absl::StrCat("rows[", i, "]=", rows[i], ": out of [0, ", row_count_, ")"));
    }
  }
  if (rows.empty()) return absl::InvalidArgumentError("xgboost subset: no rows");
  DMatrixHandle handle = nullptr;
  if (XGDMatrixSliceDMatrix(matrix_.get(), rows.data(), rows.size(), &handle) != 0) {
    return XGBoostError("slice");
  }
  MatrixPtr matrix(handle);
  bst_ulong length = 0;
  const float* labels = nullptr;
  if (XGDMatrixGetFloatInfo(handle, "label", &length, &labels) != 0) {
    return XGBoostError("label");
  }
  if (length != rows.size()) {
    return absl::InternalError(
        absl::StrCat("xgboost slice: ", length, " labels for ", rows.size(), " rows"));
  }
  return XGBoostTrainingSet(std::move(matrix), static_cast<int>(rows.size()), column_count_,
                            MeanOf(absl::MakeConstSpan(labels, length)));
}

}  // namespace perfcast
