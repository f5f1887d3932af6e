#pragma once

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/data/benchmark_record.h"
#include "core/util/byte_coding.h"

namespace perfcast {

struct CurvePoint {
  int batch_size = 0;
  double throughput_tokens_per_s = 0;
  // Mean time to first token and mean inter-token latency, where the records give them: the
  // median over the repeats that do. Not part of the bundle's curve encoding (the latency model
  // keeps what it learned from them, core/model/latency_model.h).
  std::optional<double> ttft_s;
  std::optional<double> itl_s;
  // Their 99th percentiles (BenchmarkRecord), merged the same way.
  std::optional<double> p99_ttft_s;
  std::optional<double> p99_tpot_s;
};

// The measured throughput of one (configuration, shape) over batch sizes.
// Invariant: points sorted by batch_size, one point per batch size.
struct Curve {
  Configuration configuration;
  Shape shape;
  std::vector<CurvePoint> points;

  int max_batch_size() const { return points.empty() ? 0 : points.back().batch_size; }

  void EncodeTo(ByteWriter& writer) const;
  // DataLoss for a curve of no points or implausibly many.
  static absl::StatusOr<Curve> DecodeFrom(ByteReader& reader);
};

// Groups records into curves; repeated points (same curve, same batch size) are merged by their
// median (docs/EVALUATION.md §1), their TTFT and ITL likewise over the repeats that have them. The
// result is sorted by (configuration, shape): deterministic for any input order.
std::vector<Curve> GroupIntoCurves(absl::Span<const BenchmarkRecord> records);

// The other way: one record per point of `curve` (its configuration, shape, throughput and
// latencies), appended to `out`. What a method trained on curves hands to training.
void AppendRecordsOf(const Curve& curve, std::vector<BenchmarkRecord>& out);

}  // namespace perfcast
