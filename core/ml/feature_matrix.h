#pragma once

#include <vector>

#include "absl/types/span.h"

namespace perfcast {

// Row-major dense float matrix, the layout XGBoost's C API reads; NaN marks a missing value.
struct FeatureMatrix {
  int column_count = 0;
  std::vector<float> values;

  int row_count() const {
    return column_count == 0 ? 0 : static_cast<int>(values.size()) / column_count;
  }
  void AddRow(absl::Span<const float> row) { values.insert(values.end(), row.begin(), row.end()); }
};

}  // namespace perfcast
