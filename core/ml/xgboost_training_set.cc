#include "core/ml/xgboost_training_set.h"

#include <xgboost/c_api.h>

#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/ml/xgboost_error.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

float MeanOf(absl::Span<const float> targets) {
  return std::accumulate(targets.begin(), targets.end(), 0.0) / static_cast<double>(targets.size());
}

// NumPy's type string of T as XGBoost's array interface reads it (little-endian, as on every
// platform we build for).
template <typename T>
constexpr absl::string_view TypeString() {
  if constexpr (std::is_same_v<T, float>) {
    return "<f4";
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    return "<u4";
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    return "|u1";
  } else {
    return "";
  }
}

// NumPy's array interface for a one-dimensional array in place, as XGBoost's CSR input reads it.
template <typename T>
std::string ArrayInterface(const std::vector<T>& values) {
  static_assert(!TypeString<T>().empty());
  return absl::StrCat(R"({"data": [)", reinterpret_cast<uintptr_t>(values.data()),
                      R"(, true], "shape": [)", values.size(), R"(], "typestr": ")",
                      TypeString<T>(), R"(", "version": 3})");
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

absl::StatusOr<XGBoostTrainingSet> XGBoostTrainingSet::WithLabels(MatrixPtr matrix,
                                                                  absl::Span<const float> targets,
                                                                  int column_count) {
  if (XGDMatrixSetFloatInfo(matrix.get(), "label", targets.data(), targets.size()) != 0) {
    return XGBoostError("label");
  }
  return XGBoostTrainingSet(std::move(matrix), static_cast<int>(targets.size()), column_count,
                            MeanOf(targets));
}

absl::StatusOr<XGBoostTrainingSet> XGBoostTrainingSet::Create(const FeatureMatrix& features,
                                                              absl::Span<const float> targets) {
  const int rows = features.row_count();
  PERFCAST_RETURN_IF_ERROR(CheckShape(rows, targets.size()));
  DMatrixHandle handle = nullptr;
  if (XGDMatrixCreateFromMat(features.values.data(), rows, features.column_count,
                             std::numeric_limits<float>::quiet_NaN(), &handle) != 0) {
    return XGBoostError("dmatrix");
  }
  return WithLabels(MatrixPtr(handle), targets, features.column_count);
}

absl::StatusOr<XGBoostTrainingSet> XGBoostTrainingSet::Create(const SparseFeatureMatrix& features,
                                                              absl::Span<const float> targets) {
  const int rows = features.row_count();
  PERFCAST_RETURN_IF_ERROR(CheckShape(rows, targets.size()));
  if (features.column_count > SparseFeatureMatrix::kMaxColumns ||
      features.values.size() > std::numeric_limits<uint32_t>::max() ||
      features.columns.size() != features.values.size() ||
      features.row_starts.back() != features.values.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "xgboost csr: ", features.column_count, " columns (at most ",
        SparseFeatureMatrix::kMaxColumns, "), ", features.values.size(), " values, ",
        features.columns.size(), " column indices, rows ending at ", features.row_starts.back()));
  }
  DMatrixHandle handle = nullptr;
  if (XGDMatrixCreateFromCSR(
          ArrayInterface(features.row_starts).c_str(), ArrayInterface(features.columns).c_str(),
          ArrayInterface(features.values).c_str(), static_cast<bst_ulong>(features.column_count),
          R"({"missing": NaN, "nthread": 1})", &handle) != 0) {
    return XGBoostError("csr dmatrix");
  }
  MatrixPtr matrix(handle);
  bst_ulong columns = 0;
  if (XGDMatrixNumCol(handle, &columns) != 0) return XGBoostError("num_col");
  if (columns != static_cast<bst_ulong>(features.column_count)) {
    return absl::InternalError(
        absl::StrCat("xgboost csr: ", columns, " columns, not ", features.column_count));
  }
  return WithLabels(std::move(matrix), targets, features.column_count);
}

}  // namespace perfcast
