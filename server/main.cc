// perfcast-server: serves throughput predictions over gRPC, absorbs streamed benchmark results
// into a durable store and retrains in the background. See docs/SERVING.md.
#include <malloc.h>
#include <pthread.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/catalogue/catalogue.h"
#include "core/plan/price_list.h"
#include "server/observability/log_format.h"
#include "server/perfcast_server.h"
#include "server/rpc/authorization.h"
#include "server/store/store_seeding.h"

#ifndef PERFCAST_DEFAULT_SEED_DATA
#define PERFCAST_DEFAULT_SEED_DATA "data/default_benchmarks.csv"
#endif
#ifndef PERFCAST_DEFAULT_CATALOGUE
#define PERFCAST_DEFAULT_CATALOGUE "data/catalogue"
#endif

ABSL_FLAG(std::string, host, "0.0.0.0", "Address to listen on for gRPC and metrics.");
ABSL_FLAG(int, port, 50051, "gRPC port (0: pick a free one and log it).");
ABSL_FLAG(int, metrics_port, 9090, "Prometheus /metrics port (-1: off, 0: pick a free one).");
ABSL_FLAG(std::string, store, "",
          "Benchmark and model store: empty for the embedded SQLite store under --data-dir (one "
          "server), or a PostgreSQL URL (postgresql://user@host:5432/db) shared by replicas.");
ABSL_FLAG(std::string, data_dir, "perfcast-data", "Directory of the benchmark store (SQLite).");
ABSL_FLAG(std::string, model_dir, "",
          "Directory of model versions (default: <data-dir>/models; unused with PostgreSQL).");
ABSL_FLAG(double, store_poll_seconds, 5,
          "PostgreSQL: re-read the shared state at least this often, besides LISTEN/NOTIFY "
          "(0.1 to 60).");
ABSL_FLAG(double, leader_retry_seconds, 2,
          "PostgreSQL: how often a replica tries to take the training lock, and the leader checks "
          "it still holds it (0.1 to 60).");
ABSL_FLAG(std::string, seed_data, PERFCAST_DEFAULT_SEED_DATA,
          "CSV loaded into an empty store on first start (empty: none).");
ABSL_FLAG(bool, allow_empty_store, false,
          "Start even though the benchmark store is empty (missing, truncated) while model "
          "versions exist; without it the server refuses to start on such a store.");
ABSL_FLAG(std::string, catalogue, PERFCAST_DEFAULT_CATALOGUE,
          "Directory of the hardware/model catalogue (accelerators.csv, models.csv, "
          "precisions.csv, aliases.csv), read at start; 'none': train without physical features. "
          "Check an edited one with `perfcast catalogue --catalogue DIR`.");
ABSL_FLAG(std::string, prices, "",
          "CSV of dollars per GPU-hour (columns hardware, usd_per_gpu_hour) for Plan, read at "
          "start; a request's own prices go over it. Empty: none.");
ABSL_FLAG(int, plan_threads, 2,
          "Threads that predict the candidates of one Plan call at once (1 to 64).");
ABSL_FLAG(int64_t, retrain_after_results, 1000, "Retrain after this many new results (0: off).");
ABSL_FLAG(double, retrain_quiet_seconds, 30,
          "Retrain after this many seconds without new results, once some arrived (0: off).");
ABSL_FLAG(int, max_queries_per_request, 1000, "Most queries in one Predict call.");
ABSL_FLAG(int, max_batch_sizes_per_query, 256, "Most batch sizes in one query.");
ABSL_FLAG(int64_t, max_stream_results, 100000, "Most results in one SubmitBenchmarks stream.");
ABSL_FLAG(int, max_receive_message_bytes, 4 * 1024 * 1024, "Largest request message accepted.");
ABSL_FLAG(int, max_threads, 8, "Threads gRPC may use for callbacks.");
ABSL_FLAG(int, train_threads, 1,
          "Threads one retrain may use once a model serves (--first-train-threads before): its "
          "cross-fit models train this many at once, one "
          "thread and its own rows and histograms each, so more threads finish sooner and peak "
          "higher in memory (bench/README.md); its two other models train on this many "
          "OpenMP threads, whose spinning slows them when the cores are busy (or set "
          "OMP_WAIT_POLICY=passive).");
ABSL_FLAG(int, first_train_threads, 0,
          "Threads of the first training, while no model serves yet (every Predict is refused "
          "until one does): 0 picks the CPUs the process may use (affinity, cgroup CPU quota), at "
          "most 4 and at least --train-threads; each holds its own rows and histograms.");
ABSL_FLAG(bool, reuse_cross_fit, true,
          "A refit predicts its held-out errors with the serving model's cross-fit models, and "
          "skips growing them (most of a refit's time), unless a curve is gone, the curves "
          "grew by more than a quarter since they were grown, or the serving model was loaded "
          "from its bundle (which keeps none: the first refit after a start grows them). Names "
          "they never saw, as a new campaign brings, do not make them grow. false: every refit "
          "trains from scratch, as `perfcast fit` does.");
ABSL_FLAG(std::string, train_priority, "19",
          "How retraining competes with Predict for the CPU: a nice value 0-19 (a share of the "
          "CPU: beside a Predict load a refit finishes sooner than under idle, with a lower "
          "Predict p99) or 'idle' (SCHED_IDLE: only CPU time nothing else wants, which when "
          "Predict keeps every core busy costs Predict less and the refit more).");
ABSL_FLAG(double, drain_seconds, 10, "On SIGTERM/SIGINT: time given to in-flight RPCs.");
ABSL_FLAG(bool, reflection, true, "Serve gRPC server reflection.");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound gRPC port is written here once listening (for scripts and tests).");
// TLS file errors name the option field: cert_file is --tls-cert, key_file --tls-key,
// client_ca_file --tls-client-ca.
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain for TLS on the gRPC port (with --tls-key; empty: plaintext).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls-cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: clients must present a certificate it signed (mutual TLS; needs "
          "--tls-cert). A certificate's subject CN may stand for a name in --auth-tokens.");
ABSL_FLAG(std::string, auth_tokens, "",
          "CSV 'token,name,role' (roles: read, write, admin): calls must carry "
          "'authorization: Bearer TOKEN'. Empty: anyone may call everything (a warning is "
          "logged).");
// Off unless set, like --auth-tokens: a limit on by default turned a bulk import away part way
// (and a rerun spent the budget again on the duplicates of what was stored).
ABSL_FLAG(double, max_results_per_second, 0,
          "Results one caller (token name, or peer host without tokens) may submit per second, "
          "with bursts of 10 seconds' worth; beyond it RESOURCE_EXHAUSTED with the time to "
          "retry. 0 (default): unlimited.");
ABSL_FLAG(double, max_refits_per_minute, 0,
          "Refit calls one caller may make per minute; beyond it RESOURCE_EXHAUSTED with the "
          "time to retry. 0 (default): unlimited.");
ABSL_FLAG(int, keep_versions, 10,
          "Model versions kept in the model store, newest first; older ones are deleted after "
          "each version this server trains (never the serving one; with replicas, only the "
          "training one deletes). 0: keep all.");
ABSL_FLAG(std::string, log_level, "info", "spdlog level: trace, debug, info, warn, error.");

namespace {

// Accepts --data-dir as well as --data_dir: dashes in a flag's name become underscores.
std::vector<char*> NormaliseFlagNames(int argc, char** argv, std::vector<std::string>* storage) {
  storage->reserve(static_cast<size_t>(argc));
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i > 0 && arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      const size_t end = std::min(arg.find('='), arg.size());
      for (size_t j = 2; j < end; ++j) {
        if (arg[j] == '-') arg[j] = '_';
      }
    }
    storage->push_back(std::move(arg));
  }
  std::vector<char*> pointers;
  for (std::string& s : *storage) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("perfcast-server [--port=50051] [--data-dir=DIR] ...");
  std::vector<std::string> arg_storage;
  std::vector<char*> args = NormaliseFlagNames(argc, argv, &arg_storage);
  absl::ParseCommandLine(argc, args.data());
  spdlog::set_level(spdlog::level::from_str(absl::GetFlag(FLAGS_log_level)));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::flush_on(spdlog::level::info);  // a log line is on disk before a crash or kill
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock detector on: a
  // lock-order graph update on every lock, a few percent of each Predict. Tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // A training's large buffers (its rows, XGBoost's matrices) are mapped on their own and go back
  // to the system as soon as each is freed. By default glibc raises its mapping threshold to the
  // largest mapped block freed so far (up to 32 MiB), so that after the first training they come
  // from the heap, whose freed pages stay resident until a trim: a refit's peak and the size
  // between refits grow (docs/ACCURACY-LOG.md, Performance). MALLOC_MMAP_THRESHOLD_ in the
  // environment, if set, decides instead (a glibc.malloc.mmap_threshold tunable does not: this
  // call overrides it).
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 4 << 20);

  // Signals are taken synchronously by this thread (sigwait) so that shutdown runs in normal
  // code, not in a handler; every thread started later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  perfcast::server::ServerOptions options;
  const std::string host = absl::GetFlag(FLAGS_host);
  options.listen_address = absl::StrCat(host, ":", absl::GetFlag(FLAGS_port));
  const int metrics_port = absl::GetFlag(FLAGS_metrics_port);
  options.metrics_address = metrics_port < 0 ? "" : absl::StrCat(host, ":", metrics_port);
  options.store = absl::GetFlag(FLAGS_store);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  for (auto [name, seconds, target] :
       {std::tuple{"store_poll_seconds", absl::GetFlag(FLAGS_store_poll_seconds),
                   &options.store_poll_interval},
        std::tuple{"leader_retry_seconds", absl::GetFlag(FLAGS_leader_retry_seconds),
                   &options.leader_retry_interval}}) {
    if (!(seconds >= 0.1 && seconds <= 60)) {
      spdlog::critical("event=start_failed status=\"--{}={}: must be within 0.1 to 60\"", name,
                       seconds);
      return EXIT_FAILURE;
    }
    *target = absl::Seconds(seconds);
  }
  options.model_dir = absl::GetFlag(FLAGS_model_dir);
  options.seed_data = absl::GetFlag(FLAGS_seed_data);
  options.allow_empty_store = absl::GetFlag(FLAGS_allow_empty_store);
  options.retrain.retrain_after_results = absl::GetFlag(FLAGS_retrain_after_results);
  options.retrain.quiet = absl::Seconds(absl::GetFlag(FLAGS_retrain_quiet_seconds));
  options.retrain.train.threads = absl::GetFlag(FLAGS_train_threads);
  if (options.retrain.train.threads < 1) {
    spdlog::critical("event=start_failed status=\"--train-threads={}: must be >= 1\"",
                     options.retrain.train.threads);
    return EXIT_FAILURE;
  }
  options.retrain.first_train_threads = absl::GetFlag(FLAGS_first_train_threads);
  if (options.retrain.first_train_threads < 0) {
    spdlog::critical("event=start_failed status=\"--first-train-threads={}: must be >= 0\"",
                     options.retrain.first_train_threads);
    return EXIT_FAILURE;
  }
  options.retrain.reuse_cross_fit = absl::GetFlag(FLAGS_reuse_cross_fit);
  const std::string priority = absl::GetFlag(FLAGS_train_priority);
  if (absl::Status set = perfcast::server::SetTrainPriority(priority, options.retrain); !set.ok()) {
    spdlog::critical("event=start_failed status=\"--train-priority={}: {}\"", priority,
                     set.message());
    return EXIT_FAILURE;
  }
  if (const std::string directory = absl::GetFlag(FLAGS_catalogue); directory != "none") {
    absl::StatusOr<perfcast::Catalogue> catalogue = perfcast::Catalogue::Load(directory);
    if (!catalogue.ok()) {
      spdlog::critical("event=start_failed flag=catalogue status=\"{}\"",
                       catalogue.status().ToString());
      return EXIT_FAILURE;
    }
    spdlog::info("event=catalogue_loaded directory=\"{}\" accelerators={} models={}", directory,
                 catalogue->accelerators().size(), catalogue->models().size());
    options.retrain.train.catalogue =
        std::make_shared<const perfcast::Catalogue>(*std::move(catalogue));
  }
  if (const std::string path = absl::GetFlag(FLAGS_prices); !path.empty()) {
    absl::StatusOr<perfcast::PriceList> prices = perfcast::PriceList::ReadCsv(path);
    if (!prices.ok()) {
      spdlog::critical("event=start_failed flag=prices status=\"{}\"", prices.status().ToString());
      return EXIT_FAILURE;
    }
    if (absl::Status spellings = prices->CheckSpellings(options.retrain.train.catalogue.get());
        !spellings.ok()) {
      spdlog::critical("event=start_failed flag=prices status=\"{}: {}\"", path,
                       spellings.message());
      return EXIT_FAILURE;
    }
    spdlog::info("event=prices_loaded path=\"{}\" hardware={}", path, prices->size());
    options.prices = std::make_shared<const perfcast::PriceList>(*std::move(prices));
  }
  options.plan_threads = absl::GetFlag(FLAGS_plan_threads);
  if (options.plan_threads < 1 || options.plan_threads > 64) {
    spdlog::critical("event=start_failed status=\"--plan-threads={}: must be in [1, 64]\"",
                     options.plan_threads);
    return EXIT_FAILURE;
  }
  options.limits.max_queries_per_request = absl::GetFlag(FLAGS_max_queries_per_request);
  options.limits.max_batch_sizes_per_query = absl::GetFlag(FLAGS_max_batch_sizes_per_query);
  options.max_stream_results = absl::GetFlag(FLAGS_max_stream_results);
  options.max_receive_message_bytes = absl::GetFlag(FLAGS_max_receive_message_bytes);
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  options.enable_reflection = absl::GetFlag(FLAGS_reflection);
  options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  if (auto credentials = perfcast::server::MakeServerCredentials(options.tls); !credentials.ok()) {
    spdlog::critical("event=start_failed flag=tls status=\"{}\"", credentials.status().ToString());
    return EXIT_FAILURE;
  }
  if (const std::string tokens = absl::GetFlag(FLAGS_auth_tokens); !tokens.empty()) {
    absl::StatusOr<perfcast::server::Authorizer> authorizer =
        perfcast::server::Authorizer::FromFile(tokens);
    if (!authorizer.ok()) {
      spdlog::critical("event=start_failed flag=auth-tokens status=\"{}\"",
                       authorizer.status().ToString());
      return EXIT_FAILURE;
    }
    options.authorizer =
        std::make_shared<const perfcast::server::Authorizer>(*std::move(authorizer));
  }
  for (auto [name, value, target] :
       {std::tuple{"max_results_per_second", absl::GetFlag(FLAGS_max_results_per_second),
                   &options.max_results_per_second},
        std::tuple{"max_refits_per_minute", absl::GetFlag(FLAGS_max_refits_per_minute),
                   &options.max_refits_per_minute}}) {
    if (!(value >= 0)) {
      spdlog::critical("event=start_failed status=\"--{}={}: must be >= 0\"", name, value);
      return EXIT_FAILURE;
    }
    *target = value;
  }
  options.keep_versions = absl::GetFlag(FLAGS_keep_versions);
  if (options.keep_versions < 0) {
    spdlog::critical("event=start_failed status=\"--keep-versions={}: must be >= 0\"",
                     options.keep_versions);
    return EXIT_FAILURE;
  }

  perfcast::server::PerfcastServer server(options);
  if (absl::Status started = server.Start(); !started.ok()) {
    spdlog::critical("event=start_failed status=\"{}{}\"", started.ToString(),
                     perfcast::server::IsEmptiedStore(started)
                         ? " (--allow-empty-store starts on it anyway)"
                         : "");
    return EXIT_FAILURE;
  }
  if (const std::string port_file = absl::GetFlag(FLAGS_port_file); !port_file.empty()) {
    const std::string temp = port_file + ".tmp";
    if (std::FILE* f = std::fopen(temp.c_str(), "w")) {
      std::fprintf(f, "%d\n", server.port());
      std::fclose(f);
      std::rename(temp.c_str(), port_file.c_str());
    }
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("event=signal_received signal={}", signal_number);
  server.Shutdown(absl::Seconds(absl::GetFlag(FLAGS_drain_seconds)));
  return EXIT_SUCCESS;
}
