#include "core/model/physical_exponents.h"

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
