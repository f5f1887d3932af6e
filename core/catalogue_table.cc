#include "core/catalogue_table.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace perfcast {
namespace {

// Splits one line into unquoted cells. Returns a description of the problem when the quoting is
// malformed, an empty string otherwise.
std::string SplitLine(absl::string_view line, std::vector<std::string>& cells) {
  cells.clear();
  size_t pos = 0;
  for (;;) {
    std::string cell;
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      for (;;) {
        const size_t quote = line.find('"', pos);
        if (quote == absl::string_view::npos) return "unterminated quoted field";
        cell.append(line.data() + pos, quote - pos);
        pos = quote + 1;
        if (pos < line.size() && line[pos] == '"') {
          cell.push_back('"');
          ++pos;
          continue;
        }
        break;
      }
      if (pos < line.size() && line[pos] != ',') {
        return absl::StrCat("text after the closing quote of field ", cells.size() + 1);
      }
    } else {
      size_t end = line.find(',', pos);
      if (end == absl::string_view::npos) end = line.size();
      cell.assign(line.data() + pos, end - pos);
      pos = end;
    }
    cells.push_back(std::string(absl::StripAsciiWhitespace(cell)));
    if (pos >= line.size()) return "";
    ++pos;  // the ','
  }
}

}  // namespace

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
  // Spreadsheets save CSV with a UTF-8 byte order mark; it is not part of the first column name.
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  std::vector<std::string> cells;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::string location = absl::StrCat(file, ":", line_number);
    if (const std::string error = SplitLine(line, cells); !error.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(location, ": ", error));
    }
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
