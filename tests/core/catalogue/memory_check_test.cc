// The memory rule against every measured run of the default data: a run that happened cannot be
// impossible (docs/METHOD.md §10).
#include "core/catalogue/memory_check.h"

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_csv.h"
#include "core/data/csv_reader.h"
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

// The `notes` cell of each line of the CSV.
std::map<int, std::string> NotesByLine(const std::string& text) {
  CsvReader reader(text);
  CsvRecord record;
  reader.Next(record);
  const std::vector<std::string> header = record.fields;
  size_t notes = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "notes") notes = i;
  }
  std::map<int, std::string> out;
  while (reader.Next(record)) {
    if (notes < record.fields.size()) out[record.line] = record.fields[notes];
  }
  return out;
}

// AIConfigurator's convention is tp x attention_dp == moe_tp x moe_ep GPUs per worker; a row whose
// MoE layout spans more GPUs than its num_gpus contradicts itself, and its GPU count, not the
// memory rule, is what is wrong (reported, not edited: the data stays as published).
bool LayoutSpansMoreGpus(const std::string& notes, int num_gpus) {
  static const std::regex layout(R"(tp(\d+) pp(\d+) attention_dp(\d*) moe_tp(\d+) moe_ep(\d+))");
  std::smatch match;
  if (!std::regex_search(notes, match, layout)) return false;
  return std::stoi(match[4]) * std::stoi(match[5]) > num_gpus;
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

  const std::map<int, std::string> notes = NotesByLine(text);
  int judged = 0;
  int self_contradicting = 0;
  for (const CampaignMemoryCheck& check : checks) {
    judged += check.fits + check.does_not_fit;
    for (const ImpossibleRun& run : check.impossible) {
      const int line = std::stoi(run.location);
      if (LayoutSpansMoreGpus(notes.at(line), run.configuration.num_gpus)) {
        ++self_contradicting;
        continue;
      }
      ADD_FAILURE() << "default_benchmarks.csv:" << run.location << " "
                    << run.configuration.ToString() << " batch " << run.batch_size << ": "
                    << run.reason;
    }
  }
  // Most runs are judged (the rest lack a precision or KV layout in the catalogue), and the only
  // runs called impossible are the 13 AIConfigurator rows whose recorded MoE layout spans 2 or 4
  // GPUs while num_gpus says 1.
  EXPECT_GT(judged, 7000);
  EXPECT_EQ(self_contradicting, 13);
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
