#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/catalogue/catalogue.h"

namespace perfcast {

// Dollars per GPU-hour by hardware. A name is matched as written, then through the catalogue:
// a price for "H100-SXM-80GB" prices "NVIDIA H100" when both spellings reach one catalogue entry.
//
// Thread safety: immutable once built.
class PriceList {
 public:
  struct Entry {
    std::string hardware;
    double usd_per_gpu_hour = 0;
  };

  PriceList() = default;

  // Reads a CSV with a header naming `hardware` and `usd_per_gpu_hour` (other columns ignored).
  // InvalidArgument naming file:line for a missing column, an empty name, a price that is not a
  // finite number > 0, or a hardware priced twice; NotFound for a file that cannot be read.
  static absl::StatusOr<PriceList> ReadCsv(const std::string& path);
  // The same for CSV text; `source` names it in messages.
  static absl::StatusOr<PriceList> ParseCsv(absl::string_view text, absl::string_view source);

  // InvalidArgument naming `entries[i]` for an empty name, a price that is not a finite number
  // > 0, or a hardware priced twice.
  static absl::StatusOr<PriceList> FromEntries(const std::vector<Entry>& entries);

  // InvalidArgument when two names of the list reach one catalogue entry at different prices:
  // which one a candidate got would depend on its spelling.
  absl::Status CheckSpellings(const Catalogue* catalogue) const;

  // The price of `hardware`, or nullopt.
  std::optional<double> Find(absl::string_view hardware, const Catalogue* catalogue) const;

  // Every entry, by name.
  std::vector<Entry> entries() const;

  bool empty() const { return by_name_.empty(); }
  size_t size() const { return by_name_.size(); }

 private:
  absl::flat_hash_map<std::string, double> by_name_;
};

}  // namespace perfcast
