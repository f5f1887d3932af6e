#include "core/data/csv_reader.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Every record of `text`, in order.
std::vector<CsvRecord> ReadAll(const std::string& text) {
  CsvReader reader(text);
  std::vector<CsvRecord> records;
  CsvRecord record;
  while (reader.Next(record)) records.push_back(record);
  return records;
}

TEST(CsvReaderTest, SplitsPlainFieldsAndKeepsTheirWhitespace) {
  const std::vector<CsvRecord> records = ReadAll("a,b, c \n1,,3\n");

  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b", " c "));
  EXPECT_EQ(records[0].line, 1);
  EXPECT_TRUE(records[0].status.ok());
  EXPECT_THAT(records[1].fields, ElementsAre("1", "", "3"));
  EXPECT_EQ(records[1].line, 2);
}

TEST(CsvReaderTest, AQuotedFieldHoldsACommaInOneField) {
  const std::vector<CsvRecord> records = ReadAll("alias,\"GPU A, rev 2\",x\n");

  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("alias", "GPU A, rev 2", "x"));
  EXPECT_TRUE(records[0].status.ok());
}

TEST(CsvReaderTest, TwoQuotesInAQuotedFieldStandForOne) {
  const std::vector<CsvRecord> records = ReadAll("\"say \"\"hi\"\"\",\"\"\n");

  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("say \"hi\"", ""));
  EXPECT_TRUE(records[0].status.ok());
}

TEST(CsvReaderTest, AQuotedFieldSpansLinesAndLaterRecordsKeepTheirPhysicalLine) {
  const std::vector<CsvRecord> records = ReadAll(
      "a,\"first\nsecond\nthird\"\n"  // lines 1-3
      "b,c\n"                         // line 4
      "\n"                            // line 5, blank
      "d,e\n");                       // line 6

  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "first\nsecond\nthird"));
  EXPECT_EQ(records[0].line, 1);
  EXPECT_THAT(records[1].fields, ElementsAre("b", "c"));
  EXPECT_EQ(records[1].line, 4);
  EXPECT_EQ(records[2].line, 6);
}

TEST(CsvReaderTest, AnUnterminatedQuoteIsAnErrorAtTheLineItOpens) {
  const std::vector<CsvRecord> records = ReadAll("a,b\nc,\"open\nmore\n");

  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[1].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(records[1].status.message(), "unterminated quoted field");
}

TEST(CsvReaderTest, TextAfterAClosingQuoteIsAnErrorNamingTheField) {
  const std::vector<CsvRecord> records = ReadAll("a,\"b\"x,c\n");

  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(records[0].status.message(), "unexpected text after the closing quote of field 2");
}

TEST(CsvReaderTest, ReadingGoesOnAfterAMalformedRecord) {
  const std::vector<CsvRecord> records = ReadAll("\"a\"x,b\nc,d\n");

  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].status.ok());
  EXPECT_THAT(records[1].fields, ElementsAre("c", "d"));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_TRUE(records[1].status.ok());
}

TEST(CsvReaderTest, CrlfLineEndsAreNotPartOfTheLastField) {
  const std::vector<CsvRecord> records = ReadAll("a,\"b\"\r\n\r\nc,d\r\n");

  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b"));
  EXPECT_TRUE(records[0].status.ok());
  EXPECT_THAT(records[1].fields, ElementsAre("c", "d"));
  EXPECT_EQ(records[1].line, 3);
}

TEST(CsvReaderTest, ALeadingByteOrderMarkIsNotPartOfTheFirstField) {
  const std::vector<CsvRecord> records = ReadAll("\xEF\xBB\xBFname,value\n");

  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("name", "value"));
}

TEST(CsvReaderTest, BlankTextHasNoRecords) { EXPECT_THAT(ReadAll("\n\r\n"), IsEmpty()); }

}  // namespace
}  // namespace perfcast
