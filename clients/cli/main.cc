// perfcast: evaluate, fit and query LLM inference throughput predictors.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "clients/cli/command_line.h"
#include "core/baselines.h"
#include "core/benchmark_csv.h"
#include "core/curve.h"
#include "core/evaluation.h"
#include "core/model_bundle.h"
#include "core/perfcast_method.h"
#include "core/perfcast_model.h"
#ifdef PERFCAST_WITH_REMOTE
#include "clients/cli/remote_commands.h"
#endif

namespace perfcast {
namespace {

constexpr char kUsage[] = R"(usage: perfcast <command> [flags]

commands:
  eval     measure every method on held-out benchmark points (EVAL.md)
  fit      train perfcast's model on benchmark CSVs and save a bundle
  predict  predict throughput for a configuration, shape and batch sizes

'perfcast <command> --help' describes each command's flags.
)";

constexpr char kEvalHelp[] = R"(usage: perfcast eval --data CSV [--data CSV ...]
                     [--protocol new-shape|larger-batch|new-config|new-hardware|all]
                     [--methods perfcast,published-ala,direct-xgboost,nearest-curve]
                     [--confidence 0.9] [--seed 42] [--threads 2] [--faithful] [--json]

Holds out points as the protocol says, trains every method on the rest and prints median and p90
absolute percentage error, interval coverage and width, side by side. Deterministic for a seed.
  --faithful  published-ala with the reference code's 5000 trees at learning rate 0.007
  --json      one JSON object per (protocol, method) line instead of a table
)";

constexpr char kFitHelp[] = R"(usage: perfcast fit --data CSV [--data CSV ...] --out BUNDLE_DIR [--seed 42] [--threads 2]

Trains perfcast's model on every valid row of the CSVs (bad rows are reported and skipped) and
writes BUNDLE_DIR/model.perfcast.
)";

constexpr char kPredictHelp[] = R"(usage: perfcast predict (--bundle BUNDLE_DIR | --server HOST:PORT)
           --hardware H --num-gpus N --framework F --model M --precision P
           --input-tokens I --output-tokens O --batch-size B[,B...] [--confidence 0.9] [--json]

Prints, per batch size, the predicted throughput (output tokens/s), its interval at the given
confidence, the batch latency and which case the prediction is (measured, interpolated,
extrapolated-batch, extrapolated-shape, new-configuration).
)";

absl::StatusOr<std::vector<BenchmarkRecord>> ReadAll(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::InvalidArgumentError("--data is required");
  std::vector<BenchmarkRecord> records;
  for (const std::string& path : paths) {
    absl::StatusOr<CsvReadResult> read = ReadBenchmarkCsv(path, BadRowPolicy::kSkip);
    if (!read.ok()) return read.status();
    for (const RejectedRow& row : read->rejected_rows) {
      std::cerr << "skipped " << row.location << ": " << row.reason << "\n";
    }
    records.insert(records.end(), read->records.begin(), read->records.end());
  }
  if (records.empty()) return absl::InvalidArgumentError("no usable rows in --data");
  return records;
}

absl::Status RunEval(const CommandLine& line) {
  absl::StatusOr<std::vector<BenchmarkRecord>> records = ReadAll(line.GetAll("data"));
  if (!records.ok()) return records.status();
  const std::string protocol_name = line.Get("protocol", "all");
  std::vector<Protocol> protocols;
  if (protocol_name == "all") {
    protocols = {Protocol::kNewShape, Protocol::kLargerBatch, Protocol::kNewConfig,
                 Protocol::kNewHardware};
  } else {
    absl::StatusOr<Protocol> protocol = ParseProtocol(protocol_name);
    if (!protocol.ok()) return protocol.status();
    protocols = {*protocol};
  }
  absl::StatusOr<int> threads = line.GetInt("threads", 2);
  absl::StatusOr<int> seed = line.GetInt("seed", 42);
  absl::StatusOr<double> confidence = line.GetDouble("confidence", 0.9);
  for (const absl::Status& status : {threads.status(), seed.status(), confidence.status()}) {
    if (!status.ok()) return status;
  }
  if (!(*confidence > 0 && *confidence < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--confidence=", *confidence, ": must be in (0, 1)"));
  }
  const std::string wanted = line.Get("methods", "perfcast,published-ala,direct-xgboost,nearest-curve");
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  for (absl::string_view name : absl::StrSplit(wanted, ',')) {
    if (name == "perfcast") {
      methods.push_back(std::make_unique<PerfcastMethod>(
          TrainOptions{static_cast<uint64_t>(*seed), *threads}));
    } else if (name == "published-ala") {
      methods.push_back(std::make_unique<PublishedAla>(line.Has("faithful"), *threads));
    } else if (name == "direct-xgboost") {
      methods.push_back(std::make_unique<DirectXGBoost>(*threads));
    } else if (name == "nearest-curve") {
      methods.push_back(std::make_unique<NearestCurve>());
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--methods: unknown method '", name, "'"));
    }
  }
  const std::vector<Curve> curves = GroupIntoCurves(*records);
  EvaluationOptions options;
  options.seed = static_cast<uint64_t>(*seed);
  options.confidence_level = *confidence;
  if (isatty(STDERR_FILENO)) {
    options.progress = [](absl::string_view protocol, absl::string_view method, int done,
                          int total) {
      std::cerr << absl::StrFormat("\r%-13s %-15s fold %d/%d   ", std::string(protocol),
                                   std::string(method), done, total)
                << (done == total ? "\n" : "") << std::flush;
    };
  }
  std::vector<EvaluationFigures> all;
  for (Protocol protocol : protocols) {
    absl::StatusOr<std::vector<EvaluationFigures>> figures =
        Evaluate(protocol, curves, methods, options);
    if (!figures.ok()) return figures.status();
    all.insert(all.end(), figures->begin(), figures->end());
  }
  std::cout << (line.Has("json") ? FiguresJsonLines(all) : FiguresTable(all));
  return absl::OkStatus();
}

absl::Status RunFit(const CommandLine& line) {
  absl::StatusOr<std::string> out = line.Required("out");
  if (!out.ok()) return out.status();
  absl::StatusOr<std::vector<BenchmarkRecord>> records = ReadAll(line.GetAll("data"));
  if (!records.ok()) return records.status();
  absl::StatusOr<int> threads = line.GetInt("threads", 2);
  absl::StatusOr<int> seed = line.GetInt("seed", 42);
  if (!threads.ok()) return threads.status();
  if (!seed.ok()) return seed.status();
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model =
      PerfcastModel::Train(*records, TrainOptions{static_cast<uint64_t>(*seed), *threads});
  if (!model.ok()) return model.status();
  if (absl::Status saved = SaveBundle(**model, *out); !saved.ok()) return saved;
  const ModelInfo& info = (*model)->info();
  std::cout << absl::StrFormat(
      "trained on %d points, %d curves, %d configurations in %.1f s; bundle in %s\n",
      info.point_count, info.curve_count, info.configuration_count, info.training_seconds, *out);
  return absl::OkStatus();
}

absl::StatusOr<PredictionQuery> QueryFrom(const CommandLine& line) {
  PredictionQuery query;
  for (const char* name : {"hardware", "framework", "model", "precision"}) {
    if (!line.Has(name)) return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  }
  query.configuration.hardware = line.Get("hardware");
  query.configuration.framework = line.Get("framework");
  query.configuration.model = line.Get("model");
  query.configuration.precision = line.Get("precision");
  absl::StatusOr<int> gpus = line.GetInt("num-gpus", 1);
  absl::StatusOr<int> input = line.GetInt("input-tokens", 0);
  absl::StatusOr<int> output = line.GetInt("output-tokens", 0);
  for (const absl::Status& status : {gpus.status(), input.status(), output.status()}) {
    if (!status.ok()) return status;
  }
  query.configuration.num_gpus = *gpus;
  query.shape = {*input, *output};
  return query;
}

absl::Status RunPredict(const CommandLine& line) {
  absl::StatusOr<PredictionQuery> query = QueryFrom(line);
  if (!query.ok()) return query.status();
  absl::StatusOr<std::vector<int>> batches = line.GetIntList("batch-size");
  if (!batches.ok()) return batches.status();
  absl::StatusOr<double> confidence = line.GetDouble("confidence", 0.9);
  if (!confidence.ok()) return confidence.status();
  const bool json = line.Has("json");
  if (line.Has("server")) {
#ifdef PERFCAST_WITH_REMOTE
    return RemotePredict(line.Get("server"), *query, *batches, *confidence, json, std::cout);
#else
    return absl::UnimplementedError("this build of perfcast has no gRPC client");
#endif
  }
  absl::StatusOr<std::string> bundle = line.Required("bundle");
  if (!bundle.ok()) return absl::InvalidArgumentError("--bundle or --server is required");
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model = LoadBundle(*bundle);
  if (!model.ok()) return model.status();
  absl::StatusOr<std::vector<PointPrediction>> points =
      (*model)->Predict(*query, *batches, *confidence);
  if (!points.ok()) return points.status();
  if (json) {
    for (const PointPrediction& p : *points) {
      std::cout << absl::StrFormat(
          "{\"batch_size\":%d,\"throughput_tokens_per_s\":%.6g,\"lower_tokens_per_s\":%.6g,"
          "\"upper_tokens_per_s\":%.6g,\"batch_latency_s\":%.6g,\"prediction_case\":\"%s\"}\n",
          p.batch_size, p.throughput_tokens_per_s, p.lower_tokens_per_s, p.upper_tokens_per_s,
          p.batch_latency_s, std::string(PredictionCaseName(p.prediction_case)));
    }
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%10s %16s %27s %14s  %s\n", "batch_size", "tokens_per_s",
                               absl::StrFormat("%.0f%% interval", *confidence * 100),
                               "batch_latency_s", "case");
  for (const PointPrediction& p : *points) {
    std::cout << absl::StrFormat("%10d %16.1f %13.1f - %11.1f %14.3f  %s\n", p.batch_size,
                                 p.throughput_tokens_per_s, p.lower_tokens_per_s,
                                 p.upper_tokens_per_s, p.batch_latency_s,
                                 std::string(PredictionCaseName(p.prediction_case)));
  }
  return absl::OkStatus();
}

struct Command {
  const char* name;
  const char* help;
  std::vector<std::string> flags;
  std::vector<std::string> boolean_flags;
  absl::Status (*run)(const CommandLine&);
};

int Main(int argc, char** argv) {
  const std::vector<Command> commands = {
      {"eval", kEvalHelp, {"data", "protocol", "methods", "confidence", "seed", "threads"},
       {"faithful", "json", "help"}, RunEval},
      {"fit", kFitHelp, {"data", "out", "seed", "threads"}, {"help"}, RunFit},
      {"predict", kPredictHelp,
       {"bundle", "server", "hardware", "num-gpus", "framework", "model", "precision",
        "input-tokens", "output-tokens", "batch-size", "confidence"},
       {"json", "help"}, RunPredict},
  };
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (const Command& command : commands) {
    if (name != command.name) continue;
    absl::StatusOr<CommandLine> line = CommandLine::Parse(
        std::vector<std::string>(argv + 2, argv + argc), command.flags, command.boolean_flags);
    if (!line.ok()) {
      std::cerr << "perfcast " << name << ": " << line.status().message() << "\n"
                << command.help;
      return 2;
    }
    if (line->Has("help")) {
      std::cout << command.help;
      return 0;
    }
    const absl::Status status = command.run(*line);
    if (!status.ok()) {
      std::cerr << "perfcast " << name << ": " << status.message() << "\n";
      return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
    }
    return 0;
  }
  std::cerr << "perfcast: unknown command '" << name << "'\n" << kUsage;
  return 2;
}

}  // namespace
}  // namespace perfcast

int main(int argc, char** argv) { return perfcast::Main(argc, argv); }
