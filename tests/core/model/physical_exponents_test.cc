#include "core/model/physical_exponents.h"

#include <cmath>
#include <optional>
#include <string>

#include "absl/status/status.h"
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

TEST(PhysicalExponentsTest, TheShapesExponentRoundTripsPresentOrAbsent) {
  for (const std::optional<double> shape : {std::optional<double>(), std::optional<double>(0.8)}) {
    ByteWriter writer;
    PhysicalExponents{.shape = shape}.EncodeShapeTo(writer);
    const std::string bytes = writer.Take();
    ByteReader reader(bytes);
    PhysicalExponents decoded{.shape = 0.3};
    ASSERT_TRUE(decoded.DecodeShapeFrom(reader).ok());
    EXPECT_EQ(decoded.shape, shape);
    EXPECT_TRUE(reader.empty());
  }
}

TEST(PhysicalExponentsTest, ABadShapeExponentIsDataLoss) {
  ByteWriter marker;
  marker.PutU32(2);
  ByteWriter outside;
  PhysicalExponents{.shape = 1.5}.EncodeShapeTo(outside);
  ByteWriter not_a_number;
  PhysicalExponents{.shape = NAN}.EncodeShapeTo(not_a_number);
  for (ByteWriter* writer : {&marker, &outside, &not_a_number}) {
    const std::string bytes = writer->Take();
    ByteReader reader(bytes);
    PhysicalExponents decoded;
    EXPECT_EQ(decoded.DecodeShapeFrom(reader).code(), absl::StatusCode::kDataLoss);
  }
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
