#include "core/catalogue/unresolved_names.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/catalogue/name_matching.h"

namespace perfcast {
namespace {

template <typename Spec>
std::vector<std::string> NamesOf(const std::vector<Spec>& specs) {
  std::vector<std::string> names;
  for (const Spec& spec : specs) names.push_back(spec.name);
  return names;
}

}  // namespace

std::vector<UnresolvedName> FindUnresolvedNames(absl::Span<const BenchmarkRecord> records,
                                                const Catalogue& catalogue, NamesAtRisk at_risk) {
  // What carries each hardware and model name: configurations, or hardware for models.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> carriers_of_hardware;
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> carriers_of_model;
  for (const BenchmarkRecord& record : records) {
    const Configuration& c = record.configuration;
    carriers_of_hardware[c.hardware].insert(c.ToString());
    carriers_of_model[c.model].insert(at_risk == NamesAtRisk::kEveryHardware ? c.hardware
                                                                             : c.ToString());
  }
  std::vector<UnresolvedName> unresolved;
  absl::flat_hash_map<std::pair<std::string, std::string>, size_t> position;
  absl::flat_hash_set<std::pair<std::string, std::string>> resolved;
  const std::vector<std::string> accelerator_names = NamesOf(catalogue.accelerators());
  const std::vector<std::string> model_names = NamesOf(catalogue.models());
  auto check = [&](const char* kind, const std::string& name, bool found,
                   const std::vector<std::string>& candidates) {
    std::pair<std::string, std::string> key{kind, name};
    if (found || resolved.contains(key)) {
      resolved.insert(std::move(key));
      return;
    }
    auto [it, inserted] = position.emplace(key, unresolved.size());
    if (inserted) {
      unresolved.push_back({kind, name, 0, ClosestNames(name, candidates, 3)});
    }
    ++unresolved[it->second].rows;
  };
  for (const BenchmarkRecord& record : records) {
    const Configuration& configuration = record.configuration;
    const bool hardware_at_risk = at_risk == NamesAtRisk::kEveryHardware ||
                                  carriers_of_hardware[configuration.hardware].size() == 1;
    const bool model_at_risk = carriers_of_model[configuration.model].size() == 1;
    check("hardware", configuration.hardware,
          !hardware_at_risk || catalogue.FindAccelerator(configuration.hardware).ok(),
          accelerator_names);
    check("model", configuration.model,
          !model_at_risk || catalogue.FindModel(configuration.model).ok(), model_names);
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
