#include "core/util/byte_coding.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using namespace std::string_literals;

TEST(ByteCodingTest, EveryValueReadsBackAsWritten) {
  ByteWriter writer;
  writer.PutU32(0xdeadbeef);
  writer.PutI32(-7);
  writer.PutU64(0x0123456789abcdefull);
  writer.PutDouble(-0.1);
  writer.PutString("two\0words"s);
  writer.PutString("");
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  EXPECT_EQ(*reader.GetU32(), 0xdeadbeefu);
  EXPECT_EQ(*reader.GetI32(), -7);
  EXPECT_EQ(*reader.GetU64(), 0x0123456789abcdefull);
  EXPECT_EQ(*reader.GetDouble(), -0.1);
  EXPECT_EQ(*reader.GetString(), "two\0words"s);
  EXPECT_EQ(*reader.GetString(), "");
  EXPECT_TRUE(reader.empty());
}

TEST(ByteCodingTest, DoublesKeepTheirBits) {
  ByteWriter writer;
  writer.PutDouble(std::numeric_limits<double>::quiet_NaN());
  writer.PutDouble(-0.0);
  writer.PutDouble(std::numeric_limits<double>::infinity());
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  EXPECT_TRUE(std::isnan(*reader.GetDouble()));
  const double negative_zero = *reader.GetDouble();
  EXPECT_EQ(negative_zero, 0.0);
  EXPECT_TRUE(std::signbit(negative_zero));
  EXPECT_EQ(*reader.GetDouble(), std::numeric_limits<double>::infinity());
}

// Bundles written on one machine are read on another: the layout is fixed, not the host's.
TEST(ByteCodingTest, IntegersAreLittleEndianAndStringsCarryAU64Length) {
  ByteWriter writer;
  writer.PutU32(0x04030201);
  writer.PutString("ab");
  EXPECT_EQ(writer.Take(), "\x01\x02\x03\x04\x02\0\0\0\0\0\0\0ab"s);
}

TEST(ByteCodingTest, EveryReadPastTheEndIsDataLoss) {
  const std::string three_bytes = "abc";
  ByteReader u32(three_bytes);
  EXPECT_EQ(u32.GetU32().status().code(), absl::StatusCode::kDataLoss);
  ByteReader i32(three_bytes);
  EXPECT_EQ(i32.GetI32().status().code(), absl::StatusCode::kDataLoss);
  ByteReader u64(three_bytes);
  EXPECT_EQ(u64.GetU64().status().code(), absl::StatusCode::kDataLoss);
  ByteReader real(three_bytes);
  EXPECT_EQ(real.GetDouble().status().code(), absl::StatusCode::kDataLoss);
  ByteReader string(three_bytes);
  EXPECT_EQ(string.GetString().status().code(), absl::StatusCode::kDataLoss);
}

TEST(ByteCodingTest, AStringLongerThanWhatIsLeftIsDataLoss) {
  ByteWriter writer;
  writer.PutString("truncated");
  std::string bytes = writer.Take();
  bytes.pop_back();

  ByteReader reader(bytes);
  EXPECT_EQ(reader.GetString().status().code(), absl::StatusCode::kDataLoss);
}

TEST(ByteCodingTest, AFailedReadLeavesTheRestUnread) {
  ByteWriter writer;
  writer.PutU32(5);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  EXPECT_FALSE(reader.GetU64().ok());
  EXPECT_EQ(*reader.GetU32(), 5u);
  EXPECT_TRUE(reader.empty());
}

TEST(ByteCodingTest, StringListsReadBackAndAClaimedCountAboveTheBoundIsDataLoss) {
  ByteWriter writer;
  writer.PutStrings(std::vector<std::string>{"a", "", "ccc"});
  writer.PutStrings(std::vector<std::string>{});
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  const absl::StatusOr<std::vector<std::string>> three = reader.GetStrings(3, "too many");
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(*three, (std::vector<std::string>{"a", "", "ccc"}));
  const absl::StatusOr<std::vector<std::string>> none = reader.GetStrings(3, "too many");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(reader.empty());

  ByteReader bounded(bytes);
  const absl::StatusOr<std::vector<std::string>> over = bounded.GetStrings(2, "too many");
  EXPECT_EQ(over.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(over.status().message(), "too many");
}

TEST(ByteCodingTest, Fnv1a64MatchesThePublishedVectors) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ull);
}

}  // namespace
}  // namespace perfcast
