#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/model/perfcast_model.h"
#include "server/lifecycle/model_registry.h"
#include "server/observability/refit_trigger.h"
#include "server/observability/server_metrics.h"
#include "server/store/benchmark_store.h"

namespace perfcast::server {

// A retrain whose model would be trained on fewer than this share of the serving model's points
// fails FailedPrecondition and publishes nothing, unless a Refit allows it: a store that was
// emptied or replaced by a small one would otherwise swap a good model for a poor one without a
// word.
inline constexpr double kMinTrainedShare = 0.5;

// The outcome of one retrain.
struct RefitOutcome {
  int64_t refit_id = 0;
  RefitTrigger trigger = RefitTrigger::kRpc;  // unset when refit_id is 0
  absl::Status status;                        // not OK: the previous model keeps serving
  int64_t model_version = 0;                  // the version produced (status OK)
  absl::Time start_time;
  absl::Duration duration;
  bool running = false;  // for LastRefit() while one runs
  // Threads it trains on: Options::train.threads, or Options::first_train_threads's while no
  // model served yet; set once the store is read.
  int train_threads = 0;
  // Whether it reused the serving model's cross-fit (Options::reuse_cross_fit), or why it grew
  // its own; set once trained.
  CrossFitSource cross_fit_source = CrossFitSource::kGrown;
};

// Retrains the model off to the side and hands it to the registry. One retrain at a time, on its
// own thread; triggers: `retrain_after_results` new results, `quiet` without new results after
// some arrived, or an explicit request. Each retrain reads the whole store, trains, saves and
// swaps; a failure is logged and counted and the old model keeps serving.
//
// With a shared store (several replicas), only the replica holding the training lock trains:
// SetTrainingAllowed(false) holds the count and quiet triggers, and hands requests to the
// forwarder (SetRefitForwarder), whose callbacks then complete with the next model this replica
// serves (ModelServed); without a forwarder they fail with FailedPrecondition. New results
// are then counted from the store (ObserveSharedStore) rather than from this replica's commits,
// so results submitted to any replica count, and a replica that takes over sees at once what the
// newest model has not been trained on. A refit that fails because the store is out of reach
// (Unavailable) is retried by the triggers after a pause; other failures wait for new results, as
// with a store of one's own.
//
// Thread safety: every public method may be called from any thread. Callbacks passed to
// RequestRefit run on the worker thread and must not block.
// The most threads a first training picks by itself (Options::first_train_threads 0): each holds
// its own rows and histograms, and a host may show more CPUs than the memory allows for.
inline constexpr int kMaxAutomaticFirstTrainThreads = 4;

class RetrainWorker {
 public:
  struct Options {
    int64_t retrain_after_results = 1000;      // <= 0: off
    absl::Duration quiet = absl::Seconds(30);  // <= 0: off
    TrainOptions train;
    // Threads of a training while no model serves yet (every Predict is refused until one does):
    // 0 picks them, the CPUs the process may use (AvailableCpus()) up to
    // kMaxAutomaticFirstTrainThreads and at least train.threads; each holds its own rows.
    int first_train_threads = 0;
    // A refit predicts its held-out errors with the serving model's cross-fit when it may
    // (TrainOptions::reuse_cross_fit_of): it then skips growing most of its models. Off, every
    // refit trains as `perfcast fit` does, and its bundle depends on the data and seed alone.
    bool reuse_cross_fit = true;
    // How training (its thread and the threads it starts) competes with Predict for the CPU:
    // a nice value, or idle (SCHED_IDLE: only CPU time nothing else wants). Nice 19 by default:
    // beside an open-loop Predict load a refit finished sooner under it than under idle, and
    // Predict's p99 rose less (bench/README.md has the runs). Linux probably counts a core that
    // runs only SCHED_IDLE work as idle when it places a waking thread, so Predict's threads
    // keep landing on the trainer's core. When Predict keeps every core busy (a closed loop),
    // idle leaves training less and costs Predict less.
    bool idle_scheduling = false;
    int nice = 19;  // 0 to 19; without idle scheduling, or where the system refuses it
  };
  using Callback = std::function<void(const RefitOutcome&)>;

  RetrainWorker(Options options, BenchmarkStore* store, ModelRegistry* registry,
                ServerMetrics* metrics);
  ~RetrainWorker();  // Stop()s.
  RetrainWorker(const RetrainWorker&) = delete;
  RetrainWorker& operator=(const RetrainWorker&) = delete;

  void Start();
  // Finishes the running retrain (if any), fails queued requests with Unavailable, joins.
  void Stop();

  // `count` new results were stored by this process (a store no one else writes).
  void NotifyResults(int64_t count);

  // At start, with a store no one else writes: the serving model was trained on
  // `trained_results` of the `stored_results`. The rest count as new results, so that the
  // triggers retrain on them as they would have before the restart.
  void CountUntrainedAtStart(int64_t stored_results, int64_t trained_results);

  // Shared store: it holds `stored_results`, and the newest published model was trained on
  // `trained_results` of them. Sets the results since the last refit to the difference (less
  // what a refit of this replica has already read).
  void ObserveSharedStore(int64_t stored_results, int64_t trained_results);

  // Whether this replica may train now (default true). While false, count and quiet triggers
  // wait and refit requests go to the forwarder.
  void SetTrainingAllowed(bool allowed);

  // Shared store: passes a refit request on to the replica that trains. Called on the worker
  // thread without locks held; not OK means the request could not be passed on.
  using Forwarder = std::function<absl::Status(RefitTrigger trigger)>;
  void SetRefitForwarder(Forwarder forwarder);

  // A refit request that another replica forwarded: queued while this replica may train,
  // ignored otherwise (so that requests never circle between replicas).
  void AcceptForwardedRefit();

  // The registry swapped `version` in: completes the callbacks of forwarded requests.
  void ModelServed(int64_t version);

  // Queues a retrain (joining one already queued but not started) and returns its id.
  // `done`, if set, runs once with its outcome (Unavailable if the worker stops first).
  // `allow_shrink`: the new model may replace the serving one even if trained on under
  // kMinTrainedShare of its points (a joined request allows it if any of its requesters does).
  int64_t RequestRefit(RefitTrigger trigger, Callback done, bool allow_shrink = false);

  // The latest retrain's outcome (running = true while it runs); refit_id 0 when none ran.
  RefitOutcome LastRefit() const;
  int64_t results_since_refit() const;

 private:
  void Run();
  void UpdateSharedPending() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Hands the pending refit to the training replica (the forwarder), or fails its waiters when
  // that cannot be done. Releases `mutex_` while calling out, holds it again on return.
  void ForwardPendingRefit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const Options options_;
  BenchmarkStore* const store_;
  ModelRegistry* const registry_;
  ServerMetrics* const metrics_;

  mutable absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  int64_t results_since_refit_ ABSL_GUARDED_BY(mutex_) = 0;
  bool training_allowed_ ABSL_GUARDED_BY(mutex_) = true;
  // Shared store: the latest count observed, and how many results this replica's latest refit
  // read (a lower bound until its read is done).
  bool shared_store_ ABSL_GUARDED_BY(mutex_) = false;
  int64_t observed_stored_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t observed_trained_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t trained_here_ ABSL_GUARDED_BY(mutex_) = 0;
  // Shared store: count and quiet triggers wait until then after a refit failed Unavailable.
  absl::Time retry_not_before_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  absl::Time last_result_time_ ABSL_GUARDED_BY(mutex_);
  // A requested retrain not started yet: its id, trigger and waiters.
  int64_t pending_id_ ABSL_GUARDED_BY(mutex_) = 0;
  RefitTrigger pending_trigger_ ABSL_GUARDED_BY(mutex_) = RefitTrigger::kRpc;
  bool pending_allow_shrink_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<Callback> pending_callbacks_ ABSL_GUARDED_BY(mutex_);
  Forwarder forwarder_ ABSL_GUARDED_BY(mutex_);
  // Waiters of requests passed to the training replica (with the request's id), until a newer
  // model is served here.
  std::vector<std::pair<int64_t, Callback>> forwarded_callbacks_ ABSL_GUARDED_BY(mutex_);
  int64_t next_id_ ABSL_GUARDED_BY(mutex_) = 1;
  RefitOutcome last_ ABSL_GUARDED_BY(mutex_);
  std::thread thread_;
};

// Applies a training priority to `options`: "idle" for SCHED_IDLE, or a nice value 0-19.
// InvalidArgument stating that rule for anything else; the caller names where `value` came from.
absl::Status SetTrainPriority(absl::string_view value, RetrainWorker::Options& options);

}  // namespace perfcast::server
