#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace perfcast {

// One record of a CSV text.
struct CsvRecord {
  // Unquoted and unescaped; surrounding whitespace is kept, since whether it matters is the
  // caller's schema.
  std::vector<std::string> fields;
  // The 1-based physical line the record starts on, for "file:line" in the caller's messages.
  int line = 0;
  // OK, or InvalidArgument saying how the quoting is malformed ("unterminated quoted field").
  // The message carries no location: the reader does not know the file, the caller knows `line`.
  absl::Status status;
};

// Splits RFC 4180 text into records: fields separated by ',', records by LF or CRLF, fields
// optionally enclosed in '"' with '""' standing for one quote; a quoted field may span lines.
// Blank lines between records are skipped. A leading UTF-8 byte order mark is ignored, since
// spreadsheets save CSV with one and it is not part of the first field.
//
// Reads a view of the text: the text must outlive the reader. Not thread-safe.
class CsvReader {
 public:
  explicit CsvReader(absl::string_view text);

  // Reads the next record into `record`, reusing its storage. Returns false at the end of the
  // input. A record whose quoting is malformed still ends where a lenient reader would end it
  // (at the next line break outside quotes, or the end of the input), so that a caller skipping
  // bad rows can go on reading.
  bool Next(CsvRecord& record);

 private:
  void SkipBlankLines();
  // True when the character at `at` ends a field: a delimiter, LF or CRLF.
  bool IsFieldEnd(std::size_t at) const;
  // Reads the body of a quoted field after its opening quote, through the closing quote.
  // Returns false if the input ends first.
  bool ReadQuoted(std::string& field);

  absl::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace perfcast
