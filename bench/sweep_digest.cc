// Predictions of a bundle over a wide sweep, reduced to one digest: every trained configuration
// and the same with twice its GPUs, at four shapes and 74 batch sizes, in both interval scopes,
// with every figure of every point. Two builds that print the same digest for one bundle predict
// the same everywhere the sweep looks; what is meant to be a speed-up must not move it.
// usage: perfcast_sweep_digest BUNDLE_DIR
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/bundle/model_bundle.h"
#include "core/model/perfcast_model.h"

namespace perfcast {
namespace {

// FNV-1a over the bytes of the figures, in the order they are fed.
class Digest {
 public:
  void Add(double value) { AddBytes(&value, sizeof value); }
  void Add(int64_t value) { AddBytes(&value, sizeof value); }
  void Add(const std::string& text) {
    Add(static_cast<int64_t>(text.size()));
    AddBytes(text.data(), text.size());
  }
  uint64_t value() const { return hash_; }

 private:
  void AddBytes(const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) hash_ = (hash_ ^ bytes[i]) * 0x100000001b3ULL;
  }
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

void AddPoint(const PointPrediction& p, Digest& digest) {
  for (double v :
       {p.throughput_tokens_per_s, p.lower_tokens_per_s, p.upper_tokens_per_s, p.batch_latency_s,
        p.expected_relative_error, p.ttft_s, p.ttft_lower_s, p.ttft_upper_s, p.itl_s, p.itl_lower_s,
        p.itl_upper_s, p.memory.required_gib_per_gpu, p.memory.available_gib_per_gpu}) {
    digest.Add(v);
  }
  for (int64_t v : {static_cast<int64_t>(p.batch_size), static_cast<int64_t>(p.prediction_case),
                    static_cast<int64_t>(p.memory.verdict),
                    static_cast<int64_t>(p.memory.largest_fitting_batch_size),
                    static_cast<int64_t>(p.latency_statistic)}) {
    digest.Add(v);
  }
  digest.Add(p.memory.reason);
}

int Run(const char* bundle_dir) {
  auto model = LoadBundle(bundle_dir);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  // More than 64 batch sizes, so that the tree walker's batches of 64 rows are crossed too.
  std::vector<int> batch_sizes;
  for (int b = 1; b <= 3000; b = std::max(b + 1, b * 11 / 10)) batch_sizes.push_back(b);
  const Shape shapes[] = {{128, 128}, {1000, 500}, {2048, 128}, {300, 2000}};
  Digest digest;
  int64_t points = 0, refused = 0;
  for (int doubled = 0; doubled < 2; ++doubled) {
    for (Configuration configuration : (*model)->Configurations()) {
      configuration.num_gpus <<= doubled;
      for (const Shape& shape : shapes) {
        for (IntervalScope scope : {IntervalScope::kEachPoint, IntervalScope::kWholeCurve}) {
          auto predicted = (*model)->Predict({configuration, shape}, batch_sizes, 0.9, scope);
          if (!predicted.ok()) {
            ++refused;
            digest.Add(std::string(predicted.status().message()));
            continue;
          }
          for (const PointPrediction& p : *predicted) AddPoint(p, digest), ++points;
        }
      }
    }
  }
  std::printf("%lld points, %lld queries refused, digest %016llx\n", static_cast<long long>(points),
              static_cast<long long>(refused), static_cast<unsigned long long>(digest.value()));
  return 0;
}

}  // namespace
}  // namespace perfcast

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s BUNDLE_DIR\n", argv[0]);
    return 2;
  }
  return perfcast::Run(argv[1]);
}
