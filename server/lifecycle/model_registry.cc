#include "server/lifecycle/model_registry.h"

#include <algorithm>
#include <set>
#include <utility>

#include "server/observability/load_failure_reason.h"
#include "server/observability/log_format.h"
#include "server/store/version_retention.h"

namespace perfcast::server {
namespace {

constexpr size_t kMaxPrequentialSamples = 100000;

// Bundle stores report a checksum mismatch as DataLoss and unreadable contents as
// InvalidArgument; anything else kept the bytes from being read.
LoadFailureReason FailureReason(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kDataLoss) return LoadFailureReason::kChecksum;
  if (status.code() == absl::StatusCode::kInvalidArgument) return LoadFailureReason::kParse;
  return LoadFailureReason::kIo;
}

}  // namespace

ModelRegistry::ModelRegistry(std::unique_ptr<ModelBundleStore> bundles, ServerMetrics* metrics,
                             SwapListener on_swap, int keep_versions)
    : bundles_(std::move(bundles)),
      metrics_(metrics),
      on_swap_(std::move(on_swap)),
      keep_versions_(keep_versions) {}

absl::Status ModelRegistry::LoadNewest() {
  absl::MutexLock publish_lock(&publish_mutex_);
  absl::StatusOr<std::vector<int64_t>> listed = bundles_->ListVersions();
  if (!listed.ok()) return listed.status();
  std::vector<int64_t> candidates;  // newest first
  {
    absl::MutexLock lock(&mutex_);
    const int64_t serving = current_ != nullptr ? current_->version : 0;
    // Versions another replica's retention deleted: GetModelStatus lists only stored ones.
    const std::set<int64_t> stored(listed->begin(), listed->end());
    std::erase_if(versions_, [&](const auto& entry) {
      return entry.first != serving && !stored.contains(entry.first);
    });
    for (int64_t v : *listed) {
      max_version_seen_ = std::max(max_version_seen_, v);
      auto [it, added] = versions_.try_emplace(v);
      if (added) {
        it->second.status.version = v;
        it->second.status.state = VersionStatus::State::kEnd;
      }
      if (v > serving && it->second.status.state != VersionStatus::State::kFailed) {
        candidates.push_back(v);
      }
    }
  }
  if (listed->empty()) spdlog::info("event=no_model_stored");
  for (int64_t v : candidates) {
    absl::StatusOr<std::shared_ptr<const PerfcastModel>> model = bundles_->Load(v);
    if (model.ok()) {
      Swap(*std::move(model), v, bundles_->TrainedResultCount(v));
      return absl::OkStatus();
    }
    if (absl::IsUnavailable(model.status())) return model.status();
    if (absl::IsNotFound(model.status())) {
      // Deleted since it was listed (the publishing replica keeps --keep-versions): gone, not
      // broken, so neither failed nor counted; an older candidate may still serve.
      {
        absl::MutexLock lock(&mutex_);
        versions_.erase(v);
      }
      spdlog::info("event=model_version_gone version={} location=\"{}\"", v, bundles_->Location(v));
      continue;
    }
    {
      absl::MutexLock lock(&mutex_);
      Entry& e = versions_[v];
      e.status.state = VersionStatus::State::kFailed;
      e.status.error = model.status();
    }
    metrics_->ModelLoadFailed(FailureReason(model.status()));
    spdlog::error("event=model_load_failed version={} location=\"{}\" status=\"{}\"", v,
                  bundles_->Location(v), model.status().ToString());
  }
  return absl::OkStatus();
}

void ModelRegistry::Swap(std::shared_ptr<const PerfcastModel> model, int64_t version,
                         std::optional<int64_t> trained_result_count) {
  auto serving = std::make_shared<ServingModel>();
  serving->model = std::move(model);
  serving->version = version;
  serving->trained_result_count = trained_result_count;
  serving->loaded_at = absl::Now();
  {
    absl::MutexLock lock(&mutex_);
    if (current_ != nullptr) {
      versions_[current_->version].status.state = VersionStatus::State::kEnd;
    }
    Entry& e = versions_[version];
    e.status.version = version;
    e.status.state = VersionStatus::State::kAvailable;
    e.status.info = serving->model->info();
    current_ = serving;
  }
  metrics_->ModelLoaded(version, absl::ToDoubleSeconds(serving->loaded_at - absl::UnixEpoch()));
  spdlog::info("event=model_loaded version={} points={} configurations={}", version,
               serving->model->info().point_count, serving->model->info().configuration_count);
  if (on_swap_) on_swap_(*serving);
}

std::shared_ptr<const ServingModel> ModelRegistry::Current() const {
  // Shared: concurrent Predicts copy the pointer side by side; only a swap excludes them.
  absl::ReaderMutexLock lock(&mutex_);
  return current_;
}

absl::StatusOr<int64_t> ModelRegistry::Publish(std::shared_ptr<const PerfcastModel> model,
                                               int64_t trained_result_count) {
  absl::MutexLock publish_lock(&publish_mutex_);
  int64_t version = 0;
  {
    absl::MutexLock lock(&mutex_);
    version = max_version_seen_ + 1;
    // Reserve the number even if saving fails, so a half-written version is never reused.
    max_version_seen_ = version;
  }
  absl::StatusOr<int64_t> saved = bundles_->Save(*model, version, trained_result_count);
  if (!saved.ok()) return saved.status();
  {
    absl::MutexLock lock(&mutex_);
    max_version_seen_ = std::max(max_version_seen_, *saved);
  }
  Swap(std::move(model), *saved, trained_result_count);
  DeleteOldVersions(*saved);
  return *saved;
}

void ModelRegistry::DeleteOldVersions(int64_t serving) {
  if (keep_versions_ <= 0) return;
  // Under the publish lock, so no Save overlaps the deletion (version_retention.h).
  absl::StatusOr<std::vector<int64_t>> deleted =
      ::perfcast::server::DeleteOldVersions(*bundles_, keep_versions_, serving);
  if (!deleted.ok()) {
    spdlog::warn("event=old_versions_not_deleted status=\"{}\"", deleted.status().ToString());
    return;
  }
  if (deleted->empty()) return;
  {
    absl::MutexLock lock(&mutex_);
    for (int64_t v : *deleted) versions_.erase(v);
  }
  spdlog::info("event=old_versions_deleted count={} newest_deleted={}", deleted->size(),
               deleted->front());
}

std::vector<VersionStatus> ModelRegistry::Statuses() const {
  // Copied under the lock, summarised outside it: a swap waits for this lock.
  std::vector<Entry> entries;
  {
    absl::ReaderMutexLock lock(&mutex_);
    entries.reserve(versions_.size());
    for (auto it = versions_.rbegin(); it != versions_.rend(); ++it) entries.push_back(it->second);
  }
  std::vector<VersionStatus> statuses;
  statuses.reserve(entries.size());
  for (Entry& entry : entries) {
    VersionStatus s = std::move(entry.status);
    std::vector<double>& errors = entry.prequential_errors;
    s.prequential_count = static_cast<int64_t>(errors.size());
    if (!errors.empty()) {
      auto mid = errors.begin() + static_cast<std::ptrdiff_t>(errors.size() / 2);
      std::nth_element(errors.begin(), mid, errors.end());
      s.prequential_median_relative_error = *mid;
      s.prequential_interval_coverage =
          static_cast<double>(entry.prequential_hits) / static_cast<double>(errors.size());
    }
    statuses.push_back(std::move(s));
  }
  return statuses;
}

void ModelRegistry::RecordPrequential(int64_t version, double relative_error,
                                      bool inside_interval) {
  absl::MutexLock lock(&mutex_);
  auto it = versions_.find(version);
  if (it == versions_.end()) return;
  Entry& e = it->second;
  if (e.prequential_errors.size() >= kMaxPrequentialSamples) return;
  e.prequential_errors.push_back(relative_error);
  if (inside_interval) ++e.prequential_hits;
}

}  // namespace perfcast::server
