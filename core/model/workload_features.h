#pragma once

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"
#include "core/fit/anchor_curve.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// Size read off a model's name ("Llama-2-70b-hf" -> 70, "Mixtral-8x7B" -> 8 experts of 7,
// "bloom-7b1" -> 7.1). NaN billions when the name gives no size.
struct ModelSize {
  double billions_of_parameters;
  int experts = 1;
};
ModelSize ParseModelSize(absl::string_view model);

// The categorical values seen in training, in a fixed order: the columns of the one-hot features.
// A one-hot sets its value's column to 1 and leaves the others missing (NaN), not 0: XGBoost
// stores only present entries, and the trees split the same (1 against missing instead of 1
// against 0), so the training matrix holds a fraction of the one-hot entries. A value not in the
// vocabulary (a new GPU) leaves every column missing.
struct FeatureVocabulary {
  std::vector<std::string> hardware;
  std::vector<std::string> frameworks;
  std::vector<std::string> precisions;

  static FeatureVocabulary FromConfigurations(absl::Span<const Configuration> configurations);

  void EncodeTo(ByteWriter& writer) const;
  static absl::StatusOr<FeatureVocabulary> DecodeFrom(ByteReader& reader);
};

// What the catalogue says of moving from an anchor's configuration to the query's, from the
// lookups the features make anyway.
struct CatalogueTransfer {
  // ln(the query configuration's memory-bound decode rate / the anchor's), both at the anchor's
  // shape and the batch size, i.e. how much faster the datasheets say the query's system runs.
  // Decode, not the whole roofline: the generated tokens/s of serving are bound by streaming
  // weights and KV cache, and a compute peak ratio (FP8/BF16 tensor units) overstates speed-ups
  // that the kernels of a young stack do not reach. 0 without a catalogue, for an anchor of the
  // query's own configuration, or where either side does not resolve.
  double physical_log_ratio = 0;
  // ln(the query configuration's decode rate at the query's shape / the anchor's at its own),
  // the shape's step and the configuration's together, as bundles of format 17 or older scale
  // it. 0 in the cases physical_log_ratio is.
  double decode_log_ratio = 0;
  // ln(the query configuration's roofline at the query's shape / at the anchor's), both at the
  // batch size held at the KV cache's capacity, as an anchor past its last point follows it:
  // the step between the shapes that the datasheets explain, prefill included, which a shape of
  // long prompts needs. 0 for the anchor's own shape, where either roofline is unknown, or where
  // the anchor's configuration does not resolve.
  double shape_log_ratio = 0;
  // ln(the query configuration's roofline at its shape and the batch size held at the KV
  // cache's capacity); NaN where it is unknown.
  double query_log_roofline = NAN;
  // Both accelerators name the same software stack (false where either names none).
  bool same_software_stack = false;
};

// Features of "predict the query's throughput at `batch_size` from this anchor curve": the query
// workload, how far the anchor is from it (shape, batch range, configuration), and the anchor's
// own level and curvature. The learned model maps them to log(true / anchor value).
//
// With a catalogue, physical ceilings (core/catalogue/physical_features.h) follow the columns
// above: log2 of the query configuration's ceilings at the query shape and batch, then log2(query /
// anchor) of each, the anchor's taken at its own shape and the same batch (under a pure roofline
// the latter would equal the target). They are what lets a GPU or model with no benchmark land near
// the configurations it physically resembles. A configuration the catalogue cannot resolve gets
// NaN there, which XGBoost treats as missing. Then one-hot columns of the query's and the
// anchor's software stack (over every stack the catalogue names) and whether the two share one:
// a new GPU of a known stack inherits that stack's efficiency, which no datasheet states.
// Without a catalogue (and without `batch_axes`) the columns are exactly those of a model trained
// before the catalogue existed.
//
// With `batch_axes`, the last two columns are what the query's and the anchor's batch sizes count
// (BatchSemantics: a static batch, a client concurrency, a published maximum): a curve of one
// axis goes on past its last point unlike one of another (a concurrency sweep queues, a static
// batch does not), and without these columns the trees learnt one extrapolation for all axes.
// Bundles from before them (format 9 and older) are read without them.
class TransferFeatures {
 public:
  explicit TransferFeatures(FeatureVocabulary vocabulary,
                            std::shared_ptr<const Catalogue> catalogue = nullptr,
                            bool batch_axes = true);

  int column_count() const { return column_count_; }
  const FeatureVocabulary& vocabulary() const { return vocabulary_; }
  // Null when the physical columns are off.
  const std::shared_ptr<const Catalogue>& catalogue() const { return catalogue_; }

  // Writes the features into `out` and returns what the catalogue says of the transfer. The
  // columns that depend on the batch size are written at no larger batch than
  // `largest_feature_batch` (the correction's trained range, Corrector::largest_trained_batch);
  // the transfer is of `batch_size` itself. REQUIRES: out.size() == column_count().
  CatalogueTransfer Compute(
      const Configuration& configuration, const Shape& shape, const AnchorCurve& anchor,
      bool anchor_is_same_curve, double batch_size, absl::Span<float> out,
      double largest_feature_batch = std::numeric_limits<double>::infinity()) const;
  // Compute at each of `batch_sizes`, the same rows, the columns that do not depend on the batch
  // size written once. REQUIRES: rows.size() == batch_sizes.size() * column_count(),
  // transfers.size() == batch_sizes.size().
  void ComputeEach(const Configuration& configuration, const Shape& shape,
                   const AnchorCurve& anchor, bool anchor_is_same_curve,
                   absl::Span<const double> batch_sizes, absl::Span<float> rows,
                   absl::Span<CatalogueTransfer> transfers,
                   double largest_feature_batch = std::numeric_limits<double>::infinity()) const;

 private:
  struct Pairing;
  Pairing Pair(const Configuration& configuration, const AnchorCurve& anchor) const;
  // Every column but those that depend on the batch size, which WriteBatchColumns writes.
  void WriteSharedColumns(const Configuration& configuration, const Shape& shape,
                          const AnchorCurve& anchor, bool anchor_is_same_curve,
                          const Pairing& pairing, absl::Span<float> out) const;
  // The columns that depend on the batch size, and the transfer there.
  CatalogueTransfer WriteBatchColumns(const Shape& shape, const AnchorCurve& anchor,
                                      const Pairing& pairing, double batch_size,
                                      absl::Span<float> out) const;
  // WriteBatchColumns with the columns held at `largest_feature_batch` past it, the transfer
  // still of `batch_size`.
  CatalogueTransfer WriteHeldBatchColumns(const Shape& shape, const AnchorCurve& anchor,
                                          const Pairing& pairing, double batch_size,
                                          double largest_feature_batch,
                                          absl::Span<float> out) const;
  // Where each value stands in its list (every place, should a decoded list repeat one): a
  // one-hot is one lookup instead of a comparison per value.
  using Positions = absl::flat_hash_map<std::string, std::vector<size_t>>;
  static Positions PositionsOf(const std::vector<std::string>& values);
  // 1 at `value`'s places among `values`, missing (NaN) at the others.
  static void OneHot(const std::vector<std::string>& values, const Positions& positions,
                     absl::string_view value, absl::Span<float> out);

  FeatureVocabulary vocabulary_;
  std::shared_ptr<const Catalogue> catalogue_;
  // Every software stack the catalogue names, sorted: the columns of the stack one-hots.
  std::vector<std::string> software_stacks_;
  int column_count_ = 0;
  bool batch_axes_ = true;
  Positions hardware_positions_;
  Positions framework_positions_;
  Positions precision_positions_;
  Positions stack_positions_;
};

}  // namespace perfcast
