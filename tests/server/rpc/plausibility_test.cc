// The plausibility gate of submitted results (server/rpc/plausibility.h) against the real
// catalogue (data/catalogue/) and the default data (data/default_benchmarks.csv).
#include "server/rpc/plausibility.h"

#include <algorithm>
#include <optional>
#include <string>

#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_csv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast::server {
namespace {

using ::testing::HasSubstr;

const Catalogue& RealCatalogue() {
  static const Catalogue* catalogue = [] {
    absl::StatusOr<Catalogue> loaded = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new Catalogue(*std::move(loaded));
  }();
  return *catalogue;
}

BenchmarkRecord H100Llama8B(int batch_size, double throughput) {
  BenchmarkRecord record;
  record.configuration = {"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};
  record.shape = Shape{512, 512};
  record.batch_size = batch_size;
  record.throughput_tokens_per_s = throughput;
  record.source = "test";
  return record;
}

// The margin must leave every published measurement alone: the gate is for wild values.
TEST(PlausibilityTest, EveryResultOfTheDefaultDataIsPlausible) {
  absl::StatusOr<CsvReadResult> data =
      ReadBenchmarkCsv(PERFCAST_SOURCE_DIR "/data/default_benchmarks.csv", BadRowPolicy::kSkip);
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_GT(data->records.size(), 1000u);
  int bounded = 0;
  for (size_t i = 0; i < data->records.size(); ++i) {
    const BenchmarkRecord& record = data->records[i];
    std::optional<FieldError> error = CheckPlausible(record, &RealCatalogue(), "results[0]");
    EXPECT_FALSE(error.has_value()) << "row " << i << ": " << error->message;
    if (RealCatalogue().Resolve(record.configuration).ok()) ++bounded;
  }
  EXPECT_GT(bounded, 0) << "the catalogue bounded none of the default data";
}

TEST(PlausibilityTest, AThroughputFarAboveTheCeilingIsImplausibleAndNamed) {
  const std::optional<FieldError> error =
      CheckPlausible(H100Llama8B(8, 1.797e308), &RealCatalogue(), "results[3]");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->reason, "implausible");
  EXPECT_EQ(error->field, "throughput_tokens_per_second");
  EXPECT_THAT(error->message, HasSubstr("results[3].throughput_tokens_per_second=1.797e+308"));
  EXPECT_THAT(error->message, HasSubstr("physical ceiling"));
}

TEST(PlausibilityTest, AThroughputWithinTheMarginIsAccepted) {
  EXPECT_FALSE(CheckPlausible(H100Llama8B(8, 900), &RealCatalogue(), "result").has_value());
}

TEST(PlausibilityTest, WhatTheCatalogueCannotBoundIsAccepted) {
  BenchmarkRecord unknown = H100Llama8B(8, 1.797e308);
  unknown.configuration.hardware = "TPU-v9";
  EXPECT_FALSE(CheckPlausible(unknown, &RealCatalogue(), "result").has_value());
  EXPECT_FALSE(CheckPlausible(H100Llama8B(8, 1.797e308), nullptr, "result").has_value());
}

}  // namespace
}  // namespace perfcast::server
