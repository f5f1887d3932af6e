#include "core/util/byte_coding.h"

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "core/util/status_macros.h"

namespace perfcast {

uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

void ByteWriter::PutU32(uint32_t value) { AppendLittleEndian(bytes_, value); }
void ByteWriter::PutU64(uint64_t value) { AppendLittleEndian(bytes_, value); }
void ByteWriter::PutDouble(double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  PutU64(bits);
}
void ByteWriter::PutString(absl::string_view value) {
  PutU64(value.size());
  bytes_.append(value.data(), value.size());
}

void ByteWriter::PutStrings(absl::Span<const std::string> values) {
  PutU32(static_cast<uint32_t>(values.size()));
  for (const std::string& value : values) PutString(value);
}

absl::StatusOr<absl::string_view> ByteReader::Take(size_t count) {
  if (bytes_.size() < count) return absl::DataLossError("bundle payload ends early");
  absl::string_view taken = bytes_.substr(0, count);
  bytes_.remove_prefix(count);
  return taken;
}
absl::StatusOr<uint32_t> ByteReader::GetU32() {
  PERFCAST_ASSIGN_OR_RETURN(const absl::string_view bytes, Take(4));
  return ReadLittleEndian<uint32_t>(bytes);
}
absl::StatusOr<int32_t> ByteReader::GetI32() {
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t value, GetU32());
  return static_cast<int32_t>(value);
}
absl::StatusOr<uint64_t> ByteReader::GetU64() {
  PERFCAST_ASSIGN_OR_RETURN(const absl::string_view bytes, Take(8));
  return ReadLittleEndian<uint64_t>(bytes);
}
absl::StatusOr<double> ByteReader::GetDouble() {
  PERFCAST_ASSIGN_OR_RETURN(const uint64_t bits, GetU64());
  double value = 0;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}
absl::StatusOr<std::string> ByteReader::GetString() {
  PERFCAST_ASSIGN_OR_RETURN(const uint64_t size, GetU64());
  PERFCAST_ASSIGN_OR_RETURN(const absl::string_view bytes, Take(size));
  return std::string(bytes);
}

absl::StatusOr<std::vector<std::string>> ByteReader::GetStrings(uint32_t max_count,
                                                                absl::string_view too_many) {
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t count, GetU32());
  if (count > max_count) return absl::DataLossError(too_many);
  std::vector<std::string> values;
  for (uint32_t i = 0; i < count; ++i) {
    PERFCAST_ASSIGN_OR_RETURN(std::string value, GetString());
    values.push_back(std::move(value));
  }
  return values;
}

}  // namespace perfcast
