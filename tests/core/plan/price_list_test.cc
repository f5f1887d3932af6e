#include "core/plan/price_list.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;

TEST(PriceListTest, ReadsTheTwoColumnsInAnyOrder) {
  auto prices =
      PriceList::ParseCsv("usd_per_gpu_hour,region,hardware\n2.5,eu,H100\n1.25,us,A100\n", "p");
  ASSERT_TRUE(prices.ok()) << prices.status();
  EXPECT_EQ(prices->size(), 2u);
  EXPECT_EQ(prices->Find("H100", nullptr), 2.5);
  EXPECT_EQ(prices->Find("A100", nullptr), 1.25);
  EXPECT_FALSE(prices->Find("B200", nullptr).has_value());
}

TEST(PriceListTest, BadRowsAreNamedByLine) {
  EXPECT_THAT(PriceList::ParseCsv("hardware,price\nH100,2\n", "p.csv").status().message(),
              HasSubstr("p.csv:1: the header needs"));
  EXPECT_THAT(
      PriceList::ParseCsv("hardware,usd_per_gpu_hour\nH100,-2\n", "p.csv").status().message(),
      HasSubstr("p.csv:2: usd_per_gpu_hour '-2'"));
  EXPECT_THAT(PriceList::ParseCsv("hardware,usd_per_gpu_hour\nH100,2\nH100,3\n", "p.csv")
                  .status()
                  .message(),
              HasSubstr("p.csv:3: hardware 'H100' is priced twice"));
  EXPECT_THAT(PriceList::ParseCsv("hardware,usd_per_gpu_hour\n,2\n", "p.csv").status().message(),
              HasSubstr("p.csv:2: empty hardware"));
}

TEST(PriceListTest, EntriesAreCheckedAndNamedByIndex) {
  EXPECT_THAT(PriceList::FromEntries({{"H100", 2}, {"A100", 0}}).status().message(),
              HasSubstr("entries[1].usd_per_gpu_hour=0"));
  EXPECT_THAT(PriceList::FromEntries({{"", 2}}).status().message(),
              HasSubstr("entries[0].hardware"));
  auto list = PriceList::FromEntries({{"B", 2}, {"A", 1}});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->entries().size(), 2u);
  EXPECT_EQ(list->entries()[0].hardware, "A");
}

TEST(PriceListTest, AnotherSpellingOfOneCatalogueEntryFindsThePrice) {
  auto catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  const AcceleratorSpec* h100 = catalogue->LookupAccelerator("NVIDIA H100");
  ASSERT_NE(h100, nullptr);
  auto prices = PriceList::FromEntries({{h100->name, 2.5}});
  ASSERT_TRUE(prices.ok());
  EXPECT_EQ(prices->Find("NVIDIA H100", &*catalogue), 2.5);
  EXPECT_FALSE(prices->Find("NVIDIA A100", &*catalogue).has_value());
  EXPECT_TRUE(prices->CheckSpellings(&*catalogue).ok());
}

TEST(PriceListTest, TwoSpellingsOfOneHardwareAtTwoPricesAreAnError) {
  auto catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  const AcceleratorSpec* h100 = catalogue->LookupAccelerator("NVIDIA H100");
  ASSERT_NE(h100, nullptr);
  ASSERT_NE(h100->name, "NVIDIA H100");
  auto same = PriceList::FromEntries({{"NVIDIA H100", 2.5}, {h100->name, 2.5}});
  EXPECT_TRUE(same->CheckSpellings(&*catalogue).ok());
  auto two = PriceList::FromEntries({{"NVIDIA H100", 2.5}, {h100->name, 9}});
  const absl::Status status = two->CheckSpellings(&*catalogue);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("are one hardware"));
  EXPECT_TRUE(two->CheckSpellings(nullptr).ok());
}

}  // namespace
}  // namespace perfcast
