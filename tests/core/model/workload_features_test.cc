#include "core/model/workload_features.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/catalogue/physical_features.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

constexpr int kPhysicalColumns = 10;
// One-hot software stack of the query and of the anchor over the shipped catalogue's five
// (CUDA, ROCm, oneAPI, SynapseAI, SambaFlow), then whether the two are the same.
constexpr int kStackColumns = 2 * 5 + 1;

std::shared_ptr<const Catalogue> ShippedCatalogue() {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  EXPECT_TRUE(catalogue.ok()) << catalogue.status();
  return std::make_shared<const Catalogue>(*std::move(catalogue));
}

AnchorCurve Anchor(const Configuration& configuration, const Shape& shape) {
  return AnchorCurve(Curve{configuration, shape, {{1, 100}, {16, 1000}, {64, 2500}}});
}

const Configuration kH100{"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};
const Configuration kMi300x{"AMD MI300X", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};

FeatureVocabulary Vocabulary() {
  return FeatureVocabulary::FromConfigurations(std::vector<Configuration>{kH100, kMi300x});
}

// The offset in row[first, first + count) of a one-hot's single 1, or -1 unless the others are
// all missing (NaN, which XGBoost leaves out of its training matrix).
int SetColumn(const std::vector<float>& row, int first, int count) {
  int set = -1;
  for (int i = 0; i < count; ++i) {
    const float value = row[first + i];
    if (value == 1 && set < 0) {
      set = i;
    } else if (!std::isnan(value)) {
      return -1;
    }
  }
  return set;
}

std::vector<float> Row(const TransferFeatures& features, const Configuration& query,
                       const AnchorCurve& anchor) {
  std::vector<float> row(features.column_count());
  features.Compute(query, {1024, 1024}, anchor, false, 32, absl::MakeSpan(row));
  return row;
}

// The columns before the catalogue's and the batch axes', which later layouts append.
int BaseColumnCount() { return TransferFeatures(Vocabulary(), nullptr, false).column_count(); }

TEST(TransferFeaturesTest, WithoutACatalogueTheColumnsAreUnchanged) {
  const TransferFeatures plain(Vocabulary(), nullptr, /*batch_axes=*/false);
  const TransferFeatures physical(Vocabulary(), ShippedCatalogue(), /*batch_axes=*/false);
  const AnchorCurve anchor = Anchor(kMi300x, {512, 512});

  const std::vector<float> plain_row = Row(plain, kH100, anchor);
  const std::vector<float> physical_row = Row(physical, kH100, anchor);

  // 23 numeric columns, hardware and framework one-hots for query and anchor, precision one-hot.
  EXPECT_EQ(plain.column_count(), 23 + 2 * 2 + 2 * 1 + 1);
  ASSERT_EQ(physical.column_count(), plain.column_count() + kPhysicalColumns + kStackColumns);
  for (int i = 0; i < plain.column_count(); ++i) {
    EXPECT_EQ(std::memcmp(&plain_row[i], &physical_row[i], sizeof(float)), 0) << "column " << i;
  }
}

TEST(TransferFeaturesTest, AppendsTheQueryLogCeilingsAndTheirRatiosToTheAnchors) {
  const std::shared_ptr<const Catalogue> catalogue = ShippedCatalogue();
  const TransferFeatures features(Vocabulary(), catalogue);
  const AnchorCurve anchor = Anchor(kMi300x, {512, 512});

  const std::vector<float> row = Row(features, kH100, anchor);

  const PhysicalCeilings query =
      ComputePhysicalCeilings(*catalogue->Resolve(kH100), {1024, 1024}, 32);
  const PhysicalCeilings from =
      ComputePhysicalCeilings(*catalogue->Resolve(kMi300x), {512, 512}, 32);
  const int first = BaseColumnCount();
  EXPECT_FLOAT_EQ(row[first], std::log2(query.roofline_output_tokens_per_s));
  EXPECT_FLOAT_EQ(row[first + 2], std::log2(query.decode_tokens_per_s));
  EXPECT_FLOAT_EQ(row[first + 5], std::log2(query.roofline_output_tokens_per_s /
                                            from.roofline_output_tokens_per_s));
  EXPECT_FLOAT_EQ(row[first + 8],
                  std::log2(query.prefill_tokens_per_s / from.prefill_tokens_per_s));
}

// A static batch's roofline of `configuration` at `shape`, the batch held at the KV cache's
// capacity.
double CappedRoofline(const Catalogue& catalogue, const Configuration& configuration,
                      const Shape& shape, double batch_size) {
  const ResolvedConfiguration resolved = *catalogue.Resolve(configuration);
  const double capacity = ComputePhysicalCeilings(resolved, shape, 1).kv_cache_capacity_sequences;
  return ComputePhysicalCeilings(resolved, shape, std::min(batch_size, capacity))
      .roofline_output_tokens_per_s;
}

TEST(TransferFeaturesTest, TheShapesStepIsTheRooflinesAndTheConfigurationsIsAtTheAnchorsShape) {
  const std::shared_ptr<const Catalogue> catalogue = ShippedCatalogue();
  const TransferFeatures features(Vocabulary(), catalogue);
  const Shape prompts{2048, 128};
  const Shape anchor_shape{128, 128};
  std::vector<float> row(features.column_count());
  // Below the KV cache's capacity and far past it, where the batch is held there.
  for (const double batch : {32.0, 4096.0}) {
    SCOPED_TRACE(batch);
    const CatalogueTransfer own = features.Compute(kH100, prompts, Anchor(kH100, anchor_shape),
                                                   false, batch, absl::MakeSpan(row));
    EXPECT_DOUBLE_EQ(own.shape_log_ratio,
                     std::log(CappedRoofline(*catalogue, kH100, prompts, batch) /
                              CappedRoofline(*catalogue, kH100, anchor_shape, batch)));
    EXPECT_LT(own.shape_log_ratio, 0);  // the long prompts' prefill
    EXPECT_EQ(own.physical_log_ratio, 0);
    EXPECT_EQ(own.decode_log_ratio, 0);

    const CatalogueTransfer other = features.Compute(kH100, prompts, Anchor(kMi300x, anchor_shape),
                                                     false, batch, absl::MakeSpan(row));
    EXPECT_DOUBLE_EQ(other.shape_log_ratio, own.shape_log_ratio);
    const ResolvedConfiguration h100 = *catalogue->Resolve(kH100);
    const ResolvedConfiguration mi300x = *catalogue->Resolve(kMi300x);
    const double anchor_decode =
        ComputePhysicalCeilings(mi300x, anchor_shape, batch).decode_tokens_per_s;
    EXPECT_DOUBLE_EQ(
        other.physical_log_ratio,
        std::log(ComputePhysicalCeilings(h100, anchor_shape, batch).decode_tokens_per_s /
                 anchor_decode));
    EXPECT_DOUBLE_EQ(other.decode_log_ratio,
                     std::log(ComputePhysicalCeilings(h100, prompts, batch).decode_tokens_per_s /
                              anchor_decode));
  }
  const CatalogueTransfer same_shape = features.Compute(
      kH100, anchor_shape, Anchor(kMi300x, anchor_shape), false, 32, absl::MakeSpan(row));
  EXPECT_EQ(same_shape.shape_log_ratio, 0);
  EXPECT_DOUBLE_EQ(same_shape.decode_log_ratio, same_shape.physical_log_ratio);
}

TEST(TransferFeaturesTest, AConfigurationTheCatalogueLacksGetsMissingValues) {
  const TransferFeatures features(Vocabulary(), ShippedCatalogue());
  const Configuration unknown{"Acme X1", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};

  const std::vector<float> row = Row(features, unknown, Anchor(kH100, {1024, 1024}));

  const int first = BaseColumnCount();
  for (int i = first; i < first + kPhysicalColumns; ++i) {
    EXPECT_TRUE(std::isnan(row[i])) << "column " << i;
  }
  EXPECT_TRUE(std::isnan(row[row.size() - 3])) << "same-stack flag of an unknown accelerator";
}

TEST(TransferFeaturesTest, TheBatchAxesComeLastAndWithoutThemARowIsAnOlderBundles) {
  Configuration sweep = kH100;
  sweep.batch_semantics = BatchSemantics::kConcurrency;
  Configuration published = kMi300x;
  published.batch_semantics = BatchSemantics::kMaxThroughput;
  const AnchorCurve anchor = Anchor(published, {512, 512});
  const float query_axis = static_cast<float>(BatchSemantics::kConcurrency);
  const float anchor_axis = static_cast<float>(BatchSemantics::kMaxThroughput);
  ASSERT_NE(query_axis, anchor_axis);

  for (const std::shared_ptr<const Catalogue>& catalogue :
       {std::shared_ptr<const Catalogue>(), ShippedCatalogue()}) {
    const TransferFeatures with_axes(Vocabulary(), catalogue);
    const TransferFeatures without_axes(Vocabulary(), catalogue, /*batch_axes=*/false);
    // Rows start as NaN, so that a column nobody writes shows.
    std::vector<float> row(with_axes.column_count(), std::nanf(""));
    std::vector<float> older(without_axes.column_count(), std::nanf(""));
    with_axes.Compute(sweep, {1024, 1024}, anchor, false, 32, absl::MakeSpan(row));
    without_axes.Compute(sweep, {1024, 1024}, anchor, false, 32, absl::MakeSpan(older));

    ASSERT_EQ(row.size(), older.size() + 2);
    EXPECT_EQ(row[row.size() - 2], query_axis);
    EXPECT_EQ(row[row.size() - 1], anchor_axis);
    for (size_t i = 0; i < older.size(); ++i) {
      EXPECT_EQ(std::memcmp(&row[i], &older[i], sizeof(float)), 0) << "column " << i;
    }
    // ComputeEach writes them into every row, as Compute does.
    const double batch_sizes[] = {1, 64, 512};
    std::vector<float> rows(3 * row.size(), std::nanf(""));
    std::vector<CatalogueTransfer> transfers(3);
    with_axes.ComputeEach(sweep, {1024, 1024}, anchor, false, batch_sizes, absl::MakeSpan(rows),
                          absl::MakeSpan(transfers));
    for (size_t b = 0; b < 3; ++b) {
      EXPECT_EQ(rows[(b + 1) * row.size() - 2], query_axis);
      EXPECT_EQ(rows[(b + 1) * row.size() - 1], anchor_axis);
    }
  }
}

TEST(TransferFeaturesTest, OneHotsLeaveEveryColumnButTheirValueMissing) {
  const TransferFeatures features(Vocabulary());
  constexpr int kQueryHardware = 23, kAnchorHardware = 25;
  const Configuration b200{"NVIDIA B200", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};

  const std::vector<float> known = Row(features, kH100, Anchor(kMi300x, {512, 512}));
  const std::vector<float> unknown = Row(features, b200, Anchor(kH100, {512, 512}));

  EXPECT_GE(SetColumn(known, kQueryHardware, 2), 0);
  EXPECT_GE(SetColumn(known, kAnchorHardware, 2), 0);
  EXPECT_NE(SetColumn(known, kQueryHardware, 2), SetColumn(known, kAnchorHardware, 2));
  EXPECT_TRUE(std::isnan(unknown[kQueryHardware]) && std::isnan(unknown[kQueryHardware + 1]))
      << "hardware outside the vocabulary";
  EXPECT_EQ(SetColumn(unknown, kAnchorHardware, 2), SetColumn(known, kQueryHardware, 2));
}

TEST(TransferFeaturesTest, MarksTheSoftwareStacksOfQueryAndAnchorAndWhetherTheyMatch) {
  const std::shared_ptr<const Catalogue> catalogue = ShippedCatalogue();
  const TransferFeatures features(Vocabulary(), catalogue, /*batch_axes=*/false);
  const Configuration a100{"NVIDIA A100 SXM4 80GB", 1, "vllm", "meta-llama/Meta-Llama-3-8B",
                           "fp16"};

  const std::vector<float> across = Row(features, kH100, Anchor(kMi300x, {512, 512}));
  const std::vector<float> within = Row(features, kH100, Anchor(a100, {512, 512}));

  EXPECT_EQ(catalogue->SoftwareStackOf(kH100.hardware), "CUDA");
  EXPECT_EQ(catalogue->SoftwareStackOf(kMi300x.hardware), "ROCm");
  const int query_stack = features.column_count() - kStackColumns;
  const int anchor_stack = query_stack + 5;
  EXPECT_EQ(SetColumn(across, query_stack, 5), SetColumn(within, query_stack, 5));
  EXPECT_NE(SetColumn(across, query_stack, 5), SetColumn(across, anchor_stack, 5));
  EXPECT_EQ(SetColumn(within, query_stack, 5), SetColumn(within, anchor_stack, 5));
  EXPECT_EQ(across.back(), 0);
  EXPECT_EQ(within.back(), 1);
  std::vector<float> scratch(features.column_count());
  EXPECT_FALSE(features
                   .Compute(kH100, {1024, 1024}, Anchor(kMi300x, {512, 512}), false, 32,
                            absl::MakeSpan(scratch))
                   .same_software_stack);
  EXPECT_TRUE(features
                  .Compute(kH100, {1024, 1024}, Anchor(a100, {512, 512}), false, 32,
                           absl::MakeSpan(scratch))
                  .same_software_stack);
}

TEST(FeatureVocabularyTest, RoundTripKeepsTheColumnOrder) {
  const FeatureVocabulary vocabulary{
      .hardware = {"gpu-b", "gpu-a"}, .frameworks = {}, .precisions = {"fp16", "fp8", ""}};
  ByteWriter writer;
  vocabulary.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::StatusOr<FeatureVocabulary> decoded = FeatureVocabulary::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->hardware, vocabulary.hardware);
  EXPECT_EQ(decoded->frameworks, vocabulary.frameworks);
  EXPECT_EQ(decoded->precisions, vocabulary.precisions);
  EXPECT_TRUE(reader.empty());
}

TEST(FeatureVocabularyTest, ACountAboveAnyCatalogueIsDataLoss) {
  ByteWriter writer;
  writer.PutU32(4000000000u);  // hardware names claimed
  writer.PutString("gpu-a");
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  const absl::StatusOr<FeatureVocabulary> decoded = FeatureVocabulary::DecodeFrom(reader);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("feature vocabulary"), std::string::npos)
      << decoded.status();
}

}  // namespace
}  // namespace perfcast
