#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace perfcast {

// The container of a model bundle:
//   magic "PERFCAST" | u32 format version | u64 payload size | u64 FNV-1a-64 of payload | payload
// All integers little-endian. The payload starts with a human-readable manifest string.
inline constexpr absl::string_view kBundleMagic = "PERFCAST";
// 5: one-hot columns that are not set are missing, no longer 0; a model of version 4 would read
// them wrong, so a server retrains rather than loading it.
inline constexpr uint32_t kBundleFormatVersion = 5;

std::string SealBundle(absl::string_view payload);
// InvalidArgument for a file that is not a perfcast bundle or has another format version;
// DataLoss for a truncated or corrupted one.
absl::StatusOr<absl::string_view> OpenBundle(absl::string_view bytes);

uint64_t Fnv1a64(absl::string_view bytes);

// Appends fixed-width little-endian values and length-prefixed strings.
class ByteWriter {
 public:
  void PutU32(uint32_t value);
  void PutI32(int32_t value) { PutU32(static_cast<uint32_t>(value)); }
  void PutU64(uint64_t value);
  void PutDouble(double value);
  void PutString(absl::string_view value);
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Reads what ByteWriter wrote; every read fails with DataLoss past the end.
class ByteReader {
 public:
  explicit ByteReader(absl::string_view bytes) : bytes_(bytes) {}
  absl::StatusOr<uint32_t> GetU32();
  absl::StatusOr<int32_t> GetI32();
  absl::StatusOr<uint64_t> GetU64();
  absl::StatusOr<double> GetDouble();
  absl::StatusOr<std::string> GetString();
  bool empty() const { return bytes_.empty(); }

 private:
  absl::StatusOr<absl::string_view> Take(size_t count);
  absl::string_view bytes_;
};

}  // namespace perfcast
