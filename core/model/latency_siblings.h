#pragma once

#include <cstdint>
#include <optional>
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

  bool empty() const { return configurations_.empty(); }

  // The sibling's log share at `batch_size` (log-log between its batches, held at its first and
  // last); nullopt where no other configuration of the campaign and axis measured `shape`.
  std::optional<double> LogShareAt(const Configuration& configuration, const Shape& shape,
                                   int batch_size) const;

  // The same in two steps, for reading several batches of one query: the sibling's curve (-1:
  // none), then its log share at a batch.
  int FindCurve(const Configuration& configuration, const Shape& shape) const;
  double LogShareOn(int curve, int batch_size) const;

  // Whether `configuration`'s own curve at `shape` measured a batch at or below `batch_size` and
  // one at or above it: the correction was trained on that TTFT, and no sibling is read there.
  bool OwnCurveSpans(const Configuration& configuration, const Shape& shape, int batch_size) const;

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
