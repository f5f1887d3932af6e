#include "core/plan/price_list.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/data/csv_reader.h"

namespace perfcast {

absl::StatusOr<PriceList> PriceList::ReadCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the price list"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseCsv(text.str(), path);
}

absl::StatusOr<PriceList> PriceList::ParseCsv(absl::string_view text, absl::string_view source) {
  CsvReader reader(text);
  CsvRecord record;
  if (!reader.Next(record)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": empty, expected a header"));
  }
  int hardware_column = -1;
  int price_column = -1;
  for (size_t i = 0; i < record.fields.size(); ++i) {
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(record.fields[i]));
    if (name == "hardware") hardware_column = static_cast<int>(i);
    if (name == "usd_per_gpu_hour") price_column = static_cast<int>(i);
  }
  if (hardware_column < 0 || price_column < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":", record.line, ": the header needs the columns hardware and usd_per_gpu_hour"));
  }
  PriceList list;
  while (reader.Next(record)) {
    const std::string where = absl::StrCat(source, ":", record.line);
    if (!record.status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", record.status.message()));
    }
    const size_t needed = static_cast<size_t>(std::max(hardware_column, price_column)) + 1;
    if (record.fields.size() < needed) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", record.fields.size(), " fields, expected ", needed));
    }
    const std::string hardware(absl::StripAsciiWhitespace(record.fields[hardware_column]));
    const absl::string_view price_text = absl::StripAsciiWhitespace(record.fields[price_column]);
    double price = 0;
    if (hardware.empty())
      return absl::InvalidArgumentError(absl::StrCat(where, ": empty hardware"));
    if (!absl::SimpleAtod(price_text, &price) || !std::isfinite(price) || price <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": usd_per_gpu_hour '", price_text, "' is not a finite number > 0"));
    }
    if (!list.by_name_.emplace(hardware, price).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": hardware '", hardware, "' is priced twice"));
    }
  }
  return list;
}

absl::StatusOr<PriceList> PriceList::FromEntries(const std::vector<Entry>& entries) {
  PriceList list;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& entry = entries[i];
    const std::string where = absl::StrCat("entries[", i, "]");
    if (entry.hardware.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".hardware: must not be empty"));
    }
    if (!std::isfinite(entry.usd_per_gpu_hour) || entry.usd_per_gpu_hour <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".usd_per_gpu_hour=", entry.usd_per_gpu_hour, ": must be a finite number > 0"));
    }
    if (!list.by_name_.emplace(entry.hardware, entry.usd_per_gpu_hour).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".hardware: '", entry.hardware, "' is priced twice"));
    }
  }
  return list;
}

std::vector<PriceList::Entry> PriceList::entries() const {
  std::vector<Entry> out;
  for (const auto& [name, price] : by_name_) out.push_back({name, price});
  std::sort(out.begin(), out.end(),
            [](const Entry& a, const Entry& b) { return a.hardware < b.hardware; });
  return out;
}

absl::Status PriceList::CheckSpellings(const Catalogue* catalogue) const {
  if (catalogue == nullptr) return absl::OkStatus();
  std::map<const AcceleratorSpec*, Entry> first_by_entry;
  for (const Entry& entry : entries()) {
    const AcceleratorSpec* spec = catalogue->LookupAccelerator(entry.hardware);
    if (spec == nullptr) continue;
    auto [it, inserted] = first_by_entry.try_emplace(spec, entry);
    if (!inserted && it->second.usd_per_gpu_hour != entry.usd_per_gpu_hour) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", it->second.hardware, "' and '", entry.hardware, "' are one hardware (",
                       spec->name, ") at two prices, ", it->second.usd_per_gpu_hour, " and ",
                       entry.usd_per_gpu_hour, " dollars per GPU-hour"));
    }
  }
  return absl::OkStatus();
}

std::optional<double> PriceList::Find(absl::string_view hardware,
                                      const Catalogue* catalogue) const {
  if (auto it = by_name_.find(hardware); it != by_name_.end()) return it->second;
  if (catalogue == nullptr) return std::nullopt;
  const AcceleratorSpec* wanted = catalogue->LookupAccelerator(hardware);
  if (wanted == nullptr) return std::nullopt;
  // Among several spellings of one entry the alphabetically first is taken, so that the answer
  // does not depend on hash order.
  std::optional<std::pair<std::string, double>> found;
  for (const auto& [name, price] : by_name_) {
    if (catalogue->LookupAccelerator(name) != wanted) continue;
    if (!found || name < found->first) found.emplace(name, price);
  }
  if (!found) return std::nullopt;
  return found->second;
}

}  // namespace perfcast
