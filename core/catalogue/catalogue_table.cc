#include "core/catalogue/catalogue_table.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/data/csv_reader.h"

namespace perfcast {
CatalogueRow::CatalogueRow(std::string location, const std::vector<std::string>* header,
                           std::vector<std::string> cells)
    : location_(std::move(location)), header_(header), cells_(std::move(cells)) {}

absl::Status CatalogueRow::Error(absl::string_view column, absl::string_view why) const {
  return absl::InvalidArgumentError(absl::StrCat(location_, ": ", column, ": ", why));
}

absl::string_view CatalogueRow::Cell(absl::string_view column) const {
  for (size_t i = 0; i < header_->size(); ++i) {
    if ((*header_)[i] == column) return cells_[i];
  }
  return {};
}

absl::StatusOr<std::string> CatalogueRow::Text(absl::string_view column) const {
  const absl::string_view cell = Cell(column);
  if (cell.empty()) return Error(column, "is empty");
  return std::string(cell);
}

absl::StatusOr<std::optional<double>> CatalogueRow::OptionalPositiveNumber(
    absl::string_view column) const {
  const absl::string_view cell = Cell(column);
  if (cell.empty()) return std::nullopt;
  double value = 0;
  if (!absl::SimpleAtod(cell, &value) || !std::isfinite(value) || value <= 0) {
    return Error(column, absl::StrCat("'", cell, "' is not a positive number"));
  }
  return value;
}

absl::StatusOr<double> CatalogueRow::PositiveNumber(absl::string_view column) const {
  absl::StatusOr<std::optional<double>> value = OptionalPositiveNumber(column);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return Error(column, "is empty");
  return **value;
}

absl::StatusOr<std::optional<int>> CatalogueRow::OptionalPositiveInt(
    absl::string_view column) const {
  const absl::string_view cell = Cell(column);
  if (cell.empty()) return std::nullopt;
  int value = 0;
  if (!absl::SimpleAtoi(cell, &value) || value <= 0) {
    return Error(column, absl::StrCat("'", cell, "' is not a positive whole number"));
  }
  return value;
}

absl::StatusOr<int> CatalogueRow::PositiveInt(absl::string_view column) const {
  absl::StatusOr<std::optional<int>> value = OptionalPositiveInt(column);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return Error(column, "is empty");
  return **value;
}

absl::Status CatalogueTable::CheckUnique(absl::string_view column) const {
  absl::flat_hash_map<std::string, const CatalogueRow*> seen;
  for (const CatalogueRow& row : rows_) {
    const std::string value(row.Cell(column));
    const auto [it, inserted] = seen.emplace(value, &row);
    if (!inserted) {
      return row.Error(column, absl::StrCat("'", value, "' repeats ", it->second->location()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CatalogueTable> CatalogueTable::Parse(
    absl::string_view text, absl::string_view file,
    absl::Span<const absl::string_view> required_columns) {
  CatalogueTable table;
  table.header_ = std::make_unique<std::vector<std::string>>();
  CsvReader reader(text);
  CsvRecord record;
  while (reader.Next(record)) {
    const std::string location = absl::StrCat(file, ":", record.line);
    if (!record.status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(location, ": ", record.status.message()));
    }
    std::vector<std::string>& cells = record.fields;
    for (std::string& cell : cells) absl::StripAsciiWhitespace(&cell);
    // The reader skips empty lines only; a line of spaces is as blank to a person editing it.
    if (cells.size() == 1 && cells.front().empty()) continue;
    if (table.header_->empty()) {
      *table.header_ = cells;
      for (absl::string_view column : required_columns) {
        if (std::find(cells.begin(), cells.end(), column) == cells.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat(location, ": missing column '", column, "'"));
        }
      }
      continue;
    }
    if (cells.size() != table.header_->size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          location, ": ", cells.size(), " fields where the header has ", table.header_->size()));
    }
    table.rows_.emplace_back(location, table.header_.get(), cells);
  }
  if (table.header_->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": no header row"));
  }
  return table;
}

}  // namespace perfcast
