#include "core/model/physical_exponents.h"

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/catalogue/catalogue.h"
#include "core/catalogue/physical_features.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

TEST(PhysicalExponentsTest, OneExponentPerAnchorKind) {
  const PhysicalExponents exponents{.same_hardware = 0.1, .same_stack = 0.2, .other_stack = 0.3};
  EXPECT_EQ(exponents.For(AnchorKind::kSameHardware), 0.1);
  EXPECT_EQ(exponents.For(AnchorKind::kSameStack), 0.2);
  EXPECT_EQ(exponents.For(AnchorKind::kOtherStack), 0.3);
}

TEST(PhysicalExponentsTest, TheKindFollowsTheHardwareAndItsSoftwareStack) {
  const Configuration h100{"NVIDIA H100", 1, "vllm", "m", "fp16"};
  const Configuration a100{"NVIDIA A100", 1, "vllm", "m", "fp16"};
  const Configuration h100_other_model{"NVIDIA H100", 2, "sglang", "m2", "fp8"};
  CatalogueTransfer same_stack;
  same_stack.same_software_stack = true;
  const CatalogueTransfer other_stack;
  EXPECT_EQ(AnchorKindOf(h100, h100_other_model, other_stack), AnchorKind::kSameHardware);
  EXPECT_EQ(AnchorKindOf(h100, a100, same_stack), AnchorKind::kSameStack);
  EXPECT_EQ(AnchorKindOf(h100, a100, other_stack), AnchorKind::kOtherStack);
}

TEST(PhysicalExponentsTest, TheShapesStepHasItsOwnPowerAndAnOlderBundleScalesTheDecodeRatio) {
  CatalogueTransfer transfer;
  transfer.physical_log_ratio = 0.4;
  transfer.decode_log_ratio = 1.0;
  transfer.shape_log_ratio = -2.0;
  PhysicalExponents exponents{.same_hardware = 0.5, .same_stack = 0.25, .other_stack = 0.1};
  // Format 17 or older: the decode ratio across shape and configuration, to the kind's power.
  EXPECT_DOUBLE_EQ(exponents.LogScale(AnchorKind::kSameHardware, transfer), 0.5);
  EXPECT_DOUBLE_EQ(exponents.LogScale(AnchorKind::kOtherStack, transfer), 0.1);
  // Format 18: the configuration's step at the anchor's shape, then the roofline's shape step.
  exponents.shape = 0.75;
  EXPECT_DOUBLE_EQ(exponents.LogScale(AnchorKind::kSameHardware, transfer), 0.2 - 1.5);
  EXPECT_DOUBLE_EQ(exponents.LogScale(AnchorKind::kSameStack, transfer), 0.1 - 1.5);
}

TEST(PhysicalExponentsTest, APredictionIsHeldAtTheCeilingOfItsRoofline) {
  CatalogueTransfer transfer;
  transfer.query_log_roofline = std::log(1000.0);
  PhysicalExponents exponents;
  EXPECT_EQ(exponents.Ceiled(std::log(5000.0), transfer), std::log(5000.0));
  exponents.efficiency_ceiling = 1.25;
  EXPECT_DOUBLE_EQ(exponents.Ceiled(std::log(5000.0), transfer), std::log(1250.0));
  EXPECT_EQ(exponents.Ceiled(std::log(800.0), transfer), std::log(800.0));
  transfer.query_log_roofline = NAN;  // a configuration the catalogue cannot resolve
  EXPECT_EQ(exponents.Ceiled(std::log(5000.0), transfer), std::log(5000.0));
}

TEST(PhysicalExponentsTest, TheShapesExponentAndTheCeilingRoundTripPresentOrAbsent) {
  for (const std::optional<double> value : {std::optional<double>(), std::optional<double>(0.8)}) {
    ByteWriter writer;
    PhysicalExponents{.shape = value, .efficiency_ceiling = value}.EncodeShapeAndCeilingTo(writer);
    const std::string bytes = writer.Take();
    ByteReader reader(bytes);
    PhysicalExponents decoded{.shape = 0.3, .efficiency_ceiling = 2};
    ASSERT_TRUE(decoded.DecodeShapeAndCeilingFrom(reader).ok());
    EXPECT_EQ(decoded.shape, value);
    EXPECT_EQ(decoded.efficiency_ceiling, value);
    EXPECT_TRUE(reader.empty());
  }
}

TEST(PhysicalExponentsTest, ABadShapeExponentOrCeilingIsDataLoss) {
  std::vector<ByteWriter> writers(1);
  writers[0].PutU32(2);
  for (const PhysicalExponents& bad :
       {PhysicalExponents{.shape = 1.5}, PhysicalExponents{.shape = NAN},
        PhysicalExponents{.efficiency_ceiling = 0}, PhysicalExponents{.efficiency_ceiling = -1},
        PhysicalExponents{.efficiency_ceiling = INFINITY},
        PhysicalExponents{.efficiency_ceiling = NAN}}) {
    writers.emplace_back();
    bad.EncodeShapeAndCeilingTo(writers.back());
  }
  for (ByteWriter& writer : writers) {
    const std::string bytes = writer.Take();
    ByteReader reader(bytes);
    PhysicalExponents decoded;
    EXPECT_EQ(decoded.DecodeShapeAndCeilingFrom(reader).code(), absl::StatusCode::kDataLoss);
  }
}

TEST(EfficiencyCeilingTest, IsTheQuantileOfThroughputOverTheKvCappedRoofline) {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  const Configuration h100{"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};
  const ResolvedConfiguration resolved = *catalogue->Resolve(h100);
  const Shape shape{2048, 2048};
  // 100 points at 0.01, 0.02, ..., 1.00 of their rooflines, the last batches past the KV cache's
  // capacity (where the roofline holds at the capacity's).
  std::vector<AnchorCurve> anchors;
  for (int c = 0; c < 10; ++c) {
    Curve curve{h100, shape, {}};
    for (int p = 0; p < 10; ++p) {
      const int batch = 1 << p;
      const double share = (10 * p + c + 1) / 100.0;
      curve.points.push_back({batch, share * KvCappedRoofline(resolved, shape, batch)});
    }
    anchors.emplace_back(std::move(curve));
  }
  ASSERT_LT(ComputePhysicalCeilings(resolved, shape, 1).kv_cache_capacity_sequences, 512);
  // The nearest rank: 99 of the 100 are at or below 0.99, and 50 at or below 0.50.
  const std::optional<double> ceiling = EfficiencyCeilingOf(&*catalogue, anchors, 0.99);
  ASSERT_TRUE(ceiling.has_value());
  EXPECT_NEAR(*ceiling, 0.99, 1e-9);
  EXPECT_NEAR(*EfficiencyCeilingOf(&*catalogue, anchors, 0.5), 0.50, 1e-9);
  EXPECT_FALSE(EfficiencyCeilingOf(nullptr, anchors, 0.99).has_value());
  anchors.pop_back();  // 90 points: too few for a 99th percentile that is not the largest
  EXPECT_FALSE(EfficiencyCeilingOf(&*catalogue, anchors, 0.99).has_value());
}

TEST(PhysicalExponentsTest, RoundTrip) {
  const PhysicalExponents exponents{.same_hardware = 0, .same_stack = 0.75, .other_stack = 1};
  ByteWriter writer;
  exponents.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::StatusOr<PhysicalExponents> decoded = PhysicalExponents::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->same_hardware, 0);
  EXPECT_EQ(decoded->same_stack, 0.75);
  EXPECT_EQ(decoded->other_stack, 1);
  EXPECT_TRUE(reader.empty());
}

TEST(PhysicalExponentsTest, AnExponentOutsideZeroToOneIsDataLoss) {
  ByteWriter writer;
  PhysicalExponents{.same_hardware = 0.5, .same_stack = 1.5, .other_stack = 0}.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::Status status = PhysicalExponents::DecodeFrom(reader).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "bundle: a physical exponent is outside [0, 1]");
}

}  // namespace
}  // namespace perfcast
