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
      trained_.insert({field, name});
      trained_by_key_.try_emplace({field, KeyOf(field, name)}, name);
    }
  }
}

std::string TrainedNames::KeyOf(ConfigurationField field, const std::string& name) const {
  if (catalogue_ != nullptr) {
    switch (field) {
      case ConfigurationField::kHardware:
        if (auto entry = catalogue_->FindAccelerator(name); entry.ok()) {
          return absl::StrCat("entry:", (*entry)->name);
        }
        break;
      case ConfigurationField::kFramework:
        if (auto entry = catalogue_->FindFramework(name); entry.ok()) {
          return absl::StrCat("entry:", (*entry)->name);
        }
        break;
      case ConfigurationField::kModel:
        if (auto entry = catalogue_->FindModel(name); entry.ok()) {
          return absl::StrCat("entry:", (*entry)->name);
        }
        break;
      case ConfigurationField::kPrecision:
        // Formats that store and compute alike run alike: fp16 and bf16 differ in range only.
        if (auto entry = catalogue_->FindPrecision(name); entry.ok()) {
          return absl::StrFormat("bytes:%g/%g/%d", (*entry)->weight_bytes_per_parameter,
                                 (*entry)->kv_cache_bytes_per_element,
                                 static_cast<int>((*entry)->math));
        }
        break;
      case ConfigurationField::kNone:
        break;
    }
  }
  return absl::StrCat("name:", FoldName(name));
}

const std::string* TrainedNames::Reach(ConfigurationField field, const std::string& name) const {
  if (trained_.contains({field, name})) return &name;
  const auto it = trained_by_key_.find({field, KeyOf(field, name)});
  return it == trained_by_key_.end() ? nullptr : &it->second;
}

Configuration TrainedNames::AsTrained(const Configuration& query) const {
  Configuration trained = query;
  for (ConfigurationField field : kNamedConfigurationFields) {
    if (const std::string* reached = Reach(field, NameOf(query, field)); reached != nullptr) {
      MutableNameOf(trained, field) = *reached;
    }
  }
  return trained;
}

std::vector<UnseenName> TrainedNames::UnseenNamesOf(const Configuration& query) const {
  std::vector<UnseenName> unseen;
  for (ConfigurationField field : kNamedConfigurationFields) {
    const std::string& name = NameOf(query, field);
    if (Reach(field, name) == nullptr) unseen.push_back({field, name});
  }
  return unseen;
}

}  // namespace perfcast
