#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace perfcast {

// The container of a model bundle:
//   magic "PERFCAST" | u32 format version | u64 payload size | u64 FNV-1a-64 of payload | payload
// All integers little-endian. The payload starts with a human-readable manifest string.
inline constexpr absl::string_view kBundleMagic = "PERFCAST";
// 6: the catalogue carries frameworks.csv. 5: one-hot columns that are not set are missing, no
// longer 0. A server that finds an older version retrains rather than loading it.
inline constexpr uint32_t kBundleFormatVersion = 7;

std::string SealBundle(absl::string_view payload);
// InvalidArgument for a file that is not a perfcast bundle or has another format version;
// DataLoss for a truncated or corrupted one.
absl::StatusOr<absl::string_view> OpenBundle(absl::string_view bytes);

}  // namespace perfcast
