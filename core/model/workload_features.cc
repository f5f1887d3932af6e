#include "core/model/workload_features.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "core/catalogue/physical_features.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

constexpr int kNumericFeatureCount = 23;
// The numeric columns that depend on the batch size (WriteBatchColumns writes them; the others
// are WriteSharedColumns').
constexpr int kLog2BatchColumn = 0;
constexpr int kBatchOverAnchorMaxColumn = 5;  // then over the anchor's smallest, then its value
constexpr int kBatchColumnsAfterShape = 3;
constexpr int kCeilingCount = 5;
// The query's log ceilings, then their log ratios to the anchor's.
constexpr int kPhysicalFeatureCount = 2 * kCeilingCount;
// The query's and the anchor's BatchSemantics, last in the row.
constexpr int kBatchAxisColumns = 2;

double Log2(double x) { return std::log2(x); }

// log2 of the ceilings; NaN where unresolved.
std::array<double, kCeilingCount> LogCeilings(const std::optional<PhysicalCeilings>& ceilings) {
  if (!ceilings.has_value()) {
    std::array<double, kCeilingCount> missing;
    missing.fill(std::numeric_limits<double>::quiet_NaN());
    return missing;
  }
  const PhysicalCeilings& c = *ceilings;
  // Weights that do not fit leave no room for any sequence (llama.cpp on GH200 offloads them);
  // such a capacity is pinned at half a sequence so that it stays finite and ranks below every
  // configuration that fits one.
  return {Log2(c.roofline_output_tokens_per_s), Log2(c.decode_batch1_tokens_per_s),
          Log2(c.decode_tokens_per_s), Log2(c.prefill_tokens_per_s),
          Log2(std::max(c.kv_cache_capacity_sequences, 0.5))};
}

}  // namespace

ModelSize ParseModelSize(absl::string_view model) {
  const std::string name = absl::AsciiStrToLower(model.substr(model.rfind('/') + 1));
  // Take the last "<number>b" token: "llama-2-70b-hf", "qwen2-72b", "mixtral-8x7b", "bloom-7b1".
  ModelSize size{std::numeric_limits<double>::quiet_NaN(), 1};
  for (size_t i = 0; i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i])) ||
        (i > 0 && (std::isalnum(static_cast<unsigned char>(name[i - 1])) && name[i - 1] != 'x'))) {
      continue;
    }
    size_t end = i;
    while (end < name.size() &&
           (std::isdigit(static_cast<unsigned char>(name[end])) || name[end] == '.')) {
      ++end;
    }
    if (end >= name.size()) continue;
    double value = 0;
    if (!absl::SimpleAtod(name.substr(i, end - i), &value)) continue;
    if (name[end] == 'b') {
      // "7b1" reads as 7.1 billion.
      if (end + 1 < name.size() && std::isdigit(static_cast<unsigned char>(name[end + 1]))) {
        value += (name[end + 1] - '0') / 10.0;
      }
      size.billions_of_parameters = value;
      if (i >= 2 && name[i - 1] == 'x') {
        int experts = 0;
        size_t start = i - 1;
        while (start > 0 && std::isdigit(static_cast<unsigned char>(name[start - 1]))) --start;
        if (absl::SimpleAtoi(name.substr(start, i - 1 - start), &experts)) size.experts = experts;
      }
    }
    i = end;
  }
  return size;
}

FeatureVocabulary FeatureVocabulary::FromConfigurations(
    absl::Span<const Configuration> configurations) {
  std::set<std::string> hardware, frameworks, precisions;
  for (const Configuration& c : configurations) {
    hardware.insert(c.hardware);
    frameworks.insert(c.framework);
    precisions.insert(c.precision);
  }
  return FeatureVocabulary{{hardware.begin(), hardware.end()},
                           {frameworks.begin(), frameworks.end()},
                           {precisions.begin(), precisions.end()}};
}

void FeatureVocabulary::EncodeTo(ByteWriter& writer) const {
  for (const std::vector<std::string>* values : {&hardware, &frameworks, &precisions}) {
    writer.PutStrings(*values);
  }
}

absl::StatusOr<FeatureVocabulary> FeatureVocabulary::DecodeFrom(ByteReader& reader) {
  // More names than any catalogue holds is a corrupt count, not a vocabulary.
  constexpr uint32_t kMaxNames = 1000000;
  FeatureVocabulary vocabulary;
  for (std::vector<std::string>* values :
       {&vocabulary.hardware, &vocabulary.frameworks, &vocabulary.precisions}) {
    PERFCAST_ASSIGN_OR_RETURN(
        *values, reader.GetStrings(kMaxNames, "bundle: feature vocabulary: too many names"));
  }
  return vocabulary;
}

TransferFeatures::TransferFeatures(FeatureVocabulary vocabulary,
                                   std::shared_ptr<const Catalogue> catalogue, bool batch_axes)
    : vocabulary_(std::move(vocabulary)),
      catalogue_(std::move(catalogue)),
      column_count_(kNumericFeatureCount + 2 * static_cast<int>(vocabulary_.hardware.size()) +
                    2 * static_cast<int>(vocabulary_.frameworks.size()) +
                    static_cast<int>(vocabulary_.precisions.size()) +
                    (catalogue_ != nullptr ? kPhysicalFeatureCount : 0) +
                    (batch_axes ? kBatchAxisColumns : 0)),
      batch_axes_(batch_axes) {
  hardware_positions_ = PositionsOf(vocabulary_.hardware);
  framework_positions_ = PositionsOf(vocabulary_.frameworks);
  precision_positions_ = PositionsOf(vocabulary_.precisions);
  if (catalogue_ == nullptr) return;
  std::set<std::string> stacks;
  for (const AcceleratorSpec& a : catalogue_->accelerators()) {
    if (!a.software_stack.empty()) stacks.insert(a.software_stack);
  }
  software_stacks_.assign(stacks.begin(), stacks.end());
  stack_positions_ = PositionsOf(software_stacks_);
  // Query stack, anchor stack, and whether they are the same.
  column_count_ += 2 * static_cast<int>(software_stacks_.size()) + 1;
}

TransferFeatures::Positions TransferFeatures::PositionsOf(const std::vector<std::string>& values) {
  Positions positions;
  for (size_t i = 0; i < values.size(); ++i) positions[values[i]].push_back(i);
  return positions;
}

void TransferFeatures::OneHot(const std::vector<std::string>& values, const Positions& positions,
                              absl::string_view value, absl::Span<float> out) {
  std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(values.size()),
            std::numeric_limits<float>::quiet_NaN());
  if (const auto it = positions.find(value); it != positions.end()) {
    for (const size_t i : it->second) out[i] = 1.0f;
  }
}

// What the catalogue says of a query and an anchor, looked up once for all batch sizes.
struct TransferFeatures::Pairing {
  std::optional<ResolvedConfiguration> query;
  std::optional<ResolvedConfiguration> anchor;
  absl::string_view stack;
  absl::string_view anchor_stack;
  bool same_configuration = false;
};

TransferFeatures::Pairing TransferFeatures::Pair(const Configuration& configuration,
                                                 const AnchorCurve& anchor) const {
  Pairing pairing;
  if (catalogue_ == nullptr) return pairing;
  const Configuration& from = anchor.curve().configuration;
  pairing.same_configuration = from == configuration;
  // An anchor of the query's own configuration, or hardware, resolves as the query does.
  pairing.query = catalogue_->LookupConfiguration(configuration);
  pairing.anchor =
      pairing.same_configuration ? pairing.query : catalogue_->LookupConfiguration(from);
  pairing.stack = catalogue_->SoftwareStackOf(configuration.hardware);
  pairing.anchor_stack = from.hardware == configuration.hardware
                             ? pairing.stack
                             : catalogue_->SoftwareStackOf(from.hardware);
  return pairing;
}

void TransferFeatures::WriteSharedColumns(const Configuration& configuration, const Shape& shape,
                                          const AnchorCurve& anchor, bool anchor_is_same_curve,
                                          const Pairing& pairing, absl::Span<float> out) const {
  constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
  const Configuration& from = anchor.curve().configuration;
  const Shape& from_shape = anchor.curve().shape;
  const ModelSize size = ParseModelSize(configuration.model);
  // Most anchors are of the query's model: its name is parsed once.
  const ModelSize from_size = from.model == configuration.model ? size : ParseModelSize(from.model);
  if (batch_axes_) {
    out[static_cast<size_t>(column_count_ - 2)] = static_cast<float>(configuration.batch_semantics);
    out[static_cast<size_t>(column_count_ - 1)] = static_cast<float>(from.batch_semantics);
  }
  float* f = out.data();
  ++f;  // kLog2BatchColumn (WriteBatchColumns)
  *f++ = Log2(shape.input_tokens);
  *f++ = Log2(shape.output_tokens);
  *f++ = Log2(from_shape.input_tokens) - Log2(shape.input_tokens);
  *f++ = Log2(from_shape.output_tokens) - Log2(shape.output_tokens);
  f += kBatchColumnsAfterShape;  // from kBatchOverAnchorMaxColumn (WriteBatchColumns)
  if (anchor.fit().has_value() && anchor.fit()->c > 0) {
    *f++ = std::log(anchor.fit()->c);
    *f++ = std::log(anchor.fit()->b);
    *f++ = anchor.fit()->a / anchor.fit()->c;
  } else {
    *f++ = kMissing;
    *f++ = kMissing;
    *f++ = kMissing;
  }
  *f++ = anchor.LastSegmentSlope();
  *f++ = static_cast<float>(anchor.curve().points.size());
  *f++ = Log2(configuration.num_gpus);
  *f++ = Log2(from.num_gpus) - Log2(configuration.num_gpus);
  *f++ = Log2(size.billions_of_parameters);
  *f++ = Log2(from_size.billions_of_parameters) - Log2(size.billions_of_parameters);
  *f++ = from.hardware == configuration.hardware;
  *f++ = from.framework == configuration.framework;
  *f++ = from.model == configuration.model;
  *f++ = from.precision == configuration.precision;
  *f++ = anchor_is_same_curve;
  *f++ = size.experts;
  absl::Span<float> rest = out.subspan(kNumericFeatureCount);
  OneHot(vocabulary_.hardware, hardware_positions_, configuration.hardware, rest);
  rest.remove_prefix(vocabulary_.hardware.size());
  OneHot(vocabulary_.hardware, hardware_positions_, from.hardware, rest);
  rest.remove_prefix(vocabulary_.hardware.size());
  OneHot(vocabulary_.frameworks, framework_positions_, configuration.framework, rest);
  rest.remove_prefix(vocabulary_.frameworks.size());
  OneHot(vocabulary_.frameworks, framework_positions_, from.framework, rest);
  rest.remove_prefix(vocabulary_.frameworks.size());
  OneHot(vocabulary_.precisions, precision_positions_, configuration.precision, rest);
  if (catalogue_ == nullptr) return;
  rest.remove_prefix(vocabulary_.precisions.size());
  rest.remove_prefix(kPhysicalFeatureCount);  // the batch size's (WriteBatchColumns)
  const absl::string_view stack = pairing.stack;
  const absl::string_view from_stack = pairing.anchor_stack;
  OneHot(software_stacks_, stack_positions_, stack, rest);
  rest.remove_prefix(software_stacks_.size());
  OneHot(software_stacks_, stack_positions_, from_stack, rest);
  rest.remove_prefix(software_stacks_.size());
  rest[0] =
      stack.empty() || from_stack.empty() ? kMissing : static_cast<float>(stack == from_stack);
}

CatalogueTransfer TransferFeatures::WriteBatchColumns(const Shape& shape, const AnchorCurve& anchor,
                                                      const Pairing& pairing, double batch_size,
                                                      absl::Span<float> out) const {
  out[kLog2BatchColumn] = Log2(batch_size);
  out[kBatchOverAnchorMaxColumn] = Log2(batch_size / anchor.max_batch_size());
  out[kBatchOverAnchorMaxColumn + 1] = Log2(batch_size / anchor.min_batch_size());
  out[kBatchOverAnchorMaxColumn + 2] = std::log(anchor.ThroughputAt(batch_size));
  if (catalogue_ == nullptr) return {};
  absl::Span<float> physical =
      out.subspan(kNumericFeatureCount + 2 * vocabulary_.hardware.size() +
                  2 * vocabulary_.frameworks.size() + vocabulary_.precisions.size());
  std::optional<PhysicalCeilings> query_ceilings;
  std::optional<PhysicalCeilings> anchor_ceilings;
  if (pairing.query.has_value()) {
    query_ceilings = ComputePhysicalCeilings(*pairing.query, shape, batch_size);
  }
  if (pairing.anchor.has_value()) {
    anchor_ceilings = ComputePhysicalCeilings(*pairing.anchor, anchor.curve().shape, batch_size);
  }
  const std::array<double, kCeilingCount> query = LogCeilings(query_ceilings);
  const std::array<double, kCeilingCount> from_anchor = LogCeilings(anchor_ceilings);
  for (int i = 0; i < kCeilingCount; ++i) {
    physical[i] = static_cast<float>(query[i]);
    physical[kCeilingCount + i] = static_cast<float>(query[i] - from_anchor[i]);
  }
  CatalogueTransfer transfer;
  transfer.same_software_stack = !pairing.stack.empty() && pairing.stack == pairing.anchor_stack;
  if (!query_ceilings.has_value()) return transfer;
  const double query_roofline =
      KvCappedRoofline(*pairing.query, shape, batch_size, *query_ceilings);
  if (query_roofline > 0) transfer.query_log_roofline = std::log(query_roofline);
  if (!anchor_ceilings.has_value()) return transfer;
  const Shape& anchor_shape = anchor.curve().shape;
  const bool same_shape = shape == anchor_shape;
  // The query's configuration at the anchor's shape: the step in shape and the step in
  // configuration are each read with the other held still.
  const PhysicalCeilings query_at_anchor_shape =
      same_shape ? *query_ceilings
      : pairing.same_configuration
          ? *anchor_ceilings
          : ComputePhysicalCeilings(*pairing.query, anchor_shape, batch_size);
  if (!same_shape) {
    const double step = query_roofline / KvCappedRoofline(*pairing.query, anchor_shape, batch_size,
                                                          query_at_anchor_shape);
    if (step > 0 && std::isfinite(step)) transfer.shape_log_ratio = std::log(step);
  }
  if (pairing.same_configuration) return transfer;
  const double ratio =
      query_at_anchor_shape.decode_tokens_per_s / anchor_ceilings->decode_tokens_per_s;
  const double across_shapes =
      query_ceilings->decode_tokens_per_s / anchor_ceilings->decode_tokens_per_s;
  if (ratio > 0 && std::isfinite(ratio)) transfer.physical_log_ratio = std::log(ratio);
  if (across_shapes > 0 && std::isfinite(across_shapes)) {
    transfer.decode_log_ratio = std::log(across_shapes);
  }
  return transfer;
}

CatalogueTransfer TransferFeatures::WriteHeldBatchColumns(const Shape& shape,
                                                          const AnchorCurve& anchor,
                                                          const Pairing& pairing, double batch_size,
                                                          double largest_feature_batch,
                                                          absl::Span<float> out) const {
  if (!(batch_size > largest_feature_batch)) {
    return WriteBatchColumns(shape, anchor, pairing, batch_size, out);
  }
  std::vector<float> at_asked_batch(out.size());
  const CatalogueTransfer transfer =
      WriteBatchColumns(shape, anchor, pairing, batch_size, absl::MakeSpan(at_asked_batch));
  WriteBatchColumns(shape, anchor, pairing, largest_feature_batch, out);
  return transfer;
}

CatalogueTransfer TransferFeatures::Compute(const Configuration& configuration, const Shape& shape,
                                            const AnchorCurve& anchor, bool anchor_is_same_curve,
                                            double batch_size, absl::Span<float> out,
                                            double largest_feature_batch) const {
  const Pairing pairing = Pair(configuration, anchor);
  WriteSharedColumns(configuration, shape, anchor, anchor_is_same_curve, pairing, out);
  return WriteHeldBatchColumns(shape, anchor, pairing, batch_size, largest_feature_batch, out);
}

void TransferFeatures::ComputeEach(const Configuration& configuration, const Shape& shape,
                                   const AnchorCurve& anchor, bool anchor_is_same_curve,
                                   absl::Span<const double> batch_sizes, absl::Span<float> rows,
                                   absl::Span<CatalogueTransfer> transfers,
                                   double largest_feature_batch) const {
  if (batch_sizes.empty()) return;
  const Pairing pairing = Pair(configuration, anchor);
  const auto columns = static_cast<size_t>(column_count_);
  WriteSharedColumns(configuration, shape, anchor, anchor_is_same_curve, pairing,
                     rows.first(columns));
  for (size_t b = 0; b < batch_sizes.size(); ++b) {
    absl::Span<float> row = rows.subspan(b * columns, columns);
    if (b > 0) std::copy(rows.begin(), rows.begin() + columns, row.begin());
    transfers[b] =
        WriteHeldBatchColumns(shape, anchor, pairing, batch_sizes[b], largest_feature_batch, row);
  }
}

}  // namespace perfcast
