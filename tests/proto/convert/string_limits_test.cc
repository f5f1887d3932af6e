#include "proto/convert/string_limits.h"

#include <string>

#include "gtest/gtest.h"

namespace perfcast {
namespace {

TEST(TruncateUtf8Test, ShortStringsStayWhole) { EXPECT_EQ(TruncateUtf8("abc", 3), "abc"); }

TEST(TruncateUtf8Test, CutsAtTheLimitBetweenAsciiCharacters) {
  EXPECT_EQ(TruncateUtf8("abcdef", 4), "abcd");
}

TEST(TruncateUtf8Test, NeverCutsInsideAMultiByteCharacter) {
  // "é" is two bytes; "€" is three.
  EXPECT_EQ(TruncateUtf8("abé", 3), "ab");
  EXPECT_EQ(TruncateUtf8("a€b", 2), "a");
  EXPECT_EQ(TruncateUtf8("a€b", 3), "a");
  EXPECT_EQ(TruncateUtf8("a€b", 4), "a€");
}

TEST(QuoteForErrorTest, QuotesShortValuesWhole) { EXPECT_EQ(QuoteForError("x"), "'x'"); }

TEST(QuoteForErrorTest, CutsLongValuesAndSaysSo) {
  EXPECT_EQ(QuoteForError(std::string(100, 'n')), "'" + std::string(kMaxQuotedBytes, 'n') + "...'");
}

}  // namespace
}  // namespace perfcast
