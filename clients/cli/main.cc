// perfcast: evaluate, fit and query LLM inference throughput predictors.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "clients/cli/command_line.h"
#include "clients/cli/evaluation_report.h"
#include "clients/cli/prediction_printer.h"
#include "clients/cli/progress_reporter.h"
#include "clients/cli/svg_file.h"
#include "core/bundle/model_bundle.h"
#include "core/catalogue/catalogue.h"
#include "core/catalogue/memory_check.h"
#include "core/catalogue/unresolved_names.h"
#include "core/data/benchmark_csv.h"
#include "core/data/curve.h"
#include "core/eval/baselines.h"
#include "core/eval/evaluation.h"
#include "core/eval/evaluation_points.h"
#include "core/eval/perfcast_method.h"
#include "core/eval/plan_evaluation.h"
#include "core/model/perfcast_model.h"
#include "core/report/measured_curves.h"
#include "core/report/throughput_chart.h"
#ifdef PERFCAST_WITH_REMOTE
#include "clients/cli/plan_command.h"
#include "clients/remote/predict_load.h"
#include "clients/remote/remote_commands.h"
#endif

namespace perfcast {
namespace {

constexpr char kUsage[] = R"(usage: perfcast <command> [flags]

commands:
  eval         measure every method on held-out benchmark points (docs/EVALUATION.md)
  fit          train perfcast's model on benchmark CSVs and save a bundle
  catalogue    check a hardware/model catalogue, and which names of benchmark CSVs it knows
  memory-check count the measured runs of benchmark CSVs the memory rule calls impossible
  predict      predict throughput for a configuration, shape and batch sizes (local bundle
               or --server)
with a running perfcast-server (--server HOST:PORT; over TLS with --tls-ca CA.pem, plus
--tls-cert and --tls-key for mutual TLS; --token TOKEN or PERFCAST_TOKEN when the server
requires a bearer token):
  uncertainty  how far a query is from observed data, and the error to expect there
  plan         the cheapest configurations that meet a demand and latency objectives with a
               stated confidence (also offline: --bundle)
  submit       stream a benchmark CSV into the server's store
  refit        retrain now (--wait: until the new version serves)
  status       model versions, last refit, stored results, live accuracy
  configs      configurations the serving model knows
  quarantine   list, release or drop results held back from training (role admin)
  bench        load-test Predict: QPS and latency percentiles

'perfcast <command> --help' describes each command's flags. Tables by default, --json for
scripts. Errors go to stderr.

exit codes:
  0  success
  1  other error (I/O, internal, unexpected server answer)
  2  bad usage or invalid argument (INVALID_ARGUMENT from the server too): fix the command
  3  server unreachable, starting, draining or too slow (UNAVAILABLE, DEADLINE_EXCEEDED):
     retry later
  4  server not ready for this (FAILED_PRECONDITION: no data yet; NOT_FOUND: no such version)
  5  submit finished, but some rows were rejected or unreadable (listed in the output)
  6  limit exceeded (RESOURCE_EXHAUSTED): send less per call
)";

constexpr char kEvalHelp[] = R"(usage: perfcast eval --data CSV [--data CSV ...]
                     [--protocol new-shape|larger-batch|new-config|new-hardware|new-campaign|all]
                     [--shots 0[,0.1,0.3]]
                     [--methods perfcast,perfcast-refit,published-ala,direct-xgboost,
                                nearest-curve]
                     [--confidence 0.9] [--levels 0.5,0.8,0.9,0.95] [--seed 42] [--threads 2]
                     [--catalogue DIR|none] [--skip-unresolved] [--points CSV] [--faithful]
                     [--report DIR] [--json] [--quiet]

Holds out points as the protocol says, trains every method on the rest and prints median and p90
absolute percentage error, interval coverage and width, and the Spearman correlation of the
method's expected error with the observed one, side by side. Deterministic for a seed.
  --protocol  new-campaign holds out each campaign (the CSV column `source`) of 2 curves or more
              in turn and trains on the other campaigns; figures per campaign, then over all.
              `all` skips it, with a note, when the data hold a single campaign
  --shots     new-campaign only: also train on this share, in [0, 1), of the held-out campaign's
              curves (whole curves, seeded; floor(share x curves), at least 1 when the share is
              above 0) and predict the rest. A comma list runs each share in turn (default 0)
  --methods   side by side; `perfcast-refit` is perfcast as a server's refit takes a campaign's
              results as they grow: with --shots, trained on the first third of the shots drawn
              first, then on all, reusing that model's cross-fit where a refit would
              (docs/METHOD.md §5; stderr says where it did not); elsewhere as perfcast
  --levels    also measure coverage and width at these nominal levels: a reliability table
  --threads   folds trained at once (the figures do not depend on it)
  --catalogue the hardware/model catalogue perfcast learns physical features from (default: the
              one this binary was built with); the method `perfcast-no-physical` is perfcast
              without it, for a side-by-side comparison. new-hardware holds out each of its
              accelerators with every spelling of it, for every method (with `none`, each
              spelling but for case)
  --points    also write every held-out point's measured and predicted throughput, interval and
              expected error, one CSV row per point and method (with its campaign, and the shots
              of new-campaign), for analyses of its own
  --report    also draw, per protocol run, SVG files into DIR: ape_<protocol>.svg, the cumulative
              distribution of each method's absolute percentage error, and with --levels
              reliability_<protocol>.svg, observed coverage against the nominal level
              (new-campaign: <protocol>_shots-<share>)
  --skip-unresolved
              leave out the rows whose hardware or model the catalogue lacks (and say which);
              without it such names stop the run before anything is trained when new-config,
              new-hardware or new-campaign would hold them out (perfcast cannot predict a name
              that neither the training data nor the catalogue knows)
  --faithful  published-ala with the reference code's 5000 trees at learning rate 0.007
  --json      one JSON object per (protocol, method) line instead of a table; new-campaign's
              lines carry `campaign` ("all" on the line over every campaign) and `shots`
  --quiet     no progress on stderr (it is only shown when stderr is a terminal)
Each protocol's figures are printed as soon as it finishes.
)";

constexpr char kFitHelp[] =
    R"(usage: perfcast fit --data CSV [--data CSV ...] --out BUNDLE_DIR [--seed 42] [--threads 2]
                    [--catalogue DIR|none] [--quiet]

Trains perfcast's model on every valid row of the CSVs (bad rows are reported and skipped) and
writes BUNDLE_DIR/model.perfcast. The bundle carries the catalogue it was trained with.
  --threads   cross-fit models trained at once (the bundle does not depend on it)
  --quiet     no progress on stderr (it is only shown when stderr is a terminal)
)";

constexpr char kCatalogueHelp[] =
    R"(usage: perfcast catalogue [--catalogue DIR] [--data CSV ...]

Loads a catalogue directory (accelerators.csv, models.csv, precisions.csv, aliases.csv and
optionally frameworks.csv; default: the one this binary was built with) and reports its first
error as file:line. With --data, lists
each hardware, model and precision name of the CSVs with the catalogue entry it resolves to.
Exit code 5 if some name resolves to nothing (perfcast then refuses new configurations with it).
)";

constexpr char kMemoryCheckHelp[] =
    R"(usage: perfcast memory-check --data CSV [--data CSV ...] [--catalogue DIR] [--examples 5]

Judges every measured run of each CSV with the memory rule (docs/METHOD.md §10: the weights
and the KV cache of one sequence of input + output tokens within 90% of each GPU's memory;
larger batches run in waves) and prints,
per file and campaign, how many runs fit, how many it calls impossible (does_not_fit) and how
many are unknown (a name or figure the catalogue lacks), then the first --examples impossible
runs of each campaign as file:line with the reason, and why runs are unknown. A run that
happened cannot be impossible: each one listed is a fault of the rule or of the catalogue.
Exit code 5 if any run is called impossible.
)";

constexpr char kPredictHelp[] =
    R"(usage: perfcast predict (--bundle BUNDLE_DIR | --server HOST:PORT)
           --hardware H --num-gpus N --framework F --model M --precision P
           --input-tokens I --output-tokens O --batch-size B[,B...] [--confidence 0.9] [--json]
           [--campaign NAME] [--batch-semantics static|concurrency|max_throughput]
           [--svg FILE]

Prints, per batch size, the predicted throughput (output tokens/s), its interval at the given
confidence, the batch latency, the mean time to first token and inter-token latency with their
intervals ("-" where the model has none), for a --campaign whose results carried them the 99th
percentiles of the time to first token and of the time per output token with their intervals,
and which case the prediction is (measured,
interpolated, extrapolated_batch, extrapolated_shape, new_configuration: the API's names).
--bundle and --server print the same table, and with --json the same JSON lines (one object per
batch size: batch_size, throughput_tokens_per_s, lower_tokens_per_s, upper_tokens_per_s,
batch_latency_s, prediction_case, and where answered ttft_s, ttft_lower_s, ttft_upper_s, itl_s,
itl_lower_s, itl_upper_s, latency_statistic "mean", p99_ttft_s, p99_ttft_lower_s,
p99_ttft_upper_s, p99_tpot_s, p99_tpot_lower_s, p99_tpot_upper_s).
  --campaign NAME      the level of that campaign (who measured, with which harness); unset:
                       the population of campaigns, with an interval covering their spread
  --batch-semantics S  what --batch-size counts: static (default), concurrency, max_throughput
  --timeout S          seconds one call to --server may take (default 10)
  --svg FILE           also draw the prediction as an SVG chart: the curve over the batch sizes,
                       its interval band and, from a bundle, the measured points of that
                       configuration and shape (a server does not send them)
)";

constexpr char kUncertaintyHelp[] = R"(usage: perfcast uncertainty --server HOST:PORT
           --hardware H --num-gpus N --framework F --model M --precision P
           --input-tokens I --output-tokens O [--batch-size 1] [--neighbors 5] [--json]
           [--timeout 10]

Prints how similar the query is to what the server's model has observed (1 = measured), the
relative error to expect there, its prediction case and the nearest observed curves.
)";

constexpr char kSubmitHelp[] =
    R"(usage: perfcast submit --server HOST:PORT --data CSV [--source-id ID] [--chunk-size 500]
           [--json] [--timeout 600]

Streams the rows of a benchmark CSV (the schema `perfcast eval` reads) to the server in chunks
of one SubmitBenchmarks call, and prints how many results were accepted (new), duplicate
(already stored: same source id, configuration, shape and batch size) and rejected, with the
reason for each rejected one. The reply comes once every accepted result is durable.
  --source-id ID  idempotency key of rows with no `source` value (default: the file's name)
Progress is shown on stderr when it is a terminal. Exit code 5 if any row was rejected or
unreadable.
)";

constexpr char kRefitHelp[] =
    R"(usage: perfcast refit --server HOST:PORT [--wait] [--json] [--timeout 600]

Starts a retrain on everything stored (or joins one already queued). With --wait, returns when
the new model version serves and prints it; a failed retrain exits non-zero and the previous
version keeps serving.
)";

constexpr char kStatusHelp[] = R"(usage: perfcast status --server HOST:PORT [--json] [--timeout 10]

Prints the stored result count, the last refit and every model version: state, points, curves
and configurations trained on, training seconds, and the live (prequential) figures: results
scored, median relative error, share inside the 90% interval.
)";

constexpr char kConfigsHelp[] =
    R"(usage: perfcast configs --server HOST:PORT [--json] [--timeout 10]

Lists every configuration the serving model was trained on (all pages).
)";

constexpr char kQuarantineHelp[] =
    R"(usage: perfcast quarantine list --server HOST:PORT [--json] [--timeout 10]
       perfcast quarantine release ID... --server HOST:PORT [--json] [--timeout 10]
       perfcast quarantine drop ID... --server HOST:PORT [--json] [--timeout 10]

Results whose throughput lay far outside what the serving model predicts for their already
measured configuration and campaign are stored in quarantine: kept, never trained on.
  list     each one's id, when and by whom it was submitted, the result and why
  release  makes them trainable; they count as new results for the next refit
  drop     deletes them
Needs role admin under --auth-tokens (--token TOKEN or PERFCAST_TOKEN).
)";

constexpr char kBenchHelp[] =
    R"(usage: perfcast bench --server HOST:PORT [--concurrency 16] [--rate 0] [--channels 1]
           [--duration 10] [--warmup 1] [--batch-sizes 1] [--input-tokens 1024]
           [--output-tokens 256] [--hardware H --num-gpus N --framework F --model M --precision P]
           [--json] [--timeout 5] [--tls-ca CA [--tls-cert C --tls-key K]] [--token TOKEN]

Load on Predict over --channels connections, each driven by one thread, for --duration seconds
after --warmup seconds, one query per call, the batch size cycling through --batch-sizes.
Closed loop by default: keeps --concurrency calls in flight. With --rate R (calls/s), open loop:
sends on a fixed schedule with at most --concurrency in flight, and counts each call's latency
from its scheduled time, so a server that falls behind shows it. Prints requests, errors, QPS
and p50/p90/p99/max latency. Without --hardware, queries the first configuration the server
lists. --timeout is per call; TLS and the token as for every --server command.
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

constexpr char kNoCatalogue[] = "none";

// --catalogue DIR, the built-in catalogue without it, or null for `--catalogue none`.
absl::StatusOr<std::shared_ptr<const Catalogue>> CatalogueFrom(const CommandLine& line) {
  const std::string directory = line.Get("catalogue", PERFCAST_DEFAULT_CATALOGUE);
  if (directory == kNoCatalogue) return nullptr;
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(directory);
  if (!catalogue.ok()) return catalogue.status();
  return std::make_shared<const Catalogue>(*std::move(catalogue));
}

// Progress goes to stderr only where a person watches it, and not with --quiet.
bool ShowProgress(const CommandLine& line) { return !line.Has("quiet") && isatty(STDERR_FILENO); }

// --shots of eval: shares in [0, 1), comma separated ({0} without the flag).
absl::StatusOr<std::vector<double>> ShotsFlag(const CommandLine& line) {
  if (!line.Has("shots")) return std::vector<double>{0};
  std::vector<double> shares;
  for (absl::string_view text : absl::StrSplit(line.Get("shots"), ',')) {
    double share = 0;
    if (!absl::SimpleAtod(text, &share) || !(share >= 0 && share < 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--shots: '", text, "' is not a share in [0, 1)"));
    }
    shares.push_back(share);
  }
  return shares;
}

// --threads of eval and fit (2 by default), refused below 1 naming the flag.
absl::StatusOr<int> ThreadsFlag(const CommandLine& line) {
  absl::StatusOr<int> threads = line.GetInt("threads", 2);
  if (threads.ok() && *threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--threads=", *threads, ": must be >= 1"));
  }
  return threads;
}

// `eval --protocol plan`: perfcast's plans for held-out configurations against their measured
// curves (core/eval/plan_evaluation.h).
absl::Status RunPlanEvaluation(const CommandLine& line) {
  absl::StatusOr<std::vector<BenchmarkRecord>> records = ReadAll(line.GetAll("data"));
  if (!records.ok()) return records.status();
  absl::StatusOr<int> threads = ThreadsFlag(line);
  absl::StatusOr<int> seed = line.GetInt("seed", 42);
  absl::StatusOr<double> confidence = line.GetDouble("confidence", 0.9);
  for (const absl::Status& status : {threads.status(), seed.status(), confidence.status()}) {
    if (!status.ok()) return status;
  }
  if (!(*confidence >= 0.5 && *confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--confidence=", *confidence, ": a plan's confidence must be in [0.5, 1)"));
  }
  absl::StatusOr<std::shared_ptr<const Catalogue>> catalogue = CatalogueFrom(line);
  if (!catalogue.ok()) return catalogue.status();
  PlanEvaluationOptions options;
  options.seed = static_cast<uint64_t>(*seed);
  options.confidence = *confidence;
  options.parallel_folds = *threads;
  options.train.seed = options.seed;
  options.train.catalogue = *catalogue;
  ProgressReporter progress(std::cerr, ShowProgress(line));
  if (progress.enabled()) {
    options.progress = [&progress](int done, int total) {
      progress.Report("plan perfcast", "fold", done, total);
    };
    progress.Report("plan perfcast", "fold", 0, options.folds);
  }
  absl::StatusOr<PlanEvaluation> evaluation = EvaluatePlans(GroupIntoCurves(*records), options);
  if (!evaluation.ok()) {
    progress.Abandon();
    return evaluation.status();
  }
  const auto json_line = [&](const std::string& campaign, const PlanKeptCounts& c) {
    return absl::StrFormat(
        "{\"protocol\":\"plan\",\"campaign\":%s,\"confidence\":%g,\"curves\":%d,"
        "\"plans\":%d,\"kept\":%.4f,\"point_estimate_plans\":%d,"
        "\"kept_point_estimate\":%.4f,\"broken_throughput\":%d,\"broken_batch_latency\":%d,"
        "\"broken_ttft\":%d,\"points\":%d,\"points_below_bound\":%.4f}\n",
        JsonString(campaign), evaluation->confidence, c.curves, c.plans, c.kept_share(),
        c.point_plans, c.point_kept_share(), c.broken_throughput, c.broken_batch_latency,
        c.broken_ttft, c.points_judged, c.below_bound_share());
  };
  if (line.Has("json")) {
    std::cout << json_line("all", evaluation->all);
    for (const auto& [campaign, counts] : evaluation->by_campaign) {
      std::cout << json_line(campaign, counts);
    }
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat(
      "plan: held-out configurations planned at %g%% confidence (objectives: the curve's own "
      "batch latency, and TTFT where measured, at its middle point)\n",
      100 * evaluation->confidence);
  std::cout << absl::StrFormat("%-36s %7s %7s %8s %12s %11s   %s\n", "campaign", "curves", "plans",
                               "kept", "point plans", "point kept",
                               "broken: throughput / batch latency / ttft   points below bound");
  const auto row = [](const std::string& name, const PlanKeptCounts& c) {
    return absl::StrFormat("%-36s %7d %7d %7.1f%% %12d %10.1f%%   %d / %d / %d   %.1f%% of %d\n",
                           name, c.curves, c.plans, 100 * c.kept_share(), c.point_plans,
                           100 * c.point_kept_share(), c.broken_throughput, c.broken_batch_latency,
                           c.broken_ttft, 100 * c.below_bound_share(), c.points_judged);
  };
  for (const auto& [campaign, counts] : evaluation->by_campaign) {
    std::cout << row(campaign.empty() ? "(unnamed)" : campaign, counts);
  }
  std::cout << row("all", evaluation->all);
  std::cout << absl::StrFormat(
      "median planned capacity / point-estimate capacity: %.3f (what certainty costs per "
      "replica)\n",
      evaluation->median_capacity_ratio);
  return absl::OkStatus();
}

absl::Status RunEval(const CommandLine& line) {
  const std::string protocol_name = line.Get("protocol", "all");
  if (protocol_name == "plan") return RunPlanEvaluation(line);
  std::vector<Protocol> protocols;
  if (protocol_name == "all") {
    protocols.assign(std::begin(kAllProtocols), std::end(kAllProtocols));
  } else {
    absl::StatusOr<Protocol> protocol = ParseProtocol(protocol_name);
    if (!protocol.ok()) return protocol.status();
    protocols = {*protocol};
  }
  auto runs = [&protocols](Protocol protocol) {
    return std::find(protocols.begin(), protocols.end(), protocol) != protocols.end();
  };
  absl::StatusOr<std::vector<double>> shots = ShotsFlag(line);
  if (!shots.ok()) return shots.status();
  if (line.Has("shots") && !runs(Protocol::kNewCampaign)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shots: only new-campaign takes shots, and --protocol=", protocol_name,
                     " does not run it"));
  }
  absl::StatusOr<std::vector<BenchmarkRecord>> records = ReadAll(line.GetAll("data"));
  if (!records.ok()) return records.status();
  // new-campaign on data of one campaign: an error when asked for by name, a note under `all`.
  std::string skipped;
  if (runs(Protocol::kNewCampaign)) {
    const absl::Status applies = CheckNewCampaignApplies(GroupIntoCurves(*records));
    if (!applies.ok() && protocol_name != "all") return applies;
    if (!applies.ok()) {
      std::erase(protocols, Protocol::kNewCampaign);
      skipped = absl::StrCat("new-campaign skipped: ", applies.message(), "\n");
    }
  }
  absl::StatusOr<int> threads = ThreadsFlag(line);
  absl::StatusOr<int> seed = line.GetInt("seed", 42);
  absl::StatusOr<double> confidence = line.GetDouble("confidence", 0.9);
  for (const absl::Status& status : {threads.status(), seed.status(), confidence.status()}) {
    if (!status.ok()) return status;
  }
  if (!(*confidence > 0 && *confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--confidence=", *confidence, ": must be in (0, 1)"));
  }
  absl::StatusOr<std::shared_ptr<const Catalogue>> catalogue = CatalogueFrom(line);
  if (!catalogue.ok()) return catalogue.status();
  const std::string wanted =
      line.Get("methods", "perfcast,published-ala,direct-xgboost,nearest-curve");
  // Names are checked before anything trains: a name the catalogue lacks would otherwise end the
  // run when its protocol holds it out, after the protocols before it had run for minutes.
  std::string left_out;
  const std::vector<std::string> method_names = absl::StrSplit(wanted, ',');
  const bool uses_catalogue =
      std::find(method_names.begin(), method_names.end(), "perfcast") != method_names.end() ||
      std::find(method_names.begin(), method_names.end(), "perfcast-refit") != method_names.end();
  // Only a protocol that holds a whole configuration out can ask for a name no training data
  // carries: new-hardware every hardware, and a model found on that hardware alone; new-config a
  // name found in that one configuration alone; new-campaign a name found in that campaign alone.
  std::vector<NamesAtRisk> risks;
  if (runs(Protocol::kNewHardware)) {
    risks.push_back(NamesAtRisk::kEveryHardware);
  } else if (runs(Protocol::kNewConfig)) {
    risks.push_back(NamesAtRisk::kOneConfigurationOnly);
  }
  if (runs(Protocol::kNewCampaign)) risks.push_back(NamesAtRisk::kOneCampaignOnly);
  if (uses_catalogue && *catalogue != nullptr && !risks.empty()) {
    // The union of each protocol's names at risk, in order of first finding.
    std::vector<UnresolvedName> unresolved;
    std::set<std::pair<std::string, std::string>> listed;
    for (NamesAtRisk risk : risks) {
      for (UnresolvedName& name : FindUnresolvedNames(*records, **catalogue, risk)) {
        if (listed.insert({name.kind, name.name}).second) unresolved.push_back(std::move(name));
      }
    }
    if (!unresolved.empty() && !line.Has("skip-unresolved")) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the catalogue lacks ", unresolved.size(), unresolved.size() == 1 ? " name" : " names",
          " of the data: ", DescribeUnresolved(unresolved),
          ". Add them to the catalogue (data/catalogue/README.md) or pass --skip-unresolved to "
          "leave their rows out"));
    }
    if (!unresolved.empty()) {
      const size_t before = records->size();
      *records = WithoutUnresolved(*records, unresolved);
      left_out = absl::StrCat(
          "left out ", before - records->size(),
          " rows whose names the catalogue lacks: ", DescribeUnresolved(unresolved), "\n");
      std::cerr << "perfcast eval: " << left_out << std::flush;
    }
  }
  std::vector<std::unique_ptr<EvaluationMethod>> methods;
  for (absl::string_view name : absl::StrSplit(wanted, ',')) {
    if (name == "perfcast" || name == "perfcast-no-physical" || name == "perfcast-refit") {
      TrainOptions train;
      train.seed = static_cast<uint64_t>(*seed);
      if (name != "perfcast-no-physical") train.catalogue = *catalogue;
      auto note = [](const std::string& text) {
        static absl::Mutex note_mutex(absl::kConstInit);
        absl::MutexLock lock(&note_mutex);
        std::cerr << "perfcast eval: " << text << "\n" << std::flush;
      };
      methods.push_back(std::make_unique<PerfcastMethod>(std::string(name), std::move(train),
                                                         name == "perfcast-refit", note));
    } else if (name == "published-ala") {
      methods.push_back(std::make_unique<PublishedAla>(line.Has("faithful"), 1));
    } else if (name == "direct-xgboost") {
      methods.push_back(std::make_unique<DirectXGBoost>(1));
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
  options.catalogue = catalogue->get();
  if (line.Has("levels")) {
    for (absl::string_view text : absl::StrSplit(line.Get("levels"), ',')) {
      double level = 0;
      if (!absl::SimpleAtod(text, &level) || !(level > 0 && level < 1)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--levels: '", text, "' is not a level in (0, 1)"));
      }
      options.reliability_levels.push_back(level);
    }
  }
  // Folds in parallel, one XGBoost thread each: many small trainings scale better this way
  // than one training over several OpenMP threads.
  options.parallel_folds = *threads;
  ProgressReporter progress(std::cerr, ShowProgress(line));
  if (progress.enabled()) {
    options.progress = [&progress, &options](absl::string_view protocol, absl::string_view method,
                                             int done, int total) {
      const std::string shots_label = protocol == ProtocolName(Protocol::kNewCampaign)
                                          ? absl::StrCat(" shots ", options.shots)
                                          : std::string();
      progress.Report(absl::StrCat(protocol, shots_label, " ", method), "fold", done, total);
    };
  }
  std::ofstream points;
  if (line.Has("points")) {
    points.open(line.Get("points"));
    if (!points) {
      return absl::InvalidArgumentError(
          absl::StrCat("--points=", line.Get("points"), ": cannot write the file"));
    }
    points << EvaluationPointsCsvHeader();
  }
  std::optional<EvaluationReport> report;
  if (line.Has("report")) {
    absl::StatusOr<EvaluationReport> created = EvaluationReport::Create(line.Get("report"));
    if (!created.ok()) return created.status();
    report = *std::move(created);
  }
  if (line.Has("points") || report.has_value()) {
    options.on_point = [&points, &report, write_points = line.Has("points")](
                           absl::string_view protocol, absl::string_view method, const Fold& fold,
                           const HeldOutPoint& point, const MethodPrediction& prediction) {
      if (write_points) {
        points << EvaluationPointsCsvRow(protocol, method, fold.shots, point, prediction);
      }
      if (report.has_value()) report->AddPoint(method, point, prediction);
    };
  }
  const std::string notes = left_out + skipped;
  if (!skipped.empty()) std::cerr << "perfcast eval: " << skipped << std::flush;
  if (!notes.empty() && !line.Has("json")) std::cout << notes;
  // Each protocol's figures (each share of shots' for new-campaign) go out as soon as they exist,
  // so that a run stopped or failing later still leaves what it measured.
  bool first_table = notes.empty();
  for (Protocol protocol : protocols) {
    const std::vector<double> shares =
        protocol == Protocol::kNewCampaign ? *shots : std::vector<double>{0};
    for (double share : shares) {
      options.shots = share;
      absl::StatusOr<std::vector<EvaluationFigures>> figures =
          Evaluate(protocol, curves, methods, options);
      if (!figures.ok()) {
        progress.Abandon();
        return figures.status();
      }
      if (line.Has("json")) {
        std::cout << FiguresJsonLines(*figures);
      } else {
        std::cout << (first_table ? "" : "\n") << FiguresTable(*figures);
      }
      if (report.has_value()) {
        // On stderr, so that the tables and the JSON lines stay as they are without --report.
        absl::StatusOr<std::vector<std::string>> written = report->WriteRun(
            ProtocolName(protocol),
            protocol == Protocol::kNewCampaign ? std::optional<double>(share) : std::nullopt,
            *figures);
        if (!written.ok()) return written.status();
        for (const std::string& path : *written)
          std::cerr << "perfcast eval: wrote " << path << "\n";
      }
      first_table = false;
      std::cout.flush();
    }
  }
  if (line.Has("points") && !points.flush()) {
    return absl::DataLossError(absl::StrCat("--points=", line.Get("points"), ": write failed"));
  }
  return absl::OkStatus();
}

absl::Status RunFit(const CommandLine& line) {
  absl::StatusOr<std::string> out = line.Required("out");
  if (!out.ok()) return out.status();
  absl::StatusOr<int> threads = ThreadsFlag(line);
  absl::StatusOr<int> seed = line.GetInt("seed", 42);
  if (!threads.ok()) return threads.status();
  if (!seed.ok()) return seed.status();
  absl::StatusOr<std::vector<BenchmarkRecord>> records = ReadAll(line.GetAll("data"));
  if (!records.ok()) return records.status();
  absl::StatusOr<std::shared_ptr<const Catalogue>> catalogue = CatalogueFrom(line);
  if (!catalogue.ok()) return catalogue.status();
  TrainOptions options;
  options.seed = static_cast<uint64_t>(*seed);
  options.threads = *threads;
  options.catalogue = *std::move(catalogue);
  ProgressReporter progress(std::cerr, ShowProgress(line));
  if (progress.enabled()) {
    progress.Report("fit", "stage", 0, 4, "training rows");
    options.progress = [&progress](int done, int total, absl::string_view next) {
      progress.Report("fit", "stage", done, total, next);
    };
  }
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model =
      PerfcastModel::Train(*records, options);
  if (!model.ok()) {
    progress.Abandon();
    return model.status();
  }
  if (absl::Status saved = SaveBundle(**model, *out); !saved.ok()) return saved;
  const ModelInfo& info = (*model)->info();
  std::cout << absl::StrFormat(
      "trained on %d points, %d curves, %d configurations in %.1f s; bundle in %s\n",
      info.point_count, info.curve_count, info.configuration_count, info.training_seconds, *out);
  return absl::OkStatus();
}

absl::StatusOr<int> RunCatalogue(const CommandLine& line) {
  absl::StatusOr<std::shared_ptr<const Catalogue>> catalogue = CatalogueFrom(line);
  if (!catalogue.ok()) return catalogue.status();
  if (*catalogue == nullptr) {
    return absl::InvalidArgumentError("--catalogue=none: nothing to check");
  }
  const Catalogue& c = **catalogue;
  std::cout << absl::StrFormat("catalogue ok: %d accelerators, %d models, %d precisions\n",
                               c.accelerators().size(), c.models().size(), c.precisions().size());
  if (!line.Has("data")) return 0;
  absl::StatusOr<std::vector<BenchmarkRecord>> records = ReadAll(line.GetAll("data"));
  if (!records.ok()) return records.status();
  std::set<std::string> hardware, models, precisions;
  // The models of the runs that record no precision: each reads its checkpoint's.
  std::map<std::string, std::set<std::string>> models_without_precision;
  for (const BenchmarkRecord& record : *records) {
    hardware.insert(record.configuration.hardware);
    models.insert(record.configuration.model);
    if (Catalogue::RecordsNoPrecision(record.configuration.precision)) {
      models_without_precision[record.configuration.precision].insert(record.configuration.model);
    } else {
      precisions.insert(record.configuration.precision);
    }
  }
  int unresolved = 0;
  auto report = [&](absl::string_view kind, const std::set<std::string>& names, auto find) {
    for (const std::string& name : names) {
      auto entry = find(name);
      if (!entry.ok()) ++unresolved;
      std::cout << absl::StrFormat("%-10s %-40s -> %s\n", kind, name,
                                   entry.ok() ? (*entry)->name : "UNKNOWN");
    }
  };
  report("hardware", hardware, [&](const std::string& n) { return c.FindAccelerator(n); });
  report("model", models, [&](const std::string& n) { return c.FindModel(n); });
  report("precision", precisions, [&](const std::string& n) { return c.FindPrecision(n); });
  for (const auto& [name, its_models] : models_without_precision) {
    for (const std::string& model : its_models) {
      const PrecisionSpec* checkpoint = c.PrecisionOf({.model = model, .precision = name});
      std::string entry;
      if (checkpoint != nullptr) {
        entry = absl::StrCat(checkpoint->name, " (its checkpoint)");
      } else if (c.LookupModel(model) == nullptr) {
        entry = "UNKNOWN (the model is not in the catalogue)";  // counted with the models
      } else {
        entry = "UNKNOWN (the catalogue gives no checkpoint_precision)";
        ++unresolved;
      }
      std::cout << absl::StrFormat("%-10s %-40s -> %s\n", "precision",
                                   absl::StrCat("'", name, "' of ", model), entry);
    }
  }
  return unresolved == 0 ? 0 : 5;
}

absl::StatusOr<int> RunMemoryCheck(const CommandLine& line) {
  absl::StatusOr<std::shared_ptr<const Catalogue>> catalogue = CatalogueFrom(line);
  if (!catalogue.ok()) return catalogue.status();
  absl::StatusOr<int> examples = line.GetInt("examples", 5);
  if (!examples.ok()) return examples.status();
  if (*examples < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--examples=", *examples, ": must be >= 0"));
  }
  const std::vector<std::string> paths = line.GetAll("data");
  if (paths.empty()) return absl::InvalidArgumentError("--data is required");
  int impossible = 0;
  for (const std::string& path : paths) {
    absl::StatusOr<CsvReadResult> read = ReadBenchmarkCsv(path, BadRowPolicy::kSkip);
    if (!read.ok()) return read.status();
    std::vector<RunOrigin> origins(read->records.size());
    for (size_t i = 0; i < origins.size(); ++i) {
      origins[i] = {absl::StrCat(path, ":", read->record_lines[i]), read->record_num_gpus_given[i]};
    }
    const std::vector<CampaignMemoryCheck> checks = CheckMeasuredRunsFit(
        read->records, origins, catalogue->get(), static_cast<size_t>(*examples));
    std::cout << absl::StrFormat("%s: %d runs (%d rows unreadable, %d out of scope)\n", path,
                                 read->records.size(), read->rejected_rows.size(),
                                 read->filtered_row_count);
    std::cout << absl::StrFormat("  %-40s %7s %7s %12s %7s\n", "campaign", "runs", "fits",
                                 "does_not_fit", "unknown");
    for (const CampaignMemoryCheck& check : checks) {
      impossible += check.does_not_fit;
      std::cout << absl::StrFormat("  %-40s %7d %7d %12d %7d\n", check.campaign,
                                   check.fits + check.does_not_fit + check.unknown, check.fits,
                                   check.does_not_fit, check.unknown);
    }
    for (const CampaignMemoryCheck& check : checks) {
      for (const ImpossibleRun& run : check.impossible) {
        std::cout << absl::StrFormat("  impossible %s: %s, %d+%d tokens, batch %d: %s\n",
                                     run.location, run.configuration.ToString(),
                                     run.shape.input_tokens, run.shape.output_tokens,
                                     run.batch_size, run.reason);
      }
    }
    for (const CampaignMemoryCheck& check : checks) {
      for (const auto& [reason, count] : check.unknown_reasons) {
        std::cout << absl::StrFormat("  unknown %s: %d runs: %s\n", check.campaign, count, reason);
      }
    }
  }
  return impossible == 0 ? 0 : 5;
}

absl::StatusOr<PredictionQuery> QueryFrom(const CommandLine& line) {
  PredictionQuery query;
  for (const char* name : {"hardware", "framework", "model", "precision"}) {
    if (!line.Has(name))
      return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
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
  // Its length is the server's to check (configuration.campaign, INVALID_ARGUMENT).
  query.configuration.campaign = line.Get("campaign");
  if (line.Has("batch-semantics")) {
    std::optional<BatchSemantics> semantics = BatchSemanticsFromName(line.Get("batch-semantics"));
    if (!semantics.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--batch-semantics=", line.Get("batch-semantics"),
                       ": must be static, concurrency or max_throughput"));
    }
    query.configuration.batch_semantics = *semantics;
  }
  return query;
}

#ifdef PERFCAST_WITH_REMOTE
absl::StatusOr<RemoteTarget> TargetFrom(const CommandLine& line, double default_timeout_s) {
  absl::StatusOr<std::string> address = line.Required("server");
  if (!address.ok()) return address.status();
  absl::StatusOr<double> timeout = line.GetDouble("timeout", default_timeout_s);
  if (!timeout.ok()) return timeout.status();
  if (!(*timeout > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("--timeout=", *timeout, ": must be > 0"));
  }
  RemoteTarget target;
  target.address = *address;
  target.timeout = absl::Seconds(*timeout);
  const char* token = std::getenv("PERFCAST_TOKEN");
  target.token = line.Get("token", token != nullptr ? token : "");
  if (absl::Status read =
          ReadTlsFiles(line.Get("tls-ca"), line.Get("tls-cert"), line.Get("tls-key"), &target);
      !read.ok()) {
    return read;
  }
  return target;
}

#endif  // PERFCAST_WITH_REMOTE

absl::Status RunPredict(const CommandLine& line) {
  absl::StatusOr<PredictionQuery> query = QueryFrom(line);
  if (!query.ok()) return query.status();
  absl::StatusOr<std::vector<int>> batches = line.GetIntList("batch-size");
  if (!batches.ok()) return batches.status();
  absl::StatusOr<double> confidence = line.GetDouble("confidence", 0.9);
  if (!confidence.ok()) return confidence.status();
  std::vector<PointPrediction> points;
  std::vector<std::string> unseen_names;
  std::vector<Curve> measured;  // for --svg: a bundle's curves of this configuration and shape
  double confidence_used = *confidence;
  if (line.Has("server")) {
#ifdef PERFCAST_WITH_REMOTE
    absl::StatusOr<RemoteTarget> target = TargetFrom(line, 10);
    if (!target.ok()) return target.status();
    absl::StatusOr<RemotePrediction> remote = RemotePredict(*target, *query, *batches, *confidence);
    if (!remote.ok()) return remote.status();
    points = std::move(remote->points);
    unseen_names = std::move(remote->unseen_names);
    confidence_used = remote->confidence_level;
#else
    return absl::UnimplementedError("this build of perfcast has no gRPC client");
#endif
  } else {
    absl::StatusOr<std::string> bundle = line.Required("bundle");
    if (!bundle.ok()) return absl::InvalidArgumentError("--bundle or --server is required");
    absl::StatusOr<std::shared_ptr<const PerfcastModel>> model = LoadBundle(*bundle);
    if (!model.ok()) return model.status();
    absl::StatusOr<std::vector<PointPrediction>> predicted =
        (*model)->Predict(*query, *batches, *confidence);
    if (!predicted.ok()) return predicted.status();
    points = *std::move(predicted);
    unseen_names = (*model)->UnseenNames(query->configuration);
    if (line.Has("svg")) measured = MeasuredCurvesOf(**model, *query);
  }
  // On stderr, so that the table and the JSON stay the same for a bundle and a server.
  if (!unseen_names.empty()) {
    std::cerr << "perfcast predict: the data has never seen " << absl::StrJoin(unseen_names, ", ")
              << "; the interval is that of a configuration with a name the data lacks\n";
  }
  std::cout << (line.Has("json") ? FormatPredictionJsonLines(points)
                                 : FormatPredictionTable(points, confidence_used));
  if (line.Has("svg")) {
    return WriteSvgFile(line.Get("svg"), ThroughputChart(*query, points, confidence_used, measured),
                        "--svg");
  }
  return absl::OkStatus();
}

#ifdef PERFCAST_WITH_REMOTE
absl::Status RunUncertainty(const CommandLine& line) {
  absl::StatusOr<RemoteTarget> target = TargetFrom(line, 10);
  if (!target.ok()) return target.status();
  absl::StatusOr<PredictionQuery> query = QueryFrom(line);
  if (!query.ok()) return query.status();
  absl::StatusOr<int> batch = line.GetInt("batch-size", 1);
  absl::StatusOr<int> neighbors = line.GetInt("neighbors", 5);
  if (!batch.ok()) return batch.status();
  if (!neighbors.ok()) return neighbors.status();
  return RemoteUncertainty(*target, *query, *batch, *neighbors, line.Has("json"), std::cout);
}

absl::Status RunPlanCommand(const CommandLine& line) {
  std::optional<RemoteTarget> server;
  if (line.Has("server")) {
    absl::StatusOr<RemoteTarget> target = TargetFrom(line, 60);
    if (!target.ok()) return target.status();
    server = *std::move(target);
  }
  return RunPlan(line, server, std::cout);
}

absl::StatusOr<int> RunSubmit(const CommandLine& line) {
  absl::StatusOr<RemoteTarget> target = TargetFrom(line, 600);
  if (!target.ok()) return target.status();
  SubmitOptions options;
  absl::StatusOr<std::string> data = line.Required("data");
  if (!data.ok()) return data.status();
  options.csv_path = *data;
  options.source_id = line.Get("source-id");
  absl::StatusOr<int> chunk_size = line.GetInt("chunk-size", 500);
  if (!chunk_size.ok()) return chunk_size.status();
  options.chunk_size = *chunk_size;
  if (isatty(STDERR_FILENO)) options.progress = &std::cerr;
  absl::StatusOr<SubmitSummary> summary =
      RemoteSubmit(*target, options, line.Has("json"), std::cout, std::cerr);
  if (!summary.ok()) return summary.status();
  return summary->rejected > 0 || summary->unreadable_rows > 0 ? 5 : 0;
}

absl::Status RunRefit(const CommandLine& line) {
  absl::StatusOr<RemoteTarget> target = TargetFrom(line, 600);
  if (!target.ok()) return target.status();
  return RemoteRefit(*target, line.Has("wait"), line.Has("json"), std::cout);
}

absl::Status RunStatus(const CommandLine& line) {
  absl::StatusOr<RemoteTarget> target = TargetFrom(line, 10);
  if (!target.ok()) return target.status();
  return RemoteModelStatus(*target, line.Has("json"), std::cout);
}

absl::Status RunConfigs(const CommandLine& line) {
  absl::StatusOr<RemoteTarget> target = TargetFrom(line, 10);
  if (!target.ok()) return target.status();
  return RemoteConfigurations(*target, line.Has("json"), std::cout);
}

absl::Status RunQuarantine(const CommandLine& line) {
  const std::vector<std::string>& words = line.positionals();
  if (words.empty()) {
    return absl::InvalidArgumentError("an action is required: list, release ID... or drop ID...");
  }
  const std::string& action = words[0];
  std::vector<int64_t> ids;
  for (size_t i = 1; i < words.size(); ++i) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(words[i], &id) || id <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", words[i], "': not a result id (a positive integer from list)"));
    }
    ids.push_back(id);
  }
  absl::StatusOr<RemoteTarget> target = TargetFrom(line, 10);
  if (!target.ok()) return target.status();
  const bool json = line.Has("json");
  if (action == "list") {
    if (!ids.empty()) return absl::InvalidArgumentError("list takes no ids");
    return RemoteQuarantineList(*target, json, std::cout);
  }
  if (action != "release" && action != "drop") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown action '", action, "': list, release ID... or drop ID..."));
  }
  if (ids.empty()) return absl::InvalidArgumentError(absl::StrCat(action, " needs result ids"));
  return action == "release" ? RemoteQuarantineRelease(*target, ids, json, std::cout)
                             : RemoteQuarantineDrop(*target, ids, json, std::cout);
}

absl::Status RunBench(const CommandLine& line) {
  PredictLoadOptions options;
  absl::StatusOr<RemoteTarget> target = TargetFrom(line, 5);
  if (!target.ok()) return target.status();
  options.target = *std::move(target);
  absl::StatusOr<int> concurrency = line.GetInt("concurrency", options.concurrency);
  absl::StatusOr<int> channels = line.GetInt("channels", options.channels);
  absl::StatusOr<double> rate = line.GetDouble("rate", options.rate);
  absl::StatusOr<double> duration = line.GetDouble("duration", 10);
  absl::StatusOr<double> warmup = line.GetDouble("warmup", 1);
  absl::StatusOr<int> input = line.GetInt("input-tokens", options.input_tokens);
  absl::StatusOr<int> output = line.GetInt("output-tokens", options.output_tokens);
  for (const absl::Status& status :
       {concurrency.status(), channels.status(), rate.status(), duration.status(), warmup.status(),
        input.status(), output.status()}) {
    if (!status.ok()) return status;
  }
  options.concurrency = *concurrency;
  options.channels = *channels;
  options.rate = *rate;
  options.duration = absl::Seconds(*duration);
  options.warmup = absl::Seconds(std::max(0.0, *warmup));
  options.input_tokens = *input;
  options.output_tokens = *output;
  if (line.Has("batch-sizes")) {
    absl::StatusOr<std::vector<int>> batches = line.GetIntList("batch-sizes");
    if (!batches.ok()) return batches.status();
    options.batch_sizes = *batches;
  }
  if (line.Has("hardware")) {
    absl::StatusOr<PredictionQuery> query = QueryFrom(line);
    if (!query.ok()) return query.status();
    options.configuration = query->configuration;
  }
  // As in the server: Debian's Abseil keeps absl::Mutex's deadlock detector on, a lock-order
  // graph update in every lock gRPC takes, which the load generator should not pay for.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::StatusOr<PredictLoadResult> result = RunPredictLoad(options);
  if (!result.ok()) return result.status();
  std::cout << FormatPredictLoad(options, *result, line.Has("json"));
  if (result->errors > 0) {
    return absl::UnknownError(absl::StrCat(result->errors, " of ", result->completed,
                                           " calls failed; first: ", result->first_error));
  }
  return absl::OkStatus();
}
#endif  // PERFCAST_WITH_REMOTE

// The exit code for a failed command (documented in kUsage). Local commands keep their original
// codes: 2 for invalid arguments, 1 for anything else.
int ExitCode(const absl::Status& status, bool remote) {
  if (!remote) return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 2;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return 3;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
      return 4;
    case absl::StatusCode::kResourceExhausted:
      return 6;
    default:
      return 1;
  }
}

// A command that has no exit code of its own besides success.
template <absl::Status (*Run)(const CommandLine&)>
absl::StatusOr<int> ZeroOnSuccess(const CommandLine& line) {
  absl::Status status = Run(line);
  if (!status.ok()) return status;
  return 0;
}

struct Command {
  const char* name;
  const char* help;
  std::vector<std::string> flags;
  std::vector<std::string> boolean_flags;
  // The exit code on success (0, or e.g. 5 for a partial submit); a failure maps by ExitCode.
  absl::StatusOr<int> (*run)(const CommandLine&);
  bool positionals = false;  // takes arguments that are not flags (an action, ids)
};

int Main(int argc, char** argv) {
  // How every --server command reaches the server (TargetFrom).
  const std::vector<std::string> kConnectionFlags = {"server",   "timeout", "tls-ca",
                                                     "tls-cert", "tls-key", "token"};
  const std::vector<std::string> configuration_flags = {
      "hardware",     "num-gpus",      "framework", "model",          "precision",
      "input-tokens", "output-tokens", "campaign",  "batch-semantics"};
  auto with = [](std::vector<std::string> flags, const std::vector<std::string>& more) {
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
  };
  const std::vector<Command> commands = {
      {"eval",
       kEvalHelp,
       {"data", "protocol", "shots", "methods", "confidence", "levels", "seed", "threads",
        "catalogue", "points", "report"},
       {"faithful", "json", "skip-unresolved", "quiet", "help"},
       ZeroOnSuccess<RunEval>},
      {"fit",
       kFitHelp,
       {"data", "out", "seed", "threads", "catalogue"},
       {"quiet", "help"},
       ZeroOnSuccess<RunFit>},
      {"catalogue", kCatalogueHelp, {"catalogue", "data"}, {"help"}, RunCatalogue},
      {"memory-check",
       kMemoryCheckHelp,
       {"catalogue", "data", "examples"},
       {"help"},
       RunMemoryCheck},
      {"predict",
       kPredictHelp,
       with(configuration_flags,
            with(kConnectionFlags, {"bundle", "batch-size", "confidence", "svg"})),
       {"json", "help"},
       ZeroOnSuccess<RunPredict>},
#ifdef PERFCAST_WITH_REMOTE
      {"uncertainty",
       kUncertaintyHelp,
       with(configuration_flags, with(kConnectionFlags, {"batch-size", "neighbors"})),
       {"json", "help"},
       ZeroOnSuccess<RunUncertainty>},
      {"plan",
       kPlanHelp,
       with(kConnectionFlags, {"bundle",
                               "prices",
                               "model",
                               "input-tokens",
                               "output-tokens",
                               "shape",
                               "demand-tokens-per-s",
                               "demand-requests-per-s",
                               "ttft-s",
                               "itl-s",
                               "batch-latency-s",
                               "confidence",
                               "precision",
                               "hardware",
                               "framework",
                               "max-gpus",
                               "candidates",
                               "price",
                               "rank",
                               "batch-size",
                               "batch-semantics",
                               "campaign",
                               "limit",
                               "page-token"}),
       {"json", "help"},
       ZeroOnSuccess<RunPlanCommand>},
      {"submit",
       kSubmitHelp,
       with(kConnectionFlags, {"data", "source-id", "chunk-size"}),
       {"json", "help"},
       RunSubmit},
      {"refit", kRefitHelp, kConnectionFlags, {"wait", "json", "help"}, ZeroOnSuccess<RunRefit>},
      {"status", kStatusHelp, kConnectionFlags, {"json", "help"}, ZeroOnSuccess<RunStatus>},
      {"configs", kConfigsHelp, kConnectionFlags, {"json", "help"}, ZeroOnSuccess<RunConfigs>},
      {"quarantine",
       kQuarantineHelp,
       kConnectionFlags,
       {"json", "help"},
       ZeroOnSuccess<RunQuarantine>,
       /*positionals=*/true},
      {"bench",
       kBenchHelp,
       with(configuration_flags, with(kConnectionFlags, {"concurrency", "rate", "channels",
                                                         "duration", "warmup", "batch-sizes"})),
       {"json", "help"},
       ZeroOnSuccess<RunBench>},
#endif
  };
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (const Command& command : commands) {
    if (name != command.name) continue;
    absl::StatusOr<CommandLine> line =
        CommandLine::Parse(std::vector<std::string>(argv + 2, argv + argc), command.flags,
                           command.boolean_flags, command.positionals);
    if (!line.ok()) {
      std::cerr << "perfcast " << name << ": " << line.status().message() << "\n" << command.help;
      return 2;
    }
    if (line->Has("help")) {
      std::cout << command.help;
      return 0;
    }
    const absl::StatusOr<int> exit_code = command.run(*line);
    if (!exit_code.ok()) {
      std::cerr << "perfcast " << name << ": " << exit_code.status().message() << "\n";
      return ExitCode(exit_code.status(), line->Has("server"));
    }
    return *exit_code;
  }
  std::cerr << "perfcast: unknown command '" << name << "'\n" << kUsage;
  return 2;
}

}  // namespace
}  // namespace perfcast

int main(int argc, char** argv) { return perfcast::Main(argc, argv); }
