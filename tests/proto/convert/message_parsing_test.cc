// Parsing request bytes (proto/convert/message_parsing.h): what a body that does not parse is
// told, and which bodies a strict parse refuses.
#include "proto/convert/message_parsing.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perfcast/v1/perfcast.pb.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;

// `message` serialized with every occurrence of `placeholder` replaced by as many 0xff bytes:
// the same wire layout, with strings that are not UTF-8 (a serializer would not write them).
std::string WithBadBytes(const google::protobuf::Message& message, const std::string& placeholder) {
  std::string bytes = message.SerializeAsString();
  for (size_t at = bytes.find(placeholder); at != std::string::npos;
       at = bytes.find(placeholder, at)) {
    bytes.replace(at, placeholder.size(), std::string(placeholder.size(), '\xff'));
  }
  return bytes;
}

TEST(MessageParsingTest, AValidMessageParses) {
  v1::RefitRequest request;
  request.set_wait(true);
  request.set_reason("nightly");
  v1::RefitRequest parsed;
  ASSERT_TRUE(ParseMessage(request.SerializeAsString(), "", UnknownFields::kRefuse, &parsed).ok());
  EXPECT_TRUE(parsed.wait());
  EXPECT_EQ(parsed.reason(), "nightly");
}

TEST(MessageParsingTest, AStringThatIsNotUtf8IsNamedByItsPath) {
  v1::SubmitBenchmarksRequest chunk;
  chunk.add_results()->set_source_id("fine");
  chunk.add_results()->mutable_configuration()->set_hardware("BADBYTES");
  v1::SubmitBenchmarksRequest parsed;
  const absl::Status status =
      ParseMessage(WithBadBytes(chunk, "BADBYTES"), "chunks[4]", UnknownFields::kIgnore, &parsed);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("chunks[4].results[1].configuration.hardware="));
  EXPECT_THAT(status.message(), HasSubstr("\\xff"));
  EXPECT_THAT(status.message(), HasSubstr("not valid UTF-8"));
}

TEST(MessageParsingTest, BytesThatAreNotProtobufSayWhatTheyAreNot) {
  v1::PredictRequest parsed;
  const absl::Status status =
      ParseMessage(std::string(50, '\xff'), "", UnknownFields::kIgnore, &parsed);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("50 bytes that are not a perfcast.v1.PredictRequest"));
}

TEST(MessageParsingTest, UnknownFieldsAreIgnoredOrRefusedAsAsked) {
  // Field 9, a string: no field of RefitRequest.
  const std::string bytes = std::string{static_cast<char>((9 << 3) | 2), 7} + "garbage";
  v1::RefitRequest parsed;
  EXPECT_TRUE(ParseMessage(bytes, "", UnknownFields::kIgnore, &parsed).ok());
  const absl::Status refused = ParseMessage(bytes, "", UnknownFields::kRefuse, &parsed);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(),
              HasSubstr("field number 9 is not a field of perfcast.v1.RefitRequest"));
}

TEST(MessageParsingTest, Utf8ValidationFollowsTheStandard) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // cut inside a character
}

}  // namespace
}  // namespace perfcast
