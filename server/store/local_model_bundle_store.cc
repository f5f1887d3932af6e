#include "server/store/local_model_bundle_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/bundle/model_bundle.h"
#include "server/observability/log_format.h"

namespace perfcast::server {
namespace fs = std::filesystem;
namespace {

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

// Writes `text` to `path` and fsyncs it.
absl::Status WriteDurably(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = written && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!synced) {
    return absl::InternalError(absl::StrCat("write ", path, ": ", std::strerror(saved_errno)));
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

absl::StatusOr<std::vector<int64_t>> LocalModelBundleStore::ListVersions() {
  std::error_code ec;
  fs::create_directories(model_dir_, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create model directory ", model_dir_, ": ", ec.message()));
  }
  std::vector<int64_t> found;
  for (const fs::directory_entry& entry : fs::directory_iterator(model_dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0) {
      // A crash during Save left a half-written version: never visible, remove it. Its own
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
  return found;
}

absl::StatusOr<std::shared_ptr<const PerfcastModel>> LocalModelBundleStore::Load(int64_t version) {
  return LoadBundle(Location(version));
}

absl::StatusOr<int64_t> LocalModelBundleStore::Save(const PerfcastModel& model, int64_t min_version,
                                                    int64_t trained_result_count) {
  const std::string final_dir = Location(min_version);
  const std::string temp_dir = absl::StrCat(model_dir_, "/.tmp-", min_version);
  std::error_code ec;
  fs::remove_all(temp_dir, ec);
  fs::create_directories(temp_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", temp_dir, ": ", ec.message()));
  absl::Status saved = SaveBundle(model, temp_dir);
  if (saved.ok()) {
    saved = WriteDurably(absl::StrCat(temp_dir, "/", kTrainedResultsFile),
                         absl::StrCat(trained_result_count, "\n"));
  }
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
  return min_version;
}

absl::Status LocalModelBundleStore::Delete(int64_t version) {
  const std::string doomed = absl::StrCat(model_dir_, "/.tmp-deleted-", version);
  std::error_code ec;
  fs::rename(Location(version), doomed, ec);
  if (ec == std::errc::no_such_file_or_directory) return absl::OkStatus();
  if (ec) {
    return absl::InternalError(absl::StrCat("rename ", Location(version), ": ", ec.message()));
  }
  fs::remove_all(doomed, ec);
  if (ec) return absl::InternalError(absl::StrCat("remove ", doomed, ": ", ec.message()));
  return absl::OkStatus();
}

std::optional<int64_t> LocalModelBundleStore::TrainedResultCount(int64_t version) {
  std::ifstream in(absl::StrCat(Location(version), "/", kTrainedResultsFile));
  int64_t count = -1;
  if (!(in >> count) || count < 0) return std::nullopt;
  return count;
}

std::string LocalModelBundleStore::Location(int64_t version) const {
  return absl::StrCat(model_dir_, "/", version);
}

}  // namespace perfcast::server
