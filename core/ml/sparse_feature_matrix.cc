#include "core/ml/sparse_feature_matrix.h"

namespace perfcast {

SparseFeatureMatrix SparseFeatureMatrix::RowsAt(absl::Span<const int> rows) const {
  SparseFeatureMatrix out{column_count};
  size_t value_count = 0;
  for (int row : rows) value_count += row_starts[row + 1] - row_starts[row];
  // Sized once: the copy is as large as it will be from the start, with no growth to a second.
  out.row_starts.reserve(rows.size() + 1);
  out.columns.reserve(value_count);
  out.values.reserve(value_count);
  for (int row : rows) {
    const uint32_t begin = row_starts[row];
    const uint32_t end = row_starts[row + 1];
    out.columns.insert(out.columns.end(), columns.begin() + begin, columns.begin() + end);
    out.values.insert(out.values.end(), values.begin() + begin, values.begin() + end);
    out.row_starts.push_back(static_cast<uint32_t>(out.values.size()));
  }
  return out;
}

}  // namespace perfcast
