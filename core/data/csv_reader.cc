#include "core/data/csv_reader.h"

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace perfcast {

CsvReader::CsvReader(absl::string_view text) : text_(text) {
  if (absl::StartsWith(text_, "\xEF\xBB\xBF")) text_.remove_prefix(3);
}

bool CsvReader::Next(CsvRecord& record) {
  record.status = absl::OkStatus();
  SkipBlankLines();
  if (pos_ >= text_.size()) return false;
  record.line = line_;
  std::vector<std::string>& fields = record.fields;
  std::size_t count = 0;
  for (;;) {
    if (count == fields.size()) fields.emplace_back();
    std::string& field = fields[count++];
    field.clear();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      if (!ReadQuoted(field)) {
        if (record.status.ok()) {
          record.status = absl::InvalidArgumentError("unterminated quoted field");
        }
        break;
      }
      if (pos_ < text_.size() && !IsFieldEnd(pos_) && record.status.ok()) {
        record.status = absl::InvalidArgumentError(
            absl::StrCat("unexpected text after the closing quote of field ", count));
      }
    }
    // The unquoted field, or whatever follows a closing quote up to the delimiter.
    std::size_t end = text_.find_first_of(",\n", pos_);
    if (end == absl::string_view::npos) end = text_.size();
    absl::string_view piece = text_.substr(pos_, end - pos_);
    pos_ = end;
    if (pos_ < text_.size() && text_[pos_] == ',') {
      field.append(piece.data(), piece.size());
      ++pos_;
      continue;
    }
    if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
    field.append(piece.data(), piece.size());
    if (pos_ < text_.size()) {  // consume the '\n'
      ++pos_;
      ++line_;
    }
    break;
  }
  fields.resize(count);
  return true;
}

void CsvReader::SkipBlankLines() {
  while (pos_ < text_.size()) {
    if (text_[pos_] == '\n') {
      ++pos_;
    } else if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      pos_ += 2;
    } else {
      return;
    }
    ++line_;
  }
}

bool CsvReader::IsFieldEnd(std::size_t at) const {
  const char ch = text_[at];
  return ch == ',' || ch == '\n' ||
         (ch == '\r' && (at + 1 == text_.size() || text_[at + 1] == '\n'));
}

bool CsvReader::ReadQuoted(std::string& field) {
  while (pos_ < text_.size()) {
    std::size_t quote = text_.find('"', pos_);
    if (quote == absl::string_view::npos) quote = text_.size();
    const absl::string_view segment = text_.substr(pos_, quote - pos_);
    for (char ch : segment) line_ += ch == '\n' ? 1 : 0;
    field.append(segment.data(), segment.size());
    if (quote == text_.size()) {
      pos_ = quote;
      return false;
    }
    pos_ = quote + 1;
    if (pos_ < text_.size() && text_[pos_] == '"') {  // "" stands for one quote
      field.push_back('"');
      ++pos_;
      continue;
    }
    return true;
  }
  return false;
}

}  // namespace perfcast
