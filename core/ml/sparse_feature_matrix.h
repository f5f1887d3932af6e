#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace perfcast {

// Row-major rows that keep only their present values (NaN marks a missing one): a value and its
// column index, 5 bytes, where a dense matrix spends 4 bytes on every column. Training rows are
// mostly unset one-hot columns, which this leaves out. The layout is CSR, which XGBoost reads as
// it is (it then makes its own copy), with no conversion of ours in between.
struct SparseFeatureMatrix {
  // Column indices are one byte.
  static constexpr int kMaxColumns = 256;

  int column_count = 0;
  // Row r's values are values[row_starts[r] .. row_starts[r + 1]).
  std::vector<uint32_t> row_starts = {0};
  std::vector<uint8_t> columns;
  std::vector<float> values;

  int row_count() const { return std::max(0, static_cast<int>(row_starts.size()) - 1); }
  // REQUIRES: row.size() == column_count <= kMaxColumns, and fewer than 2^32 values in all
  // (XGBoostTrainingSet::Create refuses a matrix that breaks either).
  void AddRow(absl::Span<const float> row) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (std::isnan(row[c])) continue;
      columns.push_back(static_cast<uint8_t>(c));
      values.push_back(row[c]);
    }
    row_starts.push_back(static_cast<uint32_t>(values.size()));
  }
  // The rows at `rows` (indices into this matrix, each in [0, row_count())), in that order.
  SparseFeatureMatrix RowsAt(absl::Span<const int> rows) const;
};

}  // namespace perfcast
