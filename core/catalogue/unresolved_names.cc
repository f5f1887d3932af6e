#include "core/catalogue/unresolved_names.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/catalogue/name_matching.h"

namespace perfcast {
namespace {}  // namespace

std::vector<UnresolvedName> FindUnresolvedNames(absl::Span<const BenchmarkRecord> records,
                                                const Catalogue& catalogue, NamesAtRisk at_risk) {
  // What carries each hardware and model name: configurations, hardware for models when holding
  // hardware out, campaigns when holding campaigns out.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> carriers_of_hardware;
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> carriers_of_model;
  for (const BenchmarkRecord& record : records) {
    const Configuration& c = record.configuration;
    switch (at_risk) {
      case NamesAtRisk::kOneConfigurationOnly:
        carriers_of_hardware[c.hardware].insert(c.ToString());
        carriers_of_model[c.model].insert(c.ToString());
        break;
      case NamesAtRisk::kEveryHardware:
        carriers_of_hardware[c.hardware].insert(c.ToString());
        // new-hardware holds out every spelling of a GPU together (HardwareTypeOf).
        carriers_of_model[c.model].insert(HardwareTypeOf(c.hardware, &catalogue));
        break;
      case NamesAtRisk::kOneCampaignOnly:
        carriers_of_hardware[c.hardware].insert(c.campaign);
        carriers_of_model[c.model].insert(c.campaign);
        break;
    }
  }
  std::vector<UnresolvedName> unresolved;
  // Each name is looked up once; its later rows only count.
  absl::flat_hash_map<std::pair<ConfigurationField, std::string>, size_t> position;
  absl::flat_hash_set<std::pair<ConfigurationField, std::string>> resolved;
  auto check = [&](ConfigurationField field, const std::string& name, bool at_risk,
                   bool (*resolves)(const Catalogue&, absl::string_view)) {
    if (!at_risk) return;
    std::pair<ConfigurationField, std::string> key{field, name};
    if (resolved.contains(key)) return;
    if (const auto it = position.find(key); it != position.end()) {
      ++unresolved[it->second].rows;
      return;
    }
    if (resolves(catalogue, name)) {
      resolved.insert(std::move(key));
      return;
    }
    position.emplace(std::move(key), unresolved.size());
    unresolved.push_back(
        {std::string(FieldName(field)), name, 1, catalogue.ClosestNamesTo(field, name, 3)});
  };
  for (const BenchmarkRecord& record : records) {
    const Configuration& configuration = record.configuration;
    check(
        ConfigurationField::kHardware, configuration.hardware,
        at_risk == NamesAtRisk::kEveryHardware ||
            carriers_of_hardware[configuration.hardware].size() == 1,
        [](const Catalogue& c, absl::string_view n) { return c.LookupAccelerator(n) != nullptr; });
    check(ConfigurationField::kModel, configuration.model,
          carriers_of_model[configuration.model].size() == 1,
          [](const Catalogue& c, absl::string_view n) { return c.LookupModel(n) != nullptr; });
  }
  return unresolved;
}

std::vector<BenchmarkRecord> WithoutUnresolved(absl::Span<const BenchmarkRecord> records,
                                               absl::Span<const UnresolvedName> unresolved) {
  absl::flat_hash_set<std::string> hardware;
  absl::flat_hash_set<std::string> models;
  for (const UnresolvedName& name : unresolved) {
    (name.kind == "hardware" ? hardware : models).insert(name.name);
  }
  std::vector<BenchmarkRecord> kept;
  for (const BenchmarkRecord& record : records) {
    if (hardware.contains(record.configuration.hardware) ||
        models.contains(record.configuration.model)) {
      continue;
    }
    kept.push_back(record);
  }
  return kept;
}

std::string DescribeUnresolved(absl::Span<const UnresolvedName> unresolved) {
  return absl::StrJoin(unresolved, "; ", [](std::string* out, const UnresolvedName& name) {
    absl::StrAppend(out, name.kind, " '", name.name, "' (", name.rows,
                    name.rows == 1 ? " row" : " rows");
    std::string suggestion = DidYouMean(name.suggestions);
    if (!suggestion.empty()) {
      // DidYouMean's " (did you mean ...?)" inside our own parentheses.
      absl::StrAppend(out, "; ", suggestion.substr(2, suggestion.size() - 3));
    }
    absl::StrAppend(out, ")");
  });
}

}  // namespace perfcast
