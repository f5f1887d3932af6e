#include "core/data/curve.h"

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

// The median of `values` (not empty); for an even count the mean of the two middle values.
double Median(std::vector<double>& values) {
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  if (values.size() % 2 == 1) return values[mid];
  return (values[mid - 1] + values[mid]) / 2;
}

}  // namespace

void Curve::EncodeTo(ByteWriter& writer) const {
  configuration.EncodeTo(writer);
  writer.PutI32(shape.input_tokens);
  writer.PutI32(shape.output_tokens);
  writer.PutU32(points.size());
  for (const CurvePoint& point : points) {
    writer.PutI32(point.batch_size);
    writer.PutDouble(point.throughput_tokens_per_s);
  }
}

absl::StatusOr<Curve> Curve::DecodeFrom(ByteReader& reader) {
  Curve curve;
  PERFCAST_ASSIGN_OR_RETURN(curve.configuration, Configuration::DecodeFrom(reader));
  PERFCAST_ASSIGN_OR_RETURN(curve.shape.input_tokens, reader.GetI32());
  PERFCAST_ASSIGN_OR_RETURN(curve.shape.output_tokens, reader.GetI32());
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t point_count, reader.GetU32());
  if (point_count == 0 || point_count > 100000) {
    return absl::DataLossError("bundle: curve with an impossible point count");
  }
  for (uint32_t p = 0; p < point_count; ++p) {
    CurvePoint point;
    PERFCAST_ASSIGN_OR_RETURN(point.batch_size, reader.GetI32());
    PERFCAST_ASSIGN_OR_RETURN(point.throughput_tokens_per_s, reader.GetDouble());
    curve.points.push_back(point);
  }
  return curve;
}

std::vector<Curve> GroupIntoCurves(absl::Span<const BenchmarkRecord> records) {
  // Sort pointers rather than records: the sort then moves no strings.
  std::vector<const BenchmarkRecord*> sorted;
  sorted.reserve(records.size());
  for (const BenchmarkRecord& record : records) sorted.push_back(&record);
  std::sort(sorted.begin(), sorted.end(), [](const BenchmarkRecord* x, const BenchmarkRecord* y) {
    return std::tie(x->configuration, x->shape, x->batch_size) <
           std::tie(y->configuration, y->shape, y->batch_size);
  });

  std::vector<Curve> curves;
  std::vector<double> repeats, ttfts, itls, p99_ttfts, p99_tpots;
  for (std::size_t i = 0; i < sorted.size();) {
    const BenchmarkRecord& first = *sorted[i];
    if (curves.empty() || curves.back().configuration != first.configuration ||
        curves.back().shape != first.shape) {
      curves.push_back(Curve{first.configuration, first.shape, {}});
    }
    // All records of this curve at this batch size are adjacent after the sort.
    repeats.clear();
    ttfts.clear();
    itls.clear();
    p99_ttfts.clear();
    p99_tpots.clear();
    std::size_t j = i;
    for (; j < sorted.size() && sorted[j]->batch_size == first.batch_size &&
           sorted[j]->shape == first.shape && sorted[j]->configuration == first.configuration;
         ++j) {
      repeats.push_back(sorted[j]->throughput_tokens_per_s);
      if (sorted[j]->ttft_s.has_value()) ttfts.push_back(*sorted[j]->ttft_s);
      if (sorted[j]->itl_s.has_value()) itls.push_back(*sorted[j]->itl_s);
      if (sorted[j]->p99_ttft_s.has_value()) p99_ttfts.push_back(*sorted[j]->p99_ttft_s);
      if (sorted[j]->p99_tpot_s.has_value()) p99_tpots.push_back(*sorted[j]->p99_tpot_s);
    }
    CurvePoint point{first.batch_size, Median(repeats)};
    if (!ttfts.empty()) point.ttft_s = Median(ttfts);
    if (!itls.empty()) point.itl_s = Median(itls);
    if (!p99_ttfts.empty()) point.p99_ttft_s = Median(p99_ttfts);
    if (!p99_tpots.empty()) point.p99_tpot_s = Median(p99_tpots);
    curves.back().points.push_back(point);
    i = j;
  }
  return curves;
}

void AppendRecordsOf(const Curve& curve, std::vector<BenchmarkRecord>& out) {
  for (const CurvePoint& point : curve.points) {
    BenchmarkRecord record;
    record.configuration = curve.configuration;
    record.shape = curve.shape;
    record.batch_size = point.batch_size;
    record.throughput_tokens_per_s = point.throughput_tokens_per_s;
    record.ttft_s = point.ttft_s;
    record.itl_s = point.itl_s;
    record.p99_ttft_s = point.p99_ttft_s;
    record.p99_tpot_s = point.p99_tpot_s;
    out.push_back(std::move(record));
  }
}

}  // namespace perfcast
