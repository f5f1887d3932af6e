#pragma once

#include <cmath>
#include <vector>

#include "core/data/benchmark_record.h"

namespace perfcast::testing {

// Benchmark records from a known law: a saturating curve whose ceiling grows with GPU count and
// hardware speed and falls with request length. No noise, so tests can reason about exact values.
inline std::vector<BenchmarkRecord> SyntheticRecords() {
  std::vector<BenchmarkRecord> records;
  const std::vector<std::pair<std::string, double>> hardware = {{"gpu-a", 1.0}, {"gpu-b", 1.8}};
  for (const auto& [name, speed] : hardware) {
    for (int gpus : {1, 2, 4}) {
      for (int tokens : {128, 256, 512, 1024}) {
        for (int batch : {1, 8, 16, 32, 64, 128}) {
          const double ceiling = 4000.0 * speed * std::pow(gpus, 0.8) / (1 + tokens / 800.0);
          const double rate = 0.03 * std::sqrt(256.0 / tokens);
          BenchmarkRecord record;
          record.configuration = {name, gpus, "vllm", "org/model-7b", "fp16"};
          record.shape = {tokens, tokens};
          record.batch_size = batch;
          record.throughput_tokens_per_s = ceiling * (1 - 0.95 * std::exp(-rate * batch));
          record.source = "synthetic";
          records.push_back(record);
        }
      }
    }
  }
  return records;
}

}  // namespace perfcast::testing
