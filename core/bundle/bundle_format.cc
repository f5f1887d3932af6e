#include "core/bundle/bundle_format.h"

#include "absl/strings/str_cat.h"
#include "core/util/byte_coding.h"

namespace perfcast {
namespace {

constexpr size_t kHeaderSize = 8 + 4 + 8 + 8;

}  // namespace

std::string SealBundle(absl::string_view payload) {
  std::string out(kBundleMagic);
  AppendLittleEndian<uint32_t>(out, kBundleFormatVersion);
  AppendLittleEndian<uint64_t>(out, payload.size());
  AppendLittleEndian<uint64_t>(out, Fnv1a64(payload));
  out.append(payload.data(), payload.size());
  return out;
}

absl::StatusOr<absl::string_view> OpenBundle(absl::string_view bytes, uint32_t* version_out) {
  if (bytes.size() < kBundleMagic.size() || bytes.substr(0, kBundleMagic.size()) != kBundleMagic) {
    return absl::InvalidArgumentError("not a perfcast model bundle (bad magic)");
  }
  if (bytes.size() < kHeaderSize) return absl::DataLossError("bundle truncated in its header");
  const uint32_t version = ReadLittleEndian<uint32_t>(bytes.substr(8));
  if (version < kOldestReadableBundleFormatVersion || version > kBundleFormatVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("bundle format version ", version, " is not supported (this build reads ",
                     kOldestReadableBundleFormatVersion, " to ", kBundleFormatVersion, ")"));
  }
  if (version_out != nullptr) *version_out = version;
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

}  // namespace perfcast
