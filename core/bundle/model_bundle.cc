#include "core/bundle/model_bundle.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/bundle/model_codec.h"

namespace perfcast {
namespace {

constexpr char kBundleFileName[] = "model.perfcast";

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return ErrnoError("open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : ErrnoError("fsync", path);
}

}  // namespace

absl::Status SaveBundle(const PerfcastModel& model, const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::InternalError(absl::StrCat("create ", directory, ": ", error.message()));
  }
  const std::string final_path = absl::StrCat(directory, "/", kBundleFileName);
  const std::string temporary_path = absl::StrCat(final_path, ".tmp");
  const std::string bytes = EncodeModelBundle(model);
  {
    std::ofstream out(temporary_path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(temporary_path, error);
      return absl::InternalError(absl::StrCat("write ", temporary_path, " failed"));
    }
  }
  if (absl::Status synced = SyncPath(temporary_path, O_RDONLY); !synced.ok()) return synced;
  if (::rename(temporary_path.c_str(), final_path.c_str()) != 0) {
    std::filesystem::remove(temporary_path, error);
    return ErrnoError("rename", temporary_path);
  }
  return SyncPath(directory, O_RDONLY | O_DIRECTORY);
}

absl::StatusOr<std::shared_ptr<const PerfcastModel>> LoadBundle(const std::string& directory) {
  const std::string path = absl::StrCat(directory, "/", kBundleFileName);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // A directory without a readable bundle is a damaged version; only a missing directory is a
    // version that is gone (another replica or a retention pass deleted it).
    if (std::filesystem::is_directory(directory)) {
      return absl::DataLossError(absl::StrCat(path, ": cannot open the model bundle"));
    }
    return absl::NotFoundError(absl::StrCat("no model bundle at ", path));
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model = DecodeModelBundle(bytes.str());
  if (!model.ok()) {
    return absl::Status(model.status().code(), absl::StrCat(path, ": ", model.status().message()));
  }
  return model;
}

}  // namespace perfcast
