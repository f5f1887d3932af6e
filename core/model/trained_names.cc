#include "core/model/trained_names.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/catalogue/name_matching.h"

namespace perfcast {

std::string UnseenName::ToString() const { return absl::StrCat(FieldName(field), " '", name, "'"); }

TrainedNames::TrainedNames(absl::Span<const Configuration> configurations,
                           const Catalogue* catalogue)
    : catalogue_(catalogue) {
  for (const Configuration& configuration : configurations) {
    for (ConfigurationField field : kNamedConfigurationFields) {
      const std::string& name = NameOf(configuration, field);
      // A name seen before has filed its fold, key and spelling already.
      if (!trained_.insert({field, name}).second) continue;
      trained_by_fold_.try_emplace({field, FoldName(name)}, name);
      if (std::string key = CatalogueKeyOf(field, name); !key.empty()) {
        trained_by_key_.try_emplace({field, std::move(key)}, name);
      }
      spellings_[{field, SpellingKeyOf(field, name)}].push_back(name);
    }
  }
}

std::string TrainedNames::CatalogueKeyOf(ConfigurationField field, const std::string& name) const {
  if (catalogue_ != nullptr) {
    switch (field) {
      case ConfigurationField::kHardware:
        if (const AcceleratorSpec* entry = catalogue_->LookupAccelerator(name)) {
          return absl::StrCat("entry:", entry->name);
        }
        break;
      case ConfigurationField::kFramework:
        if (const FrameworkSpec* entry = catalogue_->LookupFramework(name)) {
          return absl::StrCat("entry:", entry->name);
        }
        break;
      case ConfigurationField::kModel:
        if (const ModelSpec* entry = catalogue_->LookupModel(name)) {
          return absl::StrCat("entry:", entry->name);
        }
        break;
      case ConfigurationField::kPrecision:
        // Formats that store and compute alike run alike: fp16 and bf16 differ in range only.
        // An 8-bit KV cache may be fp8 or int8, which the figures do not tell apart.
        if (const PrecisionSpec* entry = catalogue_->LookupPrecision(name)) {
          if (entry->kv_cache_bytes_per_element != 2) return absl::StrCat("entry:", entry->name);
          return absl::StrFormat("bytes:%g/%d", entry->weight_bytes_per_parameter,
                                 static_cast<int>(entry->math));
        }
        break;
      case ConfigurationField::kNone:
      case ConfigurationField::kCampaign:
        break;
    }
  }
  return "";
}

std::string TrainedNames::SpellingKeyOf(ConfigurationField field, const std::string& name) const {
  std::string key = CatalogueKeyOf(field, name);
  return key.empty() ? absl::StrCat("fold:", FoldName(name)) : key;
}

std::vector<Configuration> TrainedNames::SpellingsOf(const Configuration& system) const {
  std::vector<Configuration> spellings = {system};
  for (ConfigurationField field : kNamedConfigurationFields) {
    const std::string& own = NameOf(system, field);
    const auto it = spellings_.find({field, SpellingKeyOf(field, own)});
    if (it == spellings_.end()) continue;
    const size_t before = spellings.size();
    for (size_t i = 0; i < before; ++i) {
      for (const std::string& name : it->second) {
        if (name == own) continue;
        Configuration spelled = spellings[i];
        MutableNameOf(spelled, field) = name;
        spellings.push_back(std::move(spelled));
      }
    }
  }
  return spellings;
}

const std::string* TrainedNames::Reach(ConfigurationField field, const std::string& name) const {
  if (trained_.contains({field, name})) return &name;
  if (const auto it = trained_by_fold_.find({field, FoldName(name)});
      it != trained_by_fold_.end()) {
    return &it->second;
  }
  const std::string key = CatalogueKeyOf(field, name);
  if (key.empty()) return nullptr;
  const auto it = trained_by_key_.find({field, key});
  return it == trained_by_key_.end() ? nullptr : &it->second;
}

TrainedNames::Resolved TrainedNames::Resolve(const Configuration& query) const {
  Resolved resolved{query, {}};
  for (ConfigurationField field : kNamedConfigurationFields) {
    const std::string& name = NameOf(query, field);
    if (const std::string* reached = Reach(field, name); reached != nullptr) {
      MutableNameOf(resolved.configuration, field) = *reached;
    } else {
      resolved.unseen.push_back({field, name});
    }
  }
  return resolved;
}

}  // namespace perfcast
