#include "server/lifecycle/retrain_worker.h"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/lifecycle/available_cpus.h"
#include "server/observability/log_format.h"

namespace perfcast::server {
namespace {

// How long a replica of a shared store waits before retrying a refit that could not reach it.
constexpr absl::Duration kRetryAfterUnavailable = absl::Seconds(5);

// FailedPrecondition when a model of `points` points would replace `serving` trained on many
// more (kMinTrainedShare); the message says how to replace it anyway.
absl::Status CheckNotShrinking(int64_t points, const ServingModel* serving) {
  if (serving == nullptr) return absl::OkStatus();
  const int64_t serving_points = serving->model->info().point_count;
  if (static_cast<double>(points) >= kMinTrainedShare * static_cast<double>(serving_points)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the new model would be trained on ", points, " points, under ", kMinTrainedShare * 100,
      "% of the ", serving_points, " points of serving version ", serving->version,
      "; it was not published (was the benchmark store emptied or replaced?). Refit with "
      "allow_shrink replaces the model anyway"));
}

// Until a first model serves, every Predict is refused (UNAVAILABLE), so training may have the
// CPUs; the model it trains does not depend on how many threads it uses.
TrainOptions TrainOptionsFor(const RetrainWorker::Options& options, const ServingModel* serving) {
  TrainOptions train = options.train;
  if (serving == nullptr) {
    train.threads =
        options.first_train_threads > 0
            ? options.first_train_threads
            : std::max(train.threads, std::min(AvailableCpus(), kMaxAutomaticFirstTrainThreads));
  }
  if (options.reuse_cross_fit) {
    train.keep_cross_fit = true;
    if (serving != nullptr) train.reuse_cross_fit_of = serving->model;
  }
  return train;
}

}  // namespace

RetrainWorker::RetrainWorker(Options options, BenchmarkStore* store, ModelRegistry* registry,
                             ServerMetrics* metrics)
    : options_(std::move(options)), store_(store), registry_(registry), metrics_(metrics) {}

RetrainWorker::~RetrainWorker() { Stop(); }

void RetrainWorker::Start() {
  thread_ = std::thread([this] {
    // Linux keeps the policy and nice value per thread; threads started from this one inherit
    // them, the rest of the process keeps its own.
    bool idle = false;
    if (options_.idle_scheduling) {
      const sched_param param{};  // SCHED_IDLE takes priority 0
      const int error = pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
      idle = error == 0;
      if (!idle) {
        spdlog::warn("retrain worker: could not set SCHED_IDLE ({}); nice {} instead",
                     std::strerror(error), options_.nice);
      }
    }
    if (!idle && setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.nice) != 0) {
      spdlog::warn("retrain worker: could not set nice {}: {}", options_.nice,
                   std::strerror(errno));
    }
    Run();
  });
}

void RetrainWorker::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::vector<Callback> callbacks;
  int64_t id = 0;
  {
    absl::MutexLock lock(&mutex_);
    callbacks.swap(pending_callbacks_);
    for (auto& [forwarded_id, callback] : forwarded_callbacks_) {
      callbacks.push_back(std::move(callback));
    }
    forwarded_callbacks_.clear();
    id = pending_id_;
    pending_id_ = 0;
  }
  RefitOutcome cancelled;
  cancelled.refit_id = id;
  cancelled.status = absl::UnavailableError("server is shutting down; refit not run");
  for (Callback& callback : callbacks) callback(cancelled);
}

void RetrainWorker::NotifyResults(int64_t count) {
  absl::MutexLock lock(&mutex_);
  results_since_refit_ += count;
  last_result_time_ = absl::Now();
  metrics_->SetResultsSinceRefit(results_since_refit_);
}

void RetrainWorker::CountUntrainedAtStart(int64_t stored_results, int64_t trained_results) {
  const int64_t untrained = std::max<int64_t>(0, stored_results - trained_results);
  spdlog::info("event=untrained_results_counted stored={} trained={} untrained={}", stored_results,
               trained_results, untrained);
  if (untrained > 0) NotifyResults(untrained);
}

void RetrainWorker::ObserveSharedStore(int64_t stored_results, int64_t trained_results) {
  absl::MutexLock lock(&mutex_);
  shared_store_ = true;
  observed_stored_ = std::max(observed_stored_, stored_results);
  observed_trained_ = std::max(observed_trained_, trained_results);
  UpdateSharedPending();
}

void RetrainWorker::UpdateSharedPending() {
  if (!shared_store_) return;
  const int64_t pending =
      std::max<int64_t>(0, observed_stored_ - std::max(observed_trained_, trained_here_));
  if (pending > results_since_refit_) last_result_time_ = absl::Now();
  results_since_refit_ = pending;
  metrics_->SetResultsSinceRefit(results_since_refit_);
}

void RetrainWorker::SetTrainingAllowed(bool allowed) {
  absl::MutexLock lock(&mutex_);
  training_allowed_ = allowed;
}

void RetrainWorker::SetRefitForwarder(Forwarder forwarder) {
  absl::MutexLock lock(&mutex_);
  forwarder_ = std::move(forwarder);
}

void RetrainWorker::AcceptForwardedRefit() {
  absl::MutexLock lock(&mutex_);
  if (stopping_ || !training_allowed_ || pending_id_ != 0) return;
  pending_id_ = next_id_++;
  pending_trigger_ = RefitTrigger::kForwarded;
}

void RetrainWorker::ModelServed(int64_t version) {
  std::vector<std::pair<int64_t, Callback>> callbacks;
  {
    absl::MutexLock lock(&mutex_);
    callbacks.swap(forwarded_callbacks_);
  }
  RefitOutcome served;
  served.trigger = RefitTrigger::kForwarded;
  served.model_version = version;
  for (auto& [id, callback] : callbacks) {
    served.refit_id = id;
    callback(served);
  }
}

void RetrainWorker::ForwardPendingRefit() {
  RefitOutcome refused;
  refused.refit_id = pending_id_;
  refused.trigger = pending_trigger_;
  // A forwarded refit carries its trigger only, so the training replica would run it with the
  // shrink guard on: refuse it here, where the caller still waits, instead of letting it fail
  // out of sight.
  if (pending_allow_shrink_) {
    refused.status = absl::FailedPreconditionError(
        "allow_shrink: this replica does not hold the training lock and cannot pass allow_shrink "
        "on; send the Refit to the replica that trains (perfcast_training_leader 1)");
    std::vector<Callback> failed = std::move(pending_callbacks_);
    pending_callbacks_.clear();
    pending_id_ = 0;
    pending_allow_shrink_ = false;
    mutex_.Unlock();
    for (Callback& callback : failed) callback(refused);
    mutex_.Lock();
    return;
  }
  // Waiters are registered before the request leaves, so that no model served in between is
  // missed.
  for (Callback& callback : pending_callbacks_) {
    forwarded_callbacks_.emplace_back(pending_id_, std::move(callback));
  }
  pending_callbacks_.clear();
  pending_id_ = 0;
  const Forwarder forwarder = forwarder_;
  mutex_.Unlock();
  refused.status = forwarder
                       ? forwarder(refused.trigger)
                       : absl::FailedPreconditionError("another replica holds the training lock");
  mutex_.Lock();
  if (refused.status.ok()) {
    spdlog::info("event=refit_forwarded refit_id={}", refused.refit_id);
    return;
  }
  std::vector<Callback> failed;
  for (auto it = forwarded_callbacks_.begin(); it != forwarded_callbacks_.end();) {
    if (it->first != refused.refit_id) {
      ++it;
      continue;
    }
    failed.push_back(std::move(it->second));
    it = forwarded_callbacks_.erase(it);
  }
  mutex_.Unlock();
  for (Callback& callback : failed) callback(refused);
  mutex_.Lock();
}

int64_t RetrainWorker::RequestRefit(RefitTrigger trigger, Callback done, bool allow_shrink) {
  absl::ReleasableMutexLock lock(&mutex_);
  if (stopping_) {
    lock.Release();
    RefitOutcome cancelled;
    cancelled.status = absl::UnavailableError("server is shutting down; refit not run");
    if (done) done(cancelled);
    return 0;
  }
  if (pending_id_ == 0) {
    pending_id_ = next_id_++;
    pending_trigger_ = trigger;
    pending_allow_shrink_ = false;
  }
  pending_allow_shrink_ = pending_allow_shrink_ || allow_shrink;
  if (done) pending_callbacks_.push_back(std::move(done));
  return pending_id_;
}

RefitOutcome RetrainWorker::LastRefit() const {
  absl::MutexLock lock(&mutex_);
  return last_;
}

int64_t RetrainWorker::results_since_refit() const {
  absl::MutexLock lock(&mutex_);
  return results_since_refit_;
}

void RetrainWorker::Run() {
  while (true) {
    RefitOutcome outcome;
    std::vector<Callback> callbacks;
    int64_t counted_results = 0;
    int64_t trained_before = 0;
    bool allow_shrink = false;
    {
      absl::MutexLock lock(&mutex_);
      while (true) {
        if (stopping_) return;
        if (pending_id_ != 0 && !training_allowed_) {
          ForwardPendingRefit();
          continue;
        }
        if (pending_id_ != 0) {
          outcome.refit_id = pending_id_;
          outcome.trigger = pending_trigger_;
          callbacks.swap(pending_callbacks_);
          allow_shrink = pending_allow_shrink_;
          pending_id_ = 0;
          pending_allow_shrink_ = false;
          break;
        }
        const bool backing_off = absl::Now() < retry_not_before_;
        const bool has_new = results_since_refit_ > 0 && training_allowed_ && !backing_off;
        if (has_new && options_.retrain_after_results > 0 &&
            results_since_refit_ >= options_.retrain_after_results) {
          outcome.refit_id = next_id_++;
          outcome.trigger = RefitTrigger::kCount;
          break;
        }
        absl::Time wake = absl::InfiniteFuture();
        if (has_new && options_.quiet > absl::ZeroDuration()) {
          wake = last_result_time_ + options_.quiet;
          if (absl::Now() >= wake) {
            outcome.refit_id = next_id_++;
            outcome.trigger = RefitTrigger::kQuiet;
            break;
          }
        }
        if (backing_off && results_since_refit_ > 0) wake = std::min(wake, retry_not_before_);
        auto changed = [this, seen = results_since_refit_, allowed = training_allowed_]()
                           ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
                             return stopping_ || pending_id_ != 0 || results_since_refit_ != seen ||
                                    training_allowed_ != allowed;
                           };
        mutex_.AwaitWithDeadline(absl::Condition(&changed), wake);
      }
      // Results that arrive from here on count towards the next retrain.
      counted_results = results_since_refit_;
      results_since_refit_ = 0;
      trained_before = trained_here_;
      trained_here_ = std::max(trained_here_, observed_stored_);
      metrics_->SetResultsSinceRefit(0);
      outcome.start_time = absl::Now();
      outcome.running = true;
      last_ = outcome;
    }

    metrics_->RefitStarted();
    spdlog::info("event=refit_started refit_id={} trigger={} new_results={}", outcome.refit_id,
                 RefitTriggerName(outcome.trigger), counted_results);
    absl::StatusOr<std::vector<BenchmarkRecord>> records = store_->LoadAll();
    absl::Status status = records.status();
    if (status.ok()) {
      const auto read = static_cast<int64_t>(records->size());
      {
        absl::MutexLock lock(&mutex_);
        trained_here_ = std::max(trained_here_, read);
        UpdateSharedPending();
      }
      // Checked on the records before training, which keeps at most the points it reads, and on
      // the model after it.
      std::shared_ptr<const ServingModel> serving = registry_->Current();
      absl::Status shrinking;
      if (!allow_shrink) shrinking = CheckNotShrinking(read, serving.get());
      std::shared_ptr<const PerfcastModel> model;
      const TrainOptions train = TrainOptionsFor(options_, serving.get());
      outcome.train_threads = train.threads;
      {
        absl::MutexLock lock(&mutex_);
        last_.train_threads = train.threads;
      }
      if (shrinking.ok()) {
        absl::StatusOr<std::shared_ptr<const PerfcastModel>> trained =
            PerfcastModel::Train(*records, train);
        status = trained.status();
        if (trained.ok()) {
          model = *std::move(trained);
          outcome.cross_fit_source = model->cross_fit_source();
        }
        if (status.ok() && !allow_shrink) {
          shrinking = CheckNotShrinking(model->info().point_count, serving.get());
        }
      }
      if (!shrinking.ok()) {
        spdlog::warn(
            "event=refit_refused_shrink refit_id={} stored_results={} serving_version={} "
            "serving_points={} status=\"{}\"",
            outcome.refit_id, read, serving->version, serving->model->info().point_count,
            shrinking.message());
        status = shrinking;
      }
      if (status.ok()) {
        absl::StatusOr<int64_t> version = registry_->Publish(std::move(model), read);
        status = version.status();
        if (version.ok()) outcome.model_version = *version;
      }
    }
    outcome.status = status;
    outcome.duration = absl::Now() - outcome.start_time;
    outcome.running = false;
    metrics_->RefitFinished(outcome.trigger, status.ok(), absl::ToDoubleSeconds(outcome.duration),
                            absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
    if (status.ok()) {
      spdlog::info(
          "event=refit_succeeded refit_id={} version={} points={} seconds={:.3f} threads={} "
          "cross_fit={}",
          outcome.refit_id, outcome.model_version, records.ok() ? records->size() : 0,
          absl::ToDoubleSeconds(outcome.duration), outcome.train_threads,
          CrossFitSourceName(outcome.cross_fit_source));
    } else {
      spdlog::error(
          "event=refit_failed refit_id={} trigger={} status=\"{}\" seconds={:.3f} threads={}",
          outcome.refit_id, RefitTriggerName(outcome.trigger), status.ToString(),
          absl::ToDoubleSeconds(outcome.duration), outcome.train_threads);
    }
    {
      absl::MutexLock lock(&mutex_);
      last_ = outcome;
      if (shared_store_ && absl::IsUnavailable(status)) {
        // The shared store was out of reach: what this refit was to cover is still owed, and
        // the triggers take it up again after a pause.
        trained_here_ = trained_before;
        retry_not_before_ = absl::Now() + kRetryAfterUnavailable;
        UpdateSharedPending();
      }
    }
    for (Callback& callback : callbacks) callback(outcome);
    // Training's buffers (feature matrices, XGBoost's DMatrix and fold models: tens of MB) are
    // free now, but glibc keeps freed heap in its arenas; hand it back so that the resident size
    // between refits is what serving needs. After the outcome is out: nobody waits on this.
    malloc_trim(0);
  }
}

absl::Status SetTrainPriority(absl::string_view value, RetrainWorker::Options& options) {
  if (value == "idle") {
    options.idle_scheduling = true;
    return absl::OkStatus();
  }
  int nice = 0;
  if (!absl::SimpleAtoi(value, &nice) || nice < 0 || nice > 19) {
    return absl::InvalidArgumentError("must be 'idle' or a nice value 0-19");
  }
  options.idle_scheduling = false;
  options.nice = nice;
  return absl::OkStatus();
}

}  // namespace perfcast::server
