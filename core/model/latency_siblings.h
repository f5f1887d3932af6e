#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/data/benchmark_record.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// One measured latency point: its TTFT's share of the batch latency, log(TTFT / batch latency).
struct LatencySample {
  Configuration configuration;
  Shape shape;
  int batch_size = 0;
  double log_share = 0;
};

// The latency curves the model was trained on, for reading a configuration's TTFT off its
// nearest sibling (docs/METHOD.md §9): another configuration of the same campaign and batch axis,
// measured at the same shape, sharing the most of the model, GPU, serving stack, GPU count and
// precision. Within a campaign a TTFT is mostly prefill and queueing under one harness, which a
// sibling's share of its batch latency carries over.
//
// Thread safety: immutable once built.
class LatencySiblings {
 public:
  LatencySiblings() = default;
  // `samples` in any order; points of one (configuration, shape) form its curve.
  static LatencySiblings Build(absl::Span<const LatencySample> samples);

  // The sibling's curve at `shape` (-1 where no other configuration of the campaign and axis
  // measured it), found once for a query, then its log share at each batch (linear in log batch
  // between its points, held at its first and last).
  int FindCurve(const Configuration& configuration, const Shape& shape) const;
  double LogShareOn(int curve, int batch_size) const;

  // `configuration`'s own curve at `shape` (-1: none), and whether a curve measured a batch at or
  // below `batch_size` and one at or above it. Within its own curve the correction was trained on
  // the configuration's TTFT, and no sibling is read there.
  int OwnCurve(const Configuration& configuration, const Shape& shape) const;
  bool Spans(int curve, int batch_size) const;

  void EncodeTo(ByteWriter& writer) const;
  static absl::StatusOr<LatencySiblings> DecodeFrom(ByteReader& reader);

 private:
  struct Curve {
    Shape shape;
    // Ascending in batch size.
    std::vector<double> log2_batches;
    std::vector<double> log_shares;
  };
  struct Entry {
    Configuration configuration;
    std::vector<int> curves;  // into curves_
  };
  std::vector<Entry> configurations_;  // strictly ascending by configuration
  std::vector<Curve> curves_;
};

}  // namespace perfcast
