#include "absl/strings/string_view.h"
#include "core/bundle_format.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace perfcast {
namespace {

template <typename T>
void AppendLittleEndian(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

template <typename T>
T ReadLittleEndian(absl::string_view bytes) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  return value;
}

constexpr size_t kHeaderSize = 8 + 4 + 8 + 8;

}  // namespace

uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string SealBundle(absl::string_view payload) {
  std::string out(kBundleMagic);
  AppendLittleEndian<uint32_t>(out, kBundleFormatVersion);
  AppendLittleEndian<uint64_t>(out, payload.size());
  AppendLittleEndian<uint64_t>(out, Fnv1a64(payload));
  out.append(payload.data(), payload.size());
  return out;
}

absl::StatusOr<absl::string_view> OpenBundle(absl::string_view bytes) {
  if (bytes.size() < kBundleMagic.size() || bytes.substr(0, kBundleMagic.size()) != kBundleMagic) {
    return absl::InvalidArgumentError("not a perfcast model bundle (bad magic)");
  }
  if (bytes.size() < kHeaderSize) return absl::DataLossError("bundle truncated in its header");
  const uint32_t version = ReadLittleEndian<uint32_t>(bytes.substr(8));
  if (version != kBundleFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat("bundle format version ", version,
                                                   " is not supported (this build reads ",
                                                   kBundleFormatVersion, ")"));
  }
  const uint64_t size = ReadLittleEndian<uint64_t>(bytes.substr(12));
  const uint64_t checksum = ReadLittleEndian<uint64_t>(bytes.substr(20));
  const absl::string_view payload = bytes.substr(kHeaderSize);
  if (payload.size() != size) {
    return absl::DataLossError(
        absl::StrCat("bundle payload is ", payload.size(), " bytes, header says ", size));
  }
  if (Fnv1a64(payload) != checksum) return absl::DataLossError("bundle checksum mismatch");
  return payload;
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

absl::StatusOr<absl::string_view> ByteReader::Take(size_t count) {
  if (bytes_.size() < count) return absl::DataLossError("bundle payload ends early");
  absl::string_view taken = bytes_.substr(0, count);
  bytes_.remove_prefix(count);
  return taken;
}
absl::StatusOr<uint32_t> ByteReader::GetU32() {
  absl::StatusOr<absl::string_view> bytes = Take(4);
  if (!bytes.ok()) return bytes.status();
  return ReadLittleEndian<uint32_t>(*bytes);
}
absl::StatusOr<int32_t> ByteReader::GetI32() {
  absl::StatusOr<uint32_t> value = GetU32();
  if (!value.ok()) return value.status();
  return static_cast<int32_t>(*value);
}
absl::StatusOr<uint64_t> ByteReader::GetU64() {
  absl::StatusOr<absl::string_view> bytes = Take(8);
  if (!bytes.ok()) return bytes.status();
  return ReadLittleEndian<uint64_t>(*bytes);
}
absl::StatusOr<double> ByteReader::GetDouble() {
  absl::StatusOr<uint64_t> bits = GetU64();
  if (!bits.ok()) return bits.status();
  double value = 0;
  std::memcpy(&value, &*bits, sizeof(value));
  return value;
}
absl::StatusOr<std::string> ByteReader::GetString() {
  absl::StatusOr<uint64_t> size = GetU64();
  if (!size.ok()) return size.status();
  absl::StatusOr<absl::string_view> bytes = Take(*size);
  if (!bytes.ok()) return bytes.status();
  return std::string(*bytes);
}

}  // namespace perfcast
