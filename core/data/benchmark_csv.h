#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/benchmark_record.h"

namespace perfcast {

enum class BadRowPolicy {
  kSkip,  // report the row in CsvReadResult::rejected_rows and go on
  kFail,  // return InvalidArgument naming file:line and the reason
};

struct RejectedRow {
  std::string location;  // "file:line"
  std::string reason;    // "output_tokens_per_s: 'abc' is not a number"
};

struct CsvReadResult {
  std::vector<BenchmarkRecord> records;
  // The line records[i] starts on, for "file:line" in reports about a record.
  std::vector<int> record_lines;
  // Whether records[i]'s row gave num_gpus (false: the column or cell was empty, read as 1).
  std::vector<bool> record_num_gpus_given;
  // Rows that are malformed (missing field, non-numeric, non-positive, NaN).
  std::vector<RejectedRow> rejected_rows;
  // Rows that are well formed but out of scope (docs/EVALUATION.md §1: status != ok, llama-bench
  // batches, missing throughput). Counted, not errors.
  int filtered_row_count = 0;
};

// Reads the tidy benchmark CSV schema (data/README.md, docs/EVALUATION.md §1). Required columns:
// input_tokens, output_tokens, batch_size, output_tokens_per_s. Configuration columns
// (hardware, num_gpus, framework, model, precision) read as "na" (num_gpus as 1) when absent.
// Optional: ttft_s, mean_itl_s/itl_s, p99_ttft_s, p99_tpot_s, latency_s, source. Handles RFC 4180
// quoting.
absl::StatusOr<CsvReadResult> ReadBenchmarkCsv(const std::string& path, BadRowPolicy policy);

// Same, from text already in memory; `name` is used in error locations.
absl::StatusOr<CsvReadResult> ParseBenchmarkCsv(const std::string& text, const std::string& name,
                                                BadRowPolicy policy);

}  // namespace perfcast
