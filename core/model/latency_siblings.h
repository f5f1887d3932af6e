#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
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
// nearest siblings (docs/METHOD.md §9): other configurations of the same campaign and batch axis,
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

  // The most siblings a TTFT reads: one sibling's share carries its own configuration's quirks
  // as well as what the two share; the mean of the two nearest halves what is a quirk of either.
  static constexpr int kMaxSiblingsRead = 2;

  // How siblings are ranked and which are read together; each bundle format reads the rule its
  // weights were chosen under.
  enum class Rule {
    // Format 25 and older: the nearest sibling alone (the most shared fields, then the nearest
    // GPU count).
    kNearestAlone,
    // Format 26: ranked so, and a second one read where it shares as many fields and is of the
    // same kind (one field apart or not).
    kAsManyFieldsShared,
    // From format 27: as kAsManyFieldsShared, but among siblings one field apart one of the
    // query's precision (another GPU count: the same kernels and numerics) ranks first, and a
    // second is read only where it is as near in every respect: of the query's precision too and
    // as many times more or fewer GPUs (one on either side brackets the query), or another
    // precision on the same GPUs as the first. Further siblings are read as under format 26.
    kSamePrecisionFirst,
  };

  // The sibling curves at `shape`, most similar first: the other configurations of the campaign
  // and axis that measured it that `rule` reads (at most kMaxSiblingsRead). Found once for a
  // query.
  struct SiblingCurves {
    std::array<int, kMaxSiblingsRead> curves{};
    int count = 0;
    // Whether they are one field apart from the query: its model, GPU and serving stack, and its
    // GPU count or its precision (the siblings read are all of one kind). Such a sibling's share
    // carries over better than one further apart.
    bool one_field_apart = false;
    bool empty() const { return count == 0; }
  };
  SiblingCurves FindCurves(const Configuration& configuration, const Shape& shape, Rule rule) const;
  // The mean over `siblings` of each one's log share at `batch_size` (linear in log batch between
  // its points, held at its first and last). `siblings` must not be empty.
  double LogShareOn(const SiblingCurves& siblings, int batch_size) const;

  // `configuration`'s own curve at `shape` (-1: none), and whether a curve measured a batch at or
  // below `batch_size` and one at or above it. Within its own curve the correction was trained on
  // the configuration's TTFT, and no sibling is read there.
  int OwnCurve(const Configuration& configuration, const Shape& shape) const;
  bool Spans(int curve, int batch_size) const;

  void EncodeTo(ByteWriter& writer) const;
  static absl::StatusOr<LatencySiblings> DecodeFrom(ByteReader& reader);

 private:
  double LogShareOnCurve(int curve, int batch_size) const;

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
  // A configuration's model, hardware, framework and precision as ids into name_ids_, and its GPU
  // count: what a sibling's rank compares.
  struct Names {
    std::array<int, 4> ids{};
    int num_gpus = 1;
    double log2_gpus = 0;
  };
  // A curve FindCurves may pick: its configuration's names and its index in curves_.
  struct Candidate {
    Names names;
    int curve = 0;
  };
  // `configuration`'s names; -1 for a name no entry carries.
  Names NamesOf(const Configuration& configuration) const;
  // Indexes the curves by campaign, batch axis and shape, so that a query ranks only the curves
  // measured where it asks, in entry order (the order that breaks a tie).
  void BuildIndex();

  std::vector<Entry> configurations_;  // strictly ascending by configuration
  std::vector<Curve> curves_;
  absl::flat_hash_map<std::string, int> campaign_ids_;
  absl::flat_hash_map<std::string, int> name_ids_;
  // (campaign id, batch axis, input tokens, output tokens) -> the curves measured there.
  absl::flat_hash_map<std::tuple<int, int, int, int>, std::vector<Candidate>> candidates_;
};

}  // namespace perfcast
