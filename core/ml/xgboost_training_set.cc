#include "core/ml/xgboost_training_set.h"

#include <xgboost/c_api.h>

#include <cstdint>
#include <limits>
#include <numeric>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/ml/xgboost_error.h"

namespace perfcast {
namespace {

float MeanOf(absl::Span<const float> targets) {
  return std::accumulate(targets.begin(), targets.end(), 0.0) / static_cast<double>(targets.size());
}

// NumPy's array interface for a one-dimensional array in place, as XGBoost's CSR input reads it.
template <typename T>
std::string ArrayInterface(const std::vector<T>& values, absl::string_view typestr) {
  return absl::StrCat(R"({"data": [)", reinterpret_cast<uintptr_t>(values.data()),
                      R"(, true], "shape": [)", values.size(), R"(], "typestr": ")", typestr,
                      R"(", "version": 3})");
}

absl::Status CheckShape(int rows, size_t targets) {
  if (rows == 0 || static_cast<size_t>(rows) != targets) {
    return absl::InvalidArgumentError(
        absl::StrCat("xgboost train: ", rows, " rows but ", targets, " targets"));
  }
  return absl::OkStatus();
}

}  // namespace

void XGBoostTrainingSet::MatrixDeleter::operator()(void* handle) const { XGDMatrixFree(handle); }

absl::StatusOr<XGBoostTrainingSet> XGBoostTrainingSet::Create(const FeatureMatrix& features,
                                                              absl::Span<const float> targets) {
  const int rows = features.row_count();
  if (absl::Status shape = CheckShape(rows, targets.size()); !shape.ok()) return shape;
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

absl::StatusOr<XGBoostTrainingSet> XGBoostTrainingSet::Create(const SparseFeatureMatrix& features,
                                                              absl::Span<const float> targets) {
  const int rows = features.row_count();
  if (absl::Status shape = CheckShape(rows, targets.size()); !shape.ok()) return shape;
  static_assert(sizeof(features.row_starts[0]) == 4 && sizeof(features.columns[0]) == 1 &&
                sizeof(features.values[0]) == 4);
  DMatrixHandle handle = nullptr;
  if (XGDMatrixCreateFromCSR(ArrayInterface(features.row_starts, "<u4").c_str(),
                             ArrayInterface(features.columns, "|u1").c_str(),
                             ArrayInterface(features.values, "<f4").c_str(),
                             static_cast<bst_ulong>(features.column_count),
                             R"({"missing": NaN, "nthread": 1})", &handle) != 0) {
    return XGBoostError("dmatrix");
  }
  MatrixPtr matrix(handle);
  bst_ulong columns = 0;
  if (XGDMatrixNumCol(handle, &columns) != 0) return XGBoostError("num_col");
  if (columns != static_cast<bst_ulong>(features.column_count)) {
    return absl::InternalError(
        absl::StrCat("xgboost csr: ", columns, " columns, not ", features.column_count));
  }
  if (XGDMatrixSetFloatInfo(handle, "label", targets.data(), rows) != 0) {
    return XGBoostError("label");
  }
  return XGBoostTrainingSet(std::move(matrix), rows, features.column_count, MeanOf(targets));
}

}  // namespace perfcast
