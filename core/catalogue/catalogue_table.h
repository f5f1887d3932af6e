#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace perfcast {

// One data row of a catalogue CSV file, its cells addressed by column name. Every accessor fails
// with InvalidArgument "file:line: column: why", so a person editing the file finds the cell.
class CatalogueRow {
 public:
  CatalogueRow(std::string location, const std::vector<std::string>* header,
               std::vector<std::string> cells);

  // "file:line".
  const std::string& location() const { return location_; }

  // A cell that must not be empty.
  absl::StatusOr<std::string> Text(absl::string_view column) const;
  // A cell that may be empty, or whose column the file may lack (one added after the file was
  // written, as a bundle's stored catalogue may be): "" then.
  std::string OptionalText(absl::string_view column) const { return std::string(Cell(column)); }
  // A cell that must hold a finite number > 0.
  absl::StatusOr<double> PositiveNumber(absl::string_view column) const;
  // Empty means unknown (nullopt); otherwise a finite number > 0.
  absl::StatusOr<std::optional<double>> OptionalPositiveNumber(absl::string_view column) const;
  // Empty means unknown (nullopt); otherwise a whole number > 0.
  absl::StatusOr<std::optional<int>> OptionalPositiveInt(absl::string_view column) const;
  absl::StatusOr<int> PositiveInt(absl::string_view column) const;

  // An InvalidArgument error located at this row.
  absl::Status Error(absl::string_view column, absl::string_view why) const;

 private:
  friend class CatalogueTable;
  // The trimmed cell of `column`; empty when the header lacks the column.
  absl::string_view Cell(absl::string_view column) const;

  std::string location_;
  const std::vector<std::string>* header_;  // owned by the CatalogueTable
  std::vector<std::string> cells_;
};

// A catalogue CSV file, read by CsvReader: a header record, then data records. Fields may be
// enclosed in '"' ('""' for a quote) so that names and notes can hold commas. Whitespace around a
// cell and lines of only whitespace are ignored.
class CatalogueTable {
 public:
  // InvalidArgument "file:line: ..." for a malformed line, a row whose cell count differs from
  // the header's, or a header that lacks one of `required_columns`.
  static absl::StatusOr<CatalogueTable> Parse(absl::string_view text, absl::string_view file,
                                              absl::Span<const absl::string_view> required_columns);

  const std::vector<CatalogueRow>& rows() const { return rows_; }

  // InvalidArgument "file:line: column: 'value' repeats line N" for the first cell of `column`
  // that repeats an earlier one: a name must mean one entry.
  absl::Status CheckUnique(absl::string_view column) const;

  CatalogueTable(CatalogueTable&&) = default;
  CatalogueTable& operator=(CatalogueTable&&) = default;

 private:
  CatalogueTable() = default;

  // Behind a pointer so that rows keep pointing at it when the table moves.
  std::unique_ptr<std::vector<std::string>> header_;
  std::vector<CatalogueRow> rows_;
};

}  // namespace perfcast
