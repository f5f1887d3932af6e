#include "server/lifecycle/retrain_worker.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "server/lifecycle/available_cpus.h"
#include "server/store/local_model_bundle_store.h"
#include "server/store/sqlite_benchmark_store.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using testing::MetricValue;
using testing::TempDir;
using testing::TestRecords;

constexpr int64_t kTrigger = 16;

// The worker as a replica of a shared store runs it: results counted from the store, training
// only while it holds the training lock.
class SharedStoreRetrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteBenchmarkStore::Open(dir_.path() + "/db.sqlite3");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->Insert(TestRecords(2)).ok());  // 32 results
    registry_ = std::make_unique<ModelRegistry>(
        std::make_unique<LocalModelBundleStore>(dir_.path() + "/models"), &metrics_);
    RetrainWorker::Options options;
    options.retrain_after_results = kTrigger;
    options.quiet = absl::ZeroDuration();
    worker_ = std::make_unique<RetrainWorker>(options, store_.get(), registry_.get(), &metrics_);
  }

  // Until the latest refit finished (refit_id > 0, not running), or `timeout`.
  RefitOutcome WaitForRefit(absl::Duration timeout) { return WaitForRefitNumber(1, timeout); }

  // Until refit `refit_id` or a later one finished, or `timeout`.
  RefitOutcome WaitForRefitNumber(int64_t refit_id, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    RefitOutcome last = worker_->LastRefit();
    while ((last.refit_id < refit_id || last.running) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      last = worker_->LastRefit();
    }
    return last;
  }

  // Starts a worker with `options` that may not train, and returns what `read` gives on its
  // thread (from a refit request's callback, which runs there), or -1 if it never answered.
  int ReadOnTheWorkerThread(const RetrainWorker::Options& options,
                            const std::function<int()>& read) {
    worker_ = std::make_unique<RetrainWorker>(options, store_.get(), registry_.get(), &metrics_);
    worker_->SetTrainingAllowed(false);
    worker_->Start();
    // Shared with the callback, which the worker may still hold if the wait times out.
    struct Result {
      absl::Notification done;
      int value = -1;
    };
    auto result = std::make_shared<Result>();
    worker_->RequestRefit(RefitTrigger::kRpc, [result, read](const RefitOutcome&) {
      result->value = read();
      result->done.Notify();
    });
    return result->done.WaitForNotificationWithTimeout(absl::Seconds(10)) ? result->value : -1;
  }

  TempDir dir_;
  ServerMetrics metrics_;
  std::unique_ptr<SqliteBenchmarkStore> store_;
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<RetrainWorker> worker_;
};

TEST_F(SharedStoreRetrainTest, WithoutTheLockARefitRequestFailsWithFailedPrecondition) {
  worker_->SetTrainingAllowed(false);
  worker_->Start();
  absl::Notification done;
  RefitOutcome outcome;

  worker_->RequestRefit(RefitTrigger::kRpc, [&](const RefitOutcome& o) {
    outcome = o;
    done.Notify();
  });

  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kFailedPrecondition) << outcome.status;
  EXPECT_EQ(registry_->Current(), nullptr);
}

TEST_F(SharedStoreRetrainTest, AllowShrinkOnAReplicaThatDoesNotTrainIsRefusedNotForwarded) {
  worker_->SetTrainingAllowed(false);
  bool forwarded = false;
  worker_->SetRefitForwarder([&forwarded](RefitTrigger) {
    forwarded = true;
    return absl::OkStatus();
  });
  worker_->Start();
  absl::Notification done;
  RefitOutcome outcome;

  worker_->RequestRefit(
      RefitTrigger::kRpc,
      [&](const RefitOutcome& o) {
        outcome = o;
        done.Notify();
      },
      /*allow_shrink=*/true);

  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kFailedPrecondition) << outcome.status;
  EXPECT_THAT(std::string(outcome.status.message()), ::testing::HasSubstr("allow_shrink"));
  EXPECT_FALSE(forwarded);
}

TEST_F(SharedStoreRetrainTest, TheWorkerThreadRunsAtNice19AndTheCallerKeepsItsOwn) {
  // The default; raising one's nice value needs no privilege.
  const RetrainWorker::Options options;

  const int worker_nice = ReadOnTheWorkerThread(
      options, [] { return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())); });

  EXPECT_EQ(worker_nice, 19);
  EXPECT_NE(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), 19);
}

TEST_F(SharedStoreRetrainTest, TheWorkerThreadRunsUnderSchedIdleAndTheCallerKeepsItsPolicy) {
  RetrainWorker::Options options;
  options.idle_scheduling = true;

  const int worker_policy = ReadOnTheWorkerThread(options, [] { return sched_getscheduler(0); });

  EXPECT_EQ(worker_policy, SCHED_IDLE);
  EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
}

TEST(TrainPriorityTest, IdleOrANiceValueIsTakenAndAnythingElseRefusedStatingTheRule) {
  RetrainWorker::Options options;
  ASSERT_TRUE(SetTrainPriority("idle", options).ok());
  EXPECT_TRUE(options.idle_scheduling);
  for (const auto& [value, nice] : {std::pair{"0", 0}, std::pair{"7", 7}, std::pair{"19", 19}}) {
    ASSERT_TRUE(SetTrainPriority(value, options).ok()) << value;
    EXPECT_FALSE(options.idle_scheduling) << value;
    EXPECT_EQ(options.nice, nice);
  }
  for (const char* value : {"20", "-1", "abc", "", "IDLE"}) {
    const absl::Status status = SetTrainPriority(value, options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << value;
    EXPECT_EQ(status.message(), "must be 'idle' or a nice value 0-19") << value;
  }
  EXPECT_EQ(options.nice, 19) << "a refused value leaves the options as they were";
}

TEST_F(SharedStoreRetrainTest, AForwardedRequestCompletesWithTheNextModelServed) {
  std::atomic<int> forwarded{0};
  worker_->SetTrainingAllowed(false);
  worker_->SetRefitForwarder([&](RefitTrigger) {
    ++forwarded;
    return absl::OkStatus();
  });
  worker_->Start();
  // Shared with the callback, which the worker may still hold when an assertion ends the test.
  struct Result {
    absl::Notification done;
    RefitOutcome outcome;
  };
  auto result = std::make_shared<Result>();

  worker_->RequestRefit(RefitTrigger::kRpc, [result](const RefitOutcome& o) {
    result->outcome = o;
    result->done.Notify();
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (forwarded.load() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(forwarded.load(), 1);
  EXPECT_FALSE(result->done.HasBeenNotified());
  worker_->ModelServed(7);

  ASSERT_TRUE(result->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(result->outcome.status.ok()) << result->outcome.status;
  EXPECT_EQ(result->outcome.model_version, 7);
}

TEST_F(SharedStoreRetrainTest, AForwardedRequestRunsOnlyWhereTheLockIsHeld) {
  worker_->SetTrainingAllowed(false);
  worker_->Start();

  worker_->AcceptForwardedRefit();
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(worker_->LastRefit().refit_id, 0);
  worker_->SetTrainingAllowed(true);
  worker_->AcceptForwardedRefit();

  const RefitOutcome outcome = WaitForRefit(absl::Seconds(60));
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.trigger, RefitTrigger::kForwarded);
}

TEST_F(SharedStoreRetrainTest, AForwardedRefitIsCountedUnderItsOwnTrigger) {
  worker_->Start();

  worker_->AcceptForwardedRefit();

  const RefitOutcome outcome = WaitForRefit(absl::Seconds(60));
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  const std::string exposition =
      prometheus::TextSerializer().Serialize(metrics_.registry()->Collect());
  EXPECT_EQ(
      MetricValue(exposition, R"(perfcast_refits_total{outcome="success",trigger="forwarded"})"),
      1);
  EXPECT_EQ(
      MetricValue(exposition, R"(perfcast_refits_total{outcome="success",trigger="startup"})"), 0)
      << "counted under another trigger";
}

TEST_F(SharedStoreRetrainTest, ResultsCountedFromTheStoreTrainTheReplicaThatTakesTheLock) {
  worker_->SetTrainingAllowed(false);
  worker_->Start();
  worker_->ObserveSharedStore(/*stored_results=*/32, /*trained_results=*/0);
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_EQ(worker_->LastRefit().refit_id, 0) << "trained without the lock";
  EXPECT_EQ(worker_->results_since_refit(), 32);

  worker_->SetTrainingAllowed(true);

  const RefitOutcome outcome = WaitForRefit(absl::Seconds(60));
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.trigger, RefitTrigger::kCount);
  ASSERT_NE(registry_->Current(), nullptr);
  EXPECT_EQ(registry_->Current()->version, outcome.model_version);
}

TEST_F(SharedStoreRetrainTest, AfterItsRefitTheSameCountDoesNotTriggerAgain) {
  worker_->Start();
  worker_->ObserveSharedStore(32, 0);
  ASSERT_TRUE(WaitForRefit(absl::Seconds(60)).status.ok());

  // The listener reports the same store before it has seen the new model's trained count.
  worker_->ObserveSharedStore(32, 0);

  EXPECT_EQ(worker_->results_since_refit(), 0);
  worker_->ObserveSharedStore(32 + kTrigger - 1, 32);
  EXPECT_EQ(worker_->results_since_refit(), kTrigger - 1);
}

// A shared store that is out of reach for the first LoadAll.
class OnceUnavailableStore : public BenchmarkStore {
 public:
  explicit OnceUnavailableStore(BenchmarkStore* store) : store_(store) {}
  absl::StatusOr<std::vector<bool>> Insert(
      absl::Span<const BenchmarkRecord> records,
      absl::Span<const std::string> quarantine_reasons) override {
    return store_->Insert(records, quarantine_reasons);
  }
  absl::StatusOr<std::vector<BenchmarkRecord>> LoadAll() const override {
    if (!failed_.exchange(true)) return absl::UnavailableError("connection lost");
    return store_->LoadAll();
  }
  absl::StatusOr<std::vector<QuarantinedResult>> ListQuarantined(int64_t after_id,
                                                                 int limit) const override {
    return store_->ListQuarantined(after_id, limit);
  }
  absl::StatusOr<int64_t> CountQuarantined() const override { return store_->CountQuarantined(); }
  absl::StatusOr<std::vector<int64_t>> ReleaseQuarantined(absl::Span<const int64_t> ids) override {
    return store_->ReleaseQuarantined(ids);
  }
  absl::StatusOr<std::vector<int64_t>> DropQuarantined(absl::Span<const int64_t> ids) override {
    return store_->DropQuarantined(ids);
  }
  int64_t count() const override { return store_->count(); }

 private:
  BenchmarkStore* const store_;
  mutable std::atomic<bool> failed_{false};
};

TEST_F(SharedStoreRetrainTest, ARefitThatCouldNotReachTheStoreIsRetried) {
  OnceUnavailableStore flaky(store_.get());
  RetrainWorker::Options options;
  options.retrain_after_results = kTrigger;
  options.quiet = absl::ZeroDuration();
  RetrainWorker worker(options, &flaky, registry_.get(), &metrics_);
  worker.Start();

  worker.ObserveSharedStore(32, 0);

  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (registry_->Current() == nullptr && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_NE(registry_->Current(), nullptr) << "the failed refit was not retried";
  EXPECT_EQ(worker.LastRefit().refit_id, 2);
  EXPECT_EQ(worker.results_since_refit(), 0);
}

TEST_F(SharedStoreRetrainTest, AFollowerCountsWhatTheNewestModelLacks) {
  worker_->SetTrainingAllowed(false);
  worker_->Start();

  worker_->ObserveSharedStore(100, 90);

  EXPECT_EQ(worker_->results_since_refit(), 10);
}

TEST_F(SharedStoreRetrainTest, TheFirstModelTrainsOnEveryCoreAndLaterOnesOnTheirShare) {
  worker_->Start();
  const int every_core = std::max(RetrainWorker::Options().train.threads,
                                  std::min(AvailableCpus(), kMaxAutomaticFirstTrainThreads));

  worker_->ObserveSharedStore(32, 0);
  const RefitOutcome first = WaitForRefit(absl::Seconds(60));
  ASSERT_TRUE(first.status.ok()) << first.status;
  ASSERT_NE(registry_->Current(), nullptr);
  EXPECT_EQ(first.train_threads, every_core) << "nothing served yet: training had every core";

  worker_->ObserveSharedStore(32 + kTrigger, 32);
  const RefitOutcome second = WaitForRefitNumber(2, absl::Seconds(60));
  ASSERT_EQ(second.refit_id, 2);
  EXPECT_TRUE(second.status.ok()) << second.status;
  EXPECT_EQ(second.train_threads, RetrainWorker::Options().train.threads)
      << "a model serves: the refit keeps to --train-threads";
  EXPECT_EQ(first.cross_fit_source, CrossFitSource::kGrown);
  EXPECT_EQ(second.cross_fit_source, CrossFitSource::kReused)
      << "the serving model's cross-fit covers the same data";
  EXPECT_TRUE(registry_->Current()->model->ReusedCrossFit());
}

TEST_F(SharedStoreRetrainTest, WithReuseOffEveryRefitGrowsItsOwnCrossFit) {
  RetrainWorker::Options options;
  options.retrain_after_results = kTrigger;
  options.quiet = absl::ZeroDuration();
  options.reuse_cross_fit = false;
  worker_ = std::make_unique<RetrainWorker>(options, store_.get(), registry_.get(), &metrics_);
  worker_->Start();

  worker_->ObserveSharedStore(32, 0);
  ASSERT_TRUE(WaitForRefit(absl::Seconds(60)).status.ok());
  worker_->ObserveSharedStore(32 + kTrigger, 32);
  const RefitOutcome second = WaitForRefitNumber(2, absl::Seconds(60));
  ASSERT_EQ(second.refit_id, 2);
  ASSERT_TRUE(second.status.ok()) << second.status;
  EXPECT_EQ(second.cross_fit_source, CrossFitSource::kGrown);
  EXPECT_FALSE(registry_->Current()->model->ReusedCrossFit());
}

TEST_F(SharedStoreRetrainTest, AnOperatorsFirstTrainThreadsAreTaken) {
  RetrainWorker::Options options;
  options.retrain_after_results = kTrigger;
  options.quiet = absl::ZeroDuration();
  options.first_train_threads = 3;
  worker_ = std::make_unique<RetrainWorker>(options, store_.get(), registry_.get(), &metrics_);
  worker_->Start();

  worker_->ObserveSharedStore(32, 0);
  const RefitOutcome first = WaitForRefit(absl::Seconds(60));
  ASSERT_TRUE(first.status.ok()) << first.status;
  EXPECT_EQ(first.train_threads, 3);
}

}  // namespace
}  // namespace perfcast::server
