#include "core/data/benchmark_csv.h"

#include <cmath>
#include <cstddef>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/data/csv_reader.h"

namespace perfcast {
namespace {

// Column positions in the header; -1 when the column is absent.
struct ColumnIndex {
  int hardware = -1;
  int num_gpus = -1;
  int framework = -1;
  int model = -1;
  int precision = -1;
  int input_tokens = -1;
  int output_tokens = -1;
  int batch_size = -1;
  int output_tokens_per_s = -1;
  int ttft_s = -1;
  int itl_s = -1;
  int p99_ttft_s = -1;
  int p99_tpot_s = -1;
  int latency_s = -1;
  int source = -1;
  int campaign = -1;
  int status = -1;
  int batch_semantics = -1;
};

int FindColumn(const std::vector<std::string>& header, absl::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// The first of `names` present in the header, or -1.
int FindColumn(const std::vector<std::string>& header,
               std::initializer_list<absl::string_view> names) {
  for (absl::string_view name : names) {
    const int index = FindColumn(header, name);
    if (index >= 0) return index;
  }
  return -1;
}

absl::StatusOr<ColumnIndex> IndexColumns(std::vector<std::string> header, const std::string& name) {
  for (std::string& column : header) absl::StripAsciiWhitespace(&column);
  ColumnIndex index;
  const std::pair<absl::string_view, int*> required[] = {
      {"input_tokens", &index.input_tokens},
      {"output_tokens", &index.output_tokens},
      {"batch_size", &index.batch_size},
      {"output_tokens_per_s", &index.output_tokens_per_s},
  };
  for (const auto& [column, slot] : required) {
    *slot = FindColumn(header, column);
    if (*slot < 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": missing column '", column, "'"));
    }
  }
  index.hardware = FindColumn(header, "hardware");
  index.num_gpus = FindColumn(header, "num_gpus");
  index.framework = FindColumn(header, "framework");
  index.model = FindColumn(header, "model");
  index.precision = FindColumn(header, "precision");
  index.ttft_s = FindColumn(header, {"ttft_s", "mean_ttft_s"});
  index.itl_s = FindColumn(header, {"itl_s", "mean_itl_s"});
  // Not p99_itl_s: the 99th percentile of single gaps between tokens is another figure.
  index.p99_ttft_s = FindColumn(header, {"p99_ttft_s"});
  index.p99_tpot_s = FindColumn(header, {"p99_tpot_s"});
  index.latency_s = FindColumn(header, "latency_s");
  index.source = FindColumn(header, "source");
  index.campaign = FindColumn(header, {"campaign", "source"});
  index.status = FindColumn(header, "status");
  index.batch_semantics = FindColumn(header, "batch_semantics");
  return index;
}

// The trimmed cell of `column`, or empty when the column is absent.
absl::string_view Cell(const std::vector<std::string>& fields, int column) {
  if (column < 0) return {};
  return absl::StripAsciiWhitespace(fields[column]);
}

std::string TextOrNotAvailable(const std::vector<std::string>& fields, int column) {
  const absl::string_view cell = Cell(fields, column);
  return std::string(cell.empty() ? kNotPublished : cell);
}

bool IsMissingNumber(absl::string_view cell) {
  return cell.empty() || absl::EqualsIgnoreCase(cell, "nan");
}

// Parses a positive integer cell; on failure returns the reason, naming column and value.
std::optional<std::string> ParsePositiveInt(absl::string_view column, absl::string_view cell,
                                            int& out) {
  if (!absl::SimpleAtoi(cell, &out)) {
    double value = 0;
    if (!absl::SimpleAtod(cell, &value) || std::isnan(value)) {
      return absl::StrCat(column, ": '", cell, "' is not a number");
    }
    if (std::isfinite(value) && value <= 0) {
      return absl::StrCat(column, ": '", cell, "' is not positive");
    }
    if (!std::isfinite(value) || value != std::floor(value)) {
      return absl::StrCat(column, ": '", cell, "' is not an integer");
    }
    if (value > std::numeric_limits<int>::max()) {
      return absl::StrCat(column, ": '", cell, "' is out of range");
    }
    out = static_cast<int>(value);  // e.g. "128.0"
  }
  if (out <= 0) return absl::StrCat(column, ": '", cell, "' is not positive");
  return std::nullopt;
}

// Parses a finite number cell that must be positive (`strictly_positive`) or non-negative.
std::optional<std::string> ParseFinite(absl::string_view column, absl::string_view cell,
                                       bool strictly_positive, double& out) {
  if (!absl::SimpleAtod(cell, &out)) {
    return absl::StrCat(column, ": '", cell, "' is not a number");
  }
  if (!std::isfinite(out)) return absl::StrCat(column, ": '", cell, "' is not finite");
  if (strictly_positive ? out <= 0 : out < 0) {
    return absl::StrCat(column, ": '", cell, "' is ",
                        strictly_positive ? "not positive" : "negative");
  }
  return std::nullopt;
}

// An optional latency column: empty or "nan" reads as absent.
std::optional<std::string> ParseOptionalSeconds(absl::string_view column,
                                                const std::vector<std::string>& fields, int index,
                                                std::optional<double>& out) {
  const absl::string_view cell = Cell(fields, index);
  if (IsMissingNumber(cell)) return std::nullopt;
  double value = 0;
  if (auto reason = ParseFinite(column, cell, /*strictly_positive=*/false, value)) return reason;
  out = value;
  return std::nullopt;
}

enum class RowOutcome { kRecord, kFiltered, kRejected };

// The x-axis a row's batch_semantics cell names: one of the three tokens, or the tidy schema's
// free-text descriptions; empty reads as a static batch, as before the column existed.
std::optional<BatchSemantics> ReadBatchSemantics(absl::string_view cell) {
  if (cell.empty()) return BatchSemantics::kStatic;
  if (std::optional<BatchSemantics> named = BatchSemanticsFromName(cell)) return named;
  const std::string text = absl::AsciiStrToLower(cell);
  if (absl::StrContains(text, "max-throughput") || absl::StrContains(text, "max throughput")) {
    return BatchSemantics::kMaxThroughput;
  }
  if (absl::StrContains(text, "concurren") || absl::StrContains(text, "continuous batching")) {
    return BatchSemantics::kConcurrency;
  }
  if (absl::StrContains(text, "static")) return BatchSemantics::kStatic;
  return std::nullopt;
}

// Interprets one data row. Sets `reason` when the row is rejected.
RowOutcome ReadRow(const std::vector<std::string>& fields, const ColumnIndex& columns,
                   BenchmarkRecord& record, std::string& reason) {
  // Out of scope (docs/EVALUATION.md §1): filtered before any validation.
  const absl::string_view status = Cell(fields, columns.status);
  if (!status.empty() && status != "ok") return RowOutcome::kFiltered;
  if (absl::StrContains(Cell(fields, columns.batch_semantics), "llama-bench")) {
    return RowOutcome::kFiltered;
  }
  const absl::string_view throughput = Cell(fields, columns.output_tokens_per_s);
  if (IsMissingNumber(throughput)) return RowOutcome::kFiltered;

  std::optional<std::string> error;
  auto reject = [&](std::optional<std::string> e) {
    if (e.has_value() && !error.has_value()) error = std::move(e);
  };
  reject(ParseFinite("output_tokens_per_s", throughput, /*strictly_positive=*/true,
                     record.throughput_tokens_per_s));
  reject(ParsePositiveInt("input_tokens", Cell(fields, columns.input_tokens),
                          record.shape.input_tokens));
  reject(ParsePositiveInt("output_tokens", Cell(fields, columns.output_tokens),
                          record.shape.output_tokens));
  const absl::string_view semantics_cell = Cell(fields, columns.batch_semantics);
  const std::optional<BatchSemantics> semantics = ReadBatchSemantics(semantics_cell);
  if (!semantics.has_value()) {
    reject(absl::StrCat("batch_semantics: '", semantics_cell,
                        "' is none of static, concurrency, max_throughput"));
  } else {
    record.configuration.batch_semantics = *semantics;
  }
  const absl::string_view batch_size = Cell(fields, columns.batch_size);
  if (semantics == BatchSemantics::kMaxThroughput && batch_size.empty()) {
    record.batch_size = kSaturationBatchSize;
  } else {
    reject(ParsePositiveInt("batch_size", batch_size, record.batch_size));
  }
  const absl::string_view num_gpus = Cell(fields, columns.num_gpus);
  if (!num_gpus.empty()) {
    reject(ParsePositiveInt("num_gpus", num_gpus, record.configuration.num_gpus));
  }
  reject(ParseOptionalSeconds("ttft_s", fields, columns.ttft_s, record.ttft_s));
  reject(ParseOptionalSeconds("itl_s", fields, columns.itl_s, record.itl_s));
  reject(ParseOptionalSeconds("p99_ttft_s", fields, columns.p99_ttft_s, record.p99_ttft_s));
  reject(ParseOptionalSeconds("p99_tpot_s", fields, columns.p99_tpot_s, record.p99_tpot_s));
  reject(ParseOptionalSeconds("latency_s", fields, columns.latency_s, record.latency_s));
  if (error.has_value()) {
    reason = *std::move(error);
    return RowOutcome::kRejected;
  }

  record.configuration.hardware = TextOrNotAvailable(fields, columns.hardware);
  record.configuration.framework = TextOrNotAvailable(fields, columns.framework);
  record.configuration.model = TextOrNotAvailable(fields, columns.model);
  record.configuration.precision = TextOrNotAvailable(fields, columns.precision);
  record.source = std::string(Cell(fields, columns.source));
  const absl::string_view campaign = Cell(fields, columns.campaign);
  if (campaign.size() > kMaxCampaignBytes) {
    reason = absl::StrCat("campaign: longer than ", kMaxCampaignBytes, " bytes");
    return RowOutcome::kRejected;
  }
  record.configuration.campaign = std::string(campaign);
  return RowOutcome::kRecord;
}

}  // namespace

absl::StatusOr<CsvReadResult> ParseBenchmarkCsv(const std::string& text, const std::string& name,
                                                BadRowPolicy policy) {
  CsvReader reader(text);
  CsvRecord row;
  if (!reader.Next(row)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": empty file, no header"));
  }
  if (!row.status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ":", row.line, ": header: ", row.status.message()));
  }
  const std::size_t field_count = row.fields.size();
  absl::StatusOr<ColumnIndex> columns = IndexColumns(row.fields, name);
  if (!columns.ok()) return columns.status();

  CsvReadResult result;
  std::string reason;
  while (reader.Next(row)) {
    BenchmarkRecord record;
    RowOutcome outcome = RowOutcome::kRejected;
    if (!row.status.ok()) {
      reason = std::string(row.status.message());
    } else if (row.fields.size() != field_count) {
      reason = absl::StrCat("expected ", field_count, " fields, got ", row.fields.size());
    } else {
      outcome = ReadRow(row.fields, *columns, record, reason);
    }
    switch (outcome) {
      case RowOutcome::kRecord:
        result.records.push_back(std::move(record));
        result.record_lines.push_back(row.line);
        result.record_num_gpus_given.push_back(!Cell(row.fields, columns->num_gpus).empty());
        break;
      case RowOutcome::kFiltered:
        ++result.filtered_row_count;
        break;
      case RowOutcome::kRejected:
        if (policy == BadRowPolicy::kFail) {
          return absl::InvalidArgumentError(absl::StrCat(name, ":", row.line, ": ", reason));
        }
        result.rejected_rows.push_back({absl::StrCat(name, ":", row.line), std::move(reason)});
        reason.clear();
        break;
    }
  }
  return result;
}

absl::StatusOr<CsvReadResult> ReadBenchmarkCsv(const std::string& path, BadRowPolicy policy) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return ParseBenchmarkCsv(std::move(text).str(), path, policy);
}

}  // namespace perfcast
