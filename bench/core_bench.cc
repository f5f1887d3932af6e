// Hot paths of core/: `./build/bench/perfcast_core_bench` prints the time of one prediction
// served from a bundle (trained on the embedded default data, saved, loaded back) and of one
// analytic curve fit.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "core/bundle/model_bundle.h"
#include "core/catalogue/catalogue.h"
#include "core/catalogue/memory_fit.h"
#include "core/data/benchmark_csv.h"
#include "core/fit/exponential_fit.h"
#include "core/model/perfcast_model.h"
#include "core/plan/planner.h"

namespace perfcast {
namespace {

// Trained once per process (as the server trains it: with the shipped catalogue): training
// takes seconds, the benchmarks measure microseconds.
std::shared_ptr<const PerfcastModel> LoadedDefaultModel() {
  static const std::shared_ptr<const PerfcastModel> model = [] {
    auto data = ReadBenchmarkCsv(PERFCAST_DEFAULT_DATA, BadRowPolicy::kSkip);
    auto catalogue = Catalogue::Load(PERFCAST_DEFAULT_CATALOGUE);
    for (const absl::Status& status : {data.status(), catalogue.status()}) {
      if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        std::exit(EXIT_FAILURE);
      }
    }
    TrainOptions options;
    options.catalogue = std::make_shared<const Catalogue>(*std::move(catalogue));
    auto trained = PerfcastModel::Train(data->records, options);
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / "perfcast-bench-bundle";
    absl::Status saved = trained.ok() ? SaveBundle(**trained, dir.string()) : trained.status();
    auto loaded = saved.ok() ? LoadBundle(dir.string()) : saved;
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
      std::exit(EXIT_FAILURE);
    }
    std::filesystem::remove_all(dir);
    return *loaded;
  }();
  return model;
}

PredictionQuery BenchmarkedConfigurationNewShape() {
  PredictionQuery query;
  query.configuration = {"NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"};
  query.shape = Shape{1000, 500};
  return query;
}

// A shape the configuration lacks but other configurations measured, with the configuration's
// nearest shape: the new shape also looks for a sibling that measured both (the search's cost;
// whether the step is read at batch 32 depends on the sibling's batch range).
PredictionQuery BenchmarkedConfigurationShapeOthersMeasured() {
  PredictionQuery query = BenchmarkedConfigurationNewShape();
  query.shape = Shape{512, 128};
  return query;
}

PredictionQuery UnbenchmarkedConfiguration() {
  PredictionQuery query;
  query.configuration = {"NVIDIA H100", 2, "vllm", "meta-llama/Meta-Llama-3-8B", "fp8"};
  query.shape = Shape{1000, 500};
  return query;
}

// A configuration a campaign with latencies lacks (AIConfigurator measured this model on this GPU
// under two other stacks): its TTFT reads the nearest sibling's curve (docs/METHOD.md §9).
PredictionQuery UnbenchmarkedConfigurationOfALatencyCampaign() {
  PredictionQuery query;
  query.configuration = {"NVIDIA B200 SXM 180GB",     8,     "sglang",
                         "meta-llama/Llama-3.1-70B",  "fp8", "aiconfigurator-silicon",
                         BatchSemantics::kConcurrency};
  query.shape = Shape{1024, 1024};
  return query;
}

// A configuration a campaign with 99th percentiles lacks (InferenceMAX measured this model on this
// GPU under vLLM only): its point also answers the tails (docs/METHOD.md §9).
PredictionQuery UnbenchmarkedConfigurationOfATailCampaign() {
  PredictionQuery query;
  query.configuration = {"NVIDIA H200",
                         4,
                         "trt",
                         "openai/gpt-oss-120b",
                         "fp4",
                         "inferencemax",
                         BatchSemantics::kConcurrency};
  query.shape = Shape{1024, 1024};
  return query;
}

void PredictOnePoint(benchmark::State& state, const PredictionQuery& query) {
  const std::shared_ptr<const PerfcastModel> model = LoadedDefaultModel();
  const int batch_size[] = {32};
  bool with_latency = false, with_tails = false;
  for (auto _ : state) {
    auto prediction = model->Predict(query, batch_size, 0.9);
    benchmark::DoNotOptimize(prediction);
    with_latency =
        prediction.ok() && prediction->front().latency_statistic != LatencyStatistic::kUnavailable;
    with_tails = prediction.ok() && prediction->front().p99_ttft_s > 0;
  }
  // The default data carry latencies: a point answers every target its campaign measured
  // (docs/METHOD.md §9).
  state.SetLabel(with_tails     ? "throughput, ttft, itl, p99_ttft, p99_tpot"
                 : with_latency ? "throughput, ttft, itl"
                                : "throughput only");
}

void BM_PredictNewShapeFromLoadedBundle(benchmark::State& state) {
  PredictOnePoint(state, BenchmarkedConfigurationNewShape());
}
BENCHMARK(BM_PredictNewShapeFromLoadedBundle);

void BM_PredictNewShapeOthersMeasuredFromLoadedBundle(benchmark::State& state) {
  PredictOnePoint(state, BenchmarkedConfigurationShapeOthersMeasured());
}
BENCHMARK(BM_PredictNewShapeOthersMeasuredFromLoadedBundle);

void BM_PredictNewConfigurationFromLoadedBundle(benchmark::State& state) {
  PredictOnePoint(state, UnbenchmarkedConfiguration());
}
BENCHMARK(BM_PredictNewConfigurationFromLoadedBundle);

void BM_PredictNewConfigurationOfALatencyCampaignFromLoadedBundle(benchmark::State& state) {
  PredictOnePoint(state, UnbenchmarkedConfigurationOfALatencyCampaign());
}
BENCHMARK(BM_PredictNewConfigurationOfALatencyCampaignFromLoadedBundle);

void BM_PredictNewConfigurationOfATailCampaignFromLoadedBundle(benchmark::State& state) {
  PredictOnePoint(state, UnbenchmarkedConfigurationOfATailCampaign());
}
BENCHMARK(BM_PredictNewConfigurationOfATailCampaignFromLoadedBundle);

// A plan over 1,000 candidate configurations x 32 batch sizes (issue 20's size): the trained
// configurations, then the same with twice the GPUs, for one shape; ranked by GPUs (no prices).
// Without a latency objective, latencies are worked out at the chosen points only; with one, at
// every batch size the choice reads.
void PlanThousandCandidates(benchmark::State& state, LatencyObjectives objectives) {
  const std::shared_ptr<const PerfcastModel> model = LoadedDefaultModel();
  PlanRequest request;
  request.objectives = objectives;
  request.model = "meta-llama/Meta-Llama-3-8B";
  request.shapes = {{Shape{1000, 500}, 1}};
  request.demand = 20000;
  request.ranking = PlanRanking::kGpus;
  for (int b = 1; request.batch_sizes.size() < 32; b = std::max(b + 1, b * 5 / 4)) {
    request.batch_sizes.push_back(b);
  }
  for (int doubled = 0; doubled < 2 && request.candidates.size() < 1000; ++doubled) {
    for (Configuration c : model->Configurations()) {
      if (request.candidates.size() == 1000) break;
      c.num_gpus <<= doubled;
      request.candidates.push_back(std::move(c));
    }
  }
  PlanLimits limits;
  limits.threads = static_cast<int>(state.range(0));
  size_t options = 0;
  for (auto _ : state) {
    auto plan = MakePlan(*model, PriceList(), request, limits);
    if (!plan.ok()) {
      state.SkipWithError(std::string(plan.status().message()).c_str());
      break;
    }
    options = plan->options.size();
  }
  state.SetLabel(absl::StrCat(request.candidates.size(), " candidates x ",
                              request.batch_sizes.size(), " batch sizes, ", options, " options"));
}
void BM_PlanThousandCandidatesThirtyTwoBatchSizes(benchmark::State& state) {
  PlanThousandCandidates(state, LatencyObjectives{});
}
BENCHMARK(BM_PlanThousandCandidatesThirtyTwoBatchSizes)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_PlanThousandCandidatesWithTtftObjective(benchmark::State& state) {
  LatencyObjectives objectives;
  objectives.ttft_s = 1.0;
  PlanThousandCandidates(state, objectives);
}
BENCHMARK(BM_PlanThousandCandidatesWithTtftObjective)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The memory fit Predict adds to a query: the budget (three catalogue lookups) and one point's
// verdict and reason.
void BM_MemoryFitOfOnePoint(benchmark::State& state) {
  const std::shared_ptr<const PerfcastModel> model = LoadedDefaultModel();
  const PredictionQuery query = BenchmarkedConfigurationNewShape();
  for (auto _ : state) {
    MemoryFit fit = MemoryBudget::Of(model->catalogue(), query.configuration, query.shape).At(32);
    benchmark::DoNotOptimize(fit);
  }
}
BENCHMARK(BM_MemoryFitOfOnePoint);

// A typical Argonne curve: 8 batch sizes from 1 to 64, 2 % multiplicative noise.
void BM_FitSaturationCurve(benchmark::State& state) {
  std::vector<CurvePoint> points;
  int i = 0;
  for (int batch : {1, 2, 4, 8, 16, 32, 48, 64}) {
    const double noise = 1.0 + 0.02 * std::sin(7.0 * ++i);
    points.push_back({batch, (4000.0 - 3600.0 * std::exp(-0.06 * batch)) * noise});
  }
  for (auto _ : state) {
    auto fit = FitSaturationCurve(points);
    benchmark::DoNotOptimize(fit);
  }
}
BENCHMARK(BM_FitSaturationCurve);

}  // namespace
}  // namespace perfcast

BENCHMARK_MAIN();
