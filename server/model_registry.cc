#include "server/model_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl//strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/model_bundle.h"
#include "server/log_format.h"

namespace perfcast::server {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxPrequentialSamples = 100000;

// Maps a load error to the load-failure metric's reason label.
absl::string_view FailureReason(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kDataLoss:
      return "checksum";
    case absl::StatusCode::kInvalidArgument:
      return "parse";
    default:
      return "io";
  }
}

absl::Status FsyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int saved_errno = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("fsync ", path, ": ", std::strerror(saved_errno)));
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<int64_t> ParseVersionName(const std::string& name) {
  if (name.empty() || name.size() > 18 || name[0] == '0') return std::nullopt;
  if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int64_t version = 0;
  if (!absl::SimpleAtoi(name, &version) || version <= 0) return std::nullopt;
  return version;
}

ModelRegistry::ModelRegistry(std::string model_dir, ServerMetrics* metrics, SwapListener on_swap)
    : model_dir_(std::move(model_dir)), metrics_(metrics), on_swap_(std::move(on_swap)) {}

absl::Status ModelRegistry::LoadNewest() {
  absl::MutexLock publish_lock(&publish_mutex_);
  std::error_code ec;
  fs::create_directories(model_dir_, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create --model-dir ", model_dir_, ": ", ec.message()));
  }
  std::vector<int64_t> found;
  for (const fs::directory_entry& entry : fs::directory_iterator(model_dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0) {
      // A crash during Publish left a half-written version: never visible, remove it. Its own
      // error code: a leftover that cannot be removed must not fail the scan of the versions.
      std::error_code remove_error;
      fs::remove_all(entry.path(), remove_error);
      if (remove_error) {
        spdlog::warn("event=tmp_cleanup_failed path={} error=\"{}\"", entry.path().string(),
                     remove_error.message());
      }
      continue;
    }
    if (std::optional<int64_t> v = ParseVersionName(name); v && entry.is_directory()) {
      found.push_back(*v);
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("scan ", model_dir_, ": ", ec.message()));
  std::sort(found.rbegin(), found.rend());

  absl::MutexLock lock(&mutex_);
  for (int64_t v : found) {
    max_version_seen_ = std::max(max_version_seen_, v);
    Entry& e = versions_[v];
    e.status.version = v;
    e.status.state = VersionStatus::State::kEnd;
  }
  for (int64_t v : found) {
    const std::string dir = absl::StrCat(model_dir_, "/", v);
    mutex_.Unlock();
    absl::StatusOr<std::shared_ptr<const PerfcastModel>> model = LoadBundle(dir);
    mutex_.Lock();
    Entry& e = versions_[v];
    if (!model.ok()) {
      e.status.state = VersionStatus::State::kFailed;
      e.status.error = model.status();
      metrics_->ModelLoadFailed(FailureReason(model.status()));
      spdlog::error("event=model_load_failed version={} dir={} status=\"{}\"", v, dir,
                    model.status().ToString());
      continue;
    }
    e.status.state = VersionStatus::State::kAvailable;
    e.status.info = (*model)->info();
    auto serving = std::make_shared<ServingModel>();
    serving->model = *std::move(model);
    serving->version = v;
    serving->loaded_at = absl::Now();
    current_ = serving;
    metrics_->ModelLoaded(v, absl::ToDoubleSeconds(serving->loaded_at - absl::UnixEpoch()));
    spdlog::info("event=model_loaded version={} points={} configurations={}", v,
                 serving->model->info().point_count, serving->model->info().configuration_count);
    mutex_.Unlock();
    if (on_swap_) on_swap_(*serving);
    mutex_.Lock();
    return absl::OkStatus();
  }
  if (found.empty()) spdlog::info("event=no_model_on_disk model_dir={}", model_dir_);
  return absl::OkStatus();
}

std::shared_ptr<const ServingModel> ModelRegistry::Current() const {
  absl::MutexLock lock(&mutex_);
  return current_;
}

absl::StatusOr<int64_t> ModelRegistry::Publish(std::shared_ptr<const PerfcastModel> model) {
  absl::MutexLock publish_lock(&publish_mutex_);
  int64_t version = 0;
  {
    absl::MutexLock lock(&mutex_);
    version = max_version_seen_ + 1;
    // Reserve the number even if saving fails, so a half-written directory is never reused.
    max_version_seen_ = version;
  }
  const std::string final_dir = absl::StrCat(model_dir_, "/", version);
  const std::string temp_dir = absl::StrCat(model_dir_, "/.tmp-", version);
  std::error_code ec;
  fs::remove_all(temp_dir, ec);
  fs::create_directories(temp_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", temp_dir, ": ", ec.message()));
  absl::Status saved = SaveBundle(*model, temp_dir);
  if (saved.ok()) saved = FsyncPath(temp_dir);
  if (saved.ok()) {
    fs::rename(temp_dir, final_dir, ec);
    if (ec) saved = absl::InternalError(absl::StrCat("rename to ", final_dir, ": ", ec.message()));
  }
  if (saved.ok()) saved = FsyncPath(model_dir_);
  if (!saved.ok()) {
    fs::remove_all(temp_dir, ec);
    return saved;
  }

  auto serving = std::make_shared<ServingModel>();
  serving->model = std::move(model);
  serving->version = version;
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
  if (on_swap_) on_swap_(*serving);
  return version;
}

std::vector<VersionStatus> ModelRegistry::Statuses() const {
  absl::MutexLock lock(&mutex_);
  std::vector<VersionStatus> statuses;
  for (auto it = versions_.rbegin(); it != versions_.rend(); ++it) {
    VersionStatus s = it->second.status;
    std::vector<double> errors = it->second.prequential_errors;
    s.prequential_count = static_cast<int64_t>(errors.size());
    if (!errors.empty()) {
      auto mid = errors.begin() + static_cast<std::ptrdiff_t>(errors.size() / 2);
      std::nth_element(errors.begin(), mid, errors.end());
      s.prequential_median_relative_error = *mid;
      s.prequential_interval_coverage =
          static_cast<double>(it->second.prequential_hits) / static_cast<double>(errors.size());
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
