#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace perfcast {

// The one byte coding every persisted type writes itself with: fixed-width little-endian
// integers, IEEE-754 doubles by their bits, and strings prefixed by a u64 length. A reader
// written for a type reads exactly what its writer wrote, in the same order.

template <typename T>
void AppendLittleEndian(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// REQUIRES: bytes.size() >= sizeof(T).
template <typename T>
T ReadLittleEndian(absl::string_view bytes) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  return value;
}

// 64-bit FNV-1a: a checksum against truncation and bit rot, not against tampering.
uint64_t Fnv1a64(absl::string_view bytes);

// Appends values in the coding above.
class ByteWriter {
 public:
  void PutU32(uint32_t value);
  void PutI32(int32_t value) { PutU32(static_cast<uint32_t>(value)); }
  void PutU64(uint64_t value);
  void PutDouble(double value);
  void PutString(absl::string_view value);
  // A u32 count, then each string.
  void PutStrings(absl::Span<const std::string> values);
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
  // What PutStrings wrote; DataLoss with `too_many` for a count above `max_count`.
  absl::StatusOr<std::vector<std::string>> GetStrings(uint32_t max_count,
                                                      absl::string_view too_many);
  bool empty() const { return bytes_.empty(); }

 private:
  absl::StatusOr<absl::string_view> Take(size_t count);
  absl::string_view bytes_;
};

}  // namespace perfcast
