#include "server/store/benchmark_writer.h"

#include <chrono>
#include <utility>

#include "server/observability/log_format.h"

namespace perfcast::server {
namespace {
// Records per transaction at most; bigger piles are split so one commit stays short.
constexpr int64_t kMaxRecordsPerCommit = 20000;
}  // namespace

BenchmarkWriter::BenchmarkWriter(BenchmarkStore* store, ServerMetrics* metrics,
                                 int64_t max_queued_records, AfterCommit after_commit)
    : store_(store),
      metrics_(metrics),
      max_queued_records_(max_queued_records),
      after_commit_(std::move(after_commit)),
      thread_([this] { Run(); }) {}

BenchmarkWriter::~BenchmarkWriter() { Stop(); }

absl::Status BenchmarkWriter::Submit(std::vector<BenchmarkRecord> records, Done done,
                                     std::vector<std::string> quarantine_reasons) {
  if (!quarantine_reasons.empty() && quarantine_reasons.size() != records.size()) {
    return absl::InternalError("quarantine_reasons not parallel to records");
  }
  absl::MutexLock lock(&mutex_);
  if (stopping_) return absl::UnavailableError("server is shutting down");
  const auto size = static_cast<int64_t>(records.size());
  if (queued_records_ > 0 && queued_records_ + size > max_queued_records_) {
    return absl::ResourceExhaustedError("benchmark write queue is full; retry later");
  }
  queued_records_ += size;
  queue_.push_back(Job{std::move(records), std::move(done), std::move(quarantine_reasons)});
  return absl::OkStatus();
}

void BenchmarkWriter::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void BenchmarkWriter::Run() {
  while (true) {
    std::vector<Job> jobs;
    {
      absl::MutexLock lock(&mutex_);
      auto ready = [this]()
                       ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return stopping_ || !queue_.empty(); };
      mutex_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and everything is committed
      int64_t taken = 0;
      while (!queue_.empty() &&
             (jobs.empty() || taken + static_cast<int64_t>(queue_.front().records.size()) <=
                                  kMaxRecordsPerCommit)) {
        taken += static_cast<int64_t>(queue_.front().records.size());
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_records_ -= taken;
    }
    std::vector<BenchmarkRecord> all;
    std::vector<std::string> reasons;  // parallel to `all` once a job quarantines any
    for (const Job& job : jobs) {
      if (!job.quarantine_reasons.empty() && reasons.empty()) reasons.resize(all.size());
      all.insert(all.end(), job.records.begin(), job.records.end());
      if (!job.quarantine_reasons.empty()) {
        reasons.insert(reasons.end(), job.quarantine_reasons.begin(), job.quarantine_reasons.end());
      } else if (!reasons.empty()) {
        reasons.resize(all.size());
      }
    }

    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<bool>> inserted = store_->Insert(all, reasons);
    metrics_->ObserveCommitSeconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!inserted.ok()) {
      spdlog::error("event=store_commit_failed records={} status=\"{}\"", all.size(),
                    inserted.status().ToString());
      for (Job& job : jobs) job.done(inserted.status());
      continue;
    }
    metrics_->SetStoredResults(store_->count());
    size_t offset = 0;
    std::vector<BenchmarkRecord> new_records;
    std::vector<std::vector<bool>> inserted_per_job;
    for (Job& job : jobs) {
      std::vector<bool> mine(
          inserted->begin() + static_cast<std::ptrdiff_t>(offset),
          inserted->begin() + static_cast<std::ptrdiff_t>(offset + job.records.size()));
      for (size_t i = 0; i < job.records.size(); ++i) {
        const bool quarantined =
            !job.quarantine_reasons.empty() && !job.quarantine_reasons[i].empty();
        if (mine[i] && !quarantined) new_records.push_back(std::move(job.records[i]));
      }
      offset += job.records.size();
      inserted_per_job.push_back(std::move(mine));
    }
    // Counted (and scored) before the submitter hears back: a status read after the
    // acknowledgement sees its results among those not yet trained on.
    if (!new_records.empty() && after_commit_) after_commit_(new_records);
    for (size_t j = 0; j < jobs.size(); ++j) jobs[j].done(std::move(inserted_per_job[j]));
  }
}

}  // namespace perfcast::server
