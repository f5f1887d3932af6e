#include "core/report/markup_escape.h"

#include "gtest/gtest.h"

namespace perfcast {
namespace {

TEST(MarkupEscapeTest, TurnsEveryMarkupCharacterIntoAReference) {
  EXPECT_EQ(EscapeMarkup("<a href='x' title=\"y\">&</a>"),
            "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;");
}

TEST(MarkupEscapeTest, KeepsPlainTextAndUtf8AsTheyAre) {
  EXPECT_EQ(EscapeMarkup("NVIDIA H100 x8 \xc2\xb5s"), "NVIDIA H100 x8 \xc2\xb5s");
}

TEST(MarkupEscapeTest, ReplacesControlCharactersXmlDisallowsButKeepsWhitespace) {
  EXPECT_EQ(EscapeMarkup(std::string("a\x01"
                                     "b\tc\n",
                                     6)),
            "a?b\tc\n");
  EXPECT_EQ(EscapeMarkup(std::string("x\0y", 3)), "x?y");
}

}  // namespace
}  // namespace perfcast
