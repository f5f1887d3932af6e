// The memory rule against every measured run of the default data: a run that happened cannot be
// impossible (docs/METHOD.md §10).
#include "core/catalogue/memory_check.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_csv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;

constexpr char kDefaultData[] = PERFCAST_SOURCE_DIR "/data/default_benchmarks.csv";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(MemoryCheckTest, NoMeasuredRunOfTheDefaultDataIsImpossible) {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  const std::string text = ReadFile(kDefaultData);
  absl::StatusOr<CsvReadResult> read = ParseBenchmarkCsv(text, "default", BadRowPolicy::kSkip);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->record_lines.size(), read->records.size());
  std::vector<RunOrigin> origins;
  for (size_t i = 0; i < read->records.size(); ++i) {
    origins.push_back({absl::StrCat(read->record_lines[i]), read->record_num_gpus_given[i]});
  }

  const std::vector<CampaignMemoryCheck> checks =
      CheckMeasuredRunsFit(read->records, origins, &*catalogue, read->records.size());

  int judged = 0;
  for (const CampaignMemoryCheck& check : checks) {
    judged += check.fits + check.does_not_fit;
    for (const ImpossibleRun& run : check.impossible) {
      ADD_FAILURE() << "default_benchmarks.csv:" << run.location << " "
                    << run.configuration.ToString() << " batch " << run.batch_size << ": "
                    << run.reason;
    }
  }
  // Most runs are judged; the rest lack a precision or KV layout in the catalogue.
  EXPECT_GT(judged, 7000);
}

TEST(MemoryCheckTest, CountsPerCampaignAndListsTheFirstImpossibleRuns) {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  std::vector<BenchmarkRecord> records(4);
  for (BenchmarkRecord& record : records) {
    record.configuration = {"NVIDIA H100", 1, "vllm", "meta-llama/Llama-2-70b-hf", "fp16", "a"};
    record.shape = {128, 128};
    record.batch_size = 1;
  }
  records[2].configuration.num_gpus = 4;
  records[3].configuration.precision = "unknown";
  records[3].configuration.campaign = "";
  records.push_back(records[2]);
  const std::vector<RunOrigin> origins = {{"f:2"}, {"f:3"}, {"f:4"}, {"f:5"}, {"f:6", false}};

  const std::vector<CampaignMemoryCheck> checks =
      CheckMeasuredRunsFit(records, origins, &*catalogue, 1);

  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].campaign, "a");
  EXPECT_EQ(checks[0].fits, 1);
  EXPECT_EQ(checks[0].does_not_fit, 2);
  // f:6 is f:4 without its GPU count: unknown, not judged as one GPU.
  EXPECT_EQ(checks[0].unknown, 1);
  EXPECT_THAT(checks[0].unknown_reasons.begin()->first, HasSubstr("num_gpus is not recorded"));
  ASSERT_EQ(checks[0].impossible.size(), 1u);
  EXPECT_EQ(checks[0].impossible[0].location, "f:2");
  EXPECT_THAT(checks[0].impossible[0].reason, HasSubstr("weights 128.5 GiB per GPU"));
  EXPECT_EQ(checks[1].campaign, "(none)");
  EXPECT_EQ(checks[1].unknown, 1);
  EXPECT_EQ(checks[1].unknown_reasons.size(), 1u);
}

}  // namespace
}  // namespace perfcast
