#include "server/observability/status_page_request.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kListed[] =
    "system=NVIDIA+H100+x1+%7C+vllm+%7C+meta-llama%2FMeta-Llama-3-8B+%7C+fp16&hardware=&num_gpus="
    "&framework=&model=&precision=&campaign=&batch_semantics=static&input_tokens=1024"
    "&output_tokens=512&confidence=0.9";

// The message of the error `query` gets; fails the test when it parses.
std::string ErrorOf(const std::string& query) {
  const absl::StatusOr<std::optional<CurveRequest>> parsed = ParseStatusPageQuery(query);
  EXPECT_FALSE(parsed.ok()) << query;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(StatusPageRequestTest, NoQueryAsksForThePageAlone) {
  const absl::StatusOr<std::optional<CurveRequest>> parsed = ParseStatusPageQuery("");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->has_value());
}

TEST(StatusPageRequestTest, ReadsTheFormOfAListedConfigurationDecodingItsValues) {
  const absl::StatusOr<std::optional<CurveRequest>> parsed = ParseStatusPageQuery(kListed);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->has_value());
  const CurveRequest& request = **parsed;
  EXPECT_EQ(request.system, "NVIDIA H100 x1 | vllm | meta-llama/Meta-Llama-3-8B | fp16");
  EXPECT_EQ(request.query.shape, (Shape{1024, 512}));
  EXPECT_EQ(request.query.configuration.campaign, "");
  EXPECT_EQ(request.query.configuration.batch_semantics, BatchSemantics::kStatic);
  EXPECT_DOUBLE_EQ(request.confidence_level, 0.9);
}

TEST(StatusPageRequestTest, ReadsAConfigurationGivenFieldByField) {
  const absl::StatusOr<std::optional<CurveRequest>> parsed = ParseStatusPageQuery(
      "hardware=NVIDIA%20H200&num_gpus=8&framework=sglang&model=org%2Fm&precision=fp8"
      "&campaign=mine&batch_semantics=concurrency&input_tokens=2000&output_tokens=100"
      "&confidence=0.95");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Configuration& c = (*parsed)->query.configuration;
  EXPECT_EQ((*parsed)->system, "");
  EXPECT_EQ(c, (Configuration{"NVIDIA H200", 8, "sglang", "org/m", "fp8", "mine",
                              BatchSemantics::kConcurrency}));
  EXPECT_DOUBLE_EQ((*parsed)->confidence_level, 0.95);
}

TEST(StatusPageRequestTest, NumbersMustBeDigitsOnlyAndInRangeNamingTheField) {
  const std::string base = "system=s&output_tokens=1&input_tokens=";
  for (const char* bad : {"abc", "-5", "+5", "%2B5", "1e3", "0x10", "12.0", " 7", "0", "10000001",
                          "99999999999999999999"}) {
    EXPECT_THAT(ErrorOf(base + bad), StartsWith("input_tokens: ")) << bad;
  }
  EXPECT_THAT(ErrorOf("system=s&input_tokens=1"), StartsWith("output_tokens: required"));
  EXPECT_THAT(ErrorOf("hardware=h&framework=f&model=m&precision=p&num_gpus=70000&input_tokens=1"
                      "&output_tokens=1"),
              StartsWith("num_gpus: "));
}

TEST(StatusPageRequestTest, ALevelIsZeroPointAndUpToFourDigitsFromHalfTo99Percent) {
  const std::string base = "system=s&input_tokens=1&output_tokens=1&confidence=";
  for (const char* bad : {"1", "0.995", "0.4", ".9", "0.9x", "nan", "0.90000", "9e-1"}) {
    EXPECT_THAT(ErrorOf(base + bad), StartsWith("confidence: ")) << bad;
  }
  const absl::StatusOr<std::optional<CurveRequest>> parsed = ParseStatusPageQuery(base + "0.8");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_DOUBLE_EQ((*parsed)->confidence_level, 0.8);
}

TEST(StatusPageRequestTest, RefusesUnknownAndRepeatedFields) {
  EXPECT_THAT(ErrorOf("system=s&input_tokens=1&output_tokens=1&colour=red"),
              HasSubstr("'colour': not a field of this page"));
  EXPECT_THAT(ErrorOf("system=s&system=t&input_tokens=1&output_tokens=1"),
              StartsWith("system: given more than once"));
}

TEST(StatusPageRequestTest, RefusesBadEncodingOverlongAndControlCharacters) {
  const std::string base = "input_tokens=1&output_tokens=1&system=";
  EXPECT_THAT(ErrorOf(base + "a%2"), StartsWith("system: bad percent-encoding"));
  EXPECT_THAT(ErrorOf(base + "a%zz"), StartsWith("system: bad percent-encoding"));
  EXPECT_THAT(ErrorOf(base + "a%0Ab"), StartsWith("system: not UTF-8"));
  EXPECT_THAT(ErrorOf(base + "%C3%28"), StartsWith("system: not UTF-8"));
  EXPECT_THAT(ErrorOf(base + "%ED%A0%80"), StartsWith("system: not UTF-8"));  // a surrogate
  EXPECT_THAT(ErrorOf(base + std::string(257, 'a')), StartsWith("system: 257 bytes"));
  EXPECT_THAT(ErrorOf(std::string(5000, 'a')), HasSubstr("5000 bytes"));
}

TEST(StatusPageRequestTest, AConfigurationIsListedOrGivenFieldByFieldNeverBoth) {
  EXPECT_THAT(ErrorOf("system=s&hardware=h&input_tokens=1&output_tokens=1"),
              StartsWith("hardware: give a configuration from the list"));
  EXPECT_THAT(ErrorOf("system=&hardware=&input_tokens=1&output_tokens=1"),
              StartsWith("system: choose a configuration"));
  EXPECT_THAT(ErrorOf("hardware=h&framework=f&model=m&input_tokens=1&output_tokens=1"),
              StartsWith("precision: required"));
}

TEST(StatusPageRequestTest, QuotesAHostileValueCutShort) {
  const std::string message = ErrorOf(
      absl::StrCat("system=s&output_tokens=1&input_tokens=%3Cscript%3E", std::string(100, 'x')));
  EXPECT_THAT(message, HasSubstr("'<script>"));  // the page escapes it; the parser only quotes
  EXPECT_THAT(message, HasSubstr("...'"));
  EXPECT_LT(message.size(), 140u);
}

TEST(StatusPageRequestTest, RefusesAnUnknownBatchAxisAndAnOverlongCampaign) {
  EXPECT_THAT(ErrorOf("system=s&input_tokens=1&output_tokens=1&batch_semantics=dynamic"),
              StartsWith("batch_semantics: 'dynamic' is not static"));
  EXPECT_THAT(ErrorOf(absl::StrCat("system=s&input_tokens=1&output_tokens=1&campaign=",
                                   std::string(129, 'c'))),
              StartsWith("campaign: 129 bytes"));
}

}  // namespace
}  // namespace perfcast::server
