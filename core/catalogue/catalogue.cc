#include "core/catalogue/catalogue.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/catalogue/catalogue_table.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

constexpr absl::string_view kAcceleratorsFile = "accelerators.csv";
constexpr absl::string_view kModelsFile = "models.csv";
constexpr absl::string_view kPrecisionsFile = "precisions.csv";
constexpr absl::string_view kAliasesFile = "aliases.csv";

std::string PathIn(absl::string_view directory, absl::string_view file) {
  if (directory.empty()) return std::string(file);
  return absl::StrCat(directory, directory.back() == '/' ? "" : "/", file);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the catalogue file"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

template <typename Spec>
absl::flat_hash_map<std::string, size_t> IndexByName(const std::vector<Spec>& specs) {
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t i = 0; i < specs.size(); ++i) index.emplace(specs[i].name, i);
  return index;
}

template <typename Spec>
absl::StatusOr<const Spec*> Find(const std::vector<Spec>& specs,
                                 const absl::flat_hash_map<std::string, size_t>& index,
                                 absl::string_view kind, absl::string_view file,
                                 absl::string_view name) {
  const auto it = index.find(name);
  if (it == index.end()) {
    return absl::NotFoundError(absl::StrCat(kind, " '", name,
                                            "' is not in the catalogue (add it to ", file,
                                            " or map it in ", kAliasesFile, ")"));
  }
  return &specs[it->second];
}

}  // namespace

void CatalogueFiles::EncodeTo(ByteWriter& writer) const {
  for (const std::string* text : {&accelerators, &models, &precisions, &aliases}) {
    writer.PutString(*text);
  }
}

absl::StatusOr<CatalogueFiles> CatalogueFiles::DecodeFrom(ByteReader& reader) {
  CatalogueFiles files;
  for (std::string* text :
       {&files.accelerators, &files.models, &files.precisions, &files.aliases}) {
    PERFCAST_ASSIGN_OR_RETURN(*text, reader.GetString());
  }
  return files;
}

absl::StatusOr<Catalogue> Catalogue::Load(const std::string& directory) {
  CatalogueFiles files;
  for (auto [file, text] :
       {std::pair{kAcceleratorsFile, &files.accelerators}, std::pair{kModelsFile, &files.models},
        std::pair{kPrecisionsFile, &files.precisions}, std::pair{kAliasesFile, &files.aliases}}) {
    absl::StatusOr<std::string> contents = ReadFile(PathIn(directory, file));
    if (!contents.ok()) return contents.status();
    *text = *std::move(contents);
  }
  return Parse(std::move(files), directory);
}

absl::StatusOr<Catalogue> Catalogue::Parse(CatalogueFiles files, absl::string_view directory) {
  Catalogue catalogue;
  absl::StatusOr<std::vector<AcceleratorSpec>> accelerators =
      ParseAcceleratorTable(files.accelerators, PathIn(directory, kAcceleratorsFile));
  if (!accelerators.ok()) return accelerators.status();
  catalogue.accelerators_ = *std::move(accelerators);
  absl::StatusOr<std::vector<ModelSpec>> models =
      ParseModelTable(files.models, PathIn(directory, kModelsFile));
  if (!models.ok()) return models.status();
  catalogue.models_ = *std::move(models);
  absl::StatusOr<std::vector<PrecisionSpec>> precisions =
      ParsePrecisionTable(files.precisions, PathIn(directory, kPrecisionsFile));
  if (!precisions.ok()) return precisions.status();
  catalogue.precisions_ = *std::move(precisions);
  catalogue.accelerator_index_ = IndexByName(catalogue.accelerators_);
  catalogue.model_index_ = IndexByName(catalogue.models_);
  catalogue.precision_index_ = IndexByName(catalogue.precisions_);

  constexpr absl::string_view kAliasColumns[] = {"kind", "alias", "entry"};
  absl::StatusOr<CatalogueTable> aliases =
      CatalogueTable::Parse(files.aliases, PathIn(directory, kAliasesFile), kAliasColumns);
  if (!aliases.ok()) return aliases.status();
  for (const CatalogueRow& row : aliases->rows()) {
    absl::StatusOr<std::string> kind = row.Text("kind");
    if (!kind.ok()) return kind.status();
    absl::StatusOr<std::string> alias = row.Text("alias");
    if (!alias.ok()) return alias.status();
    absl::StatusOr<std::string> entry = row.Text("entry");
    if (!entry.ok()) return entry.status();
    NameIndex* index = nullptr;
    if (*kind == "accelerator") {
      index = &catalogue.accelerator_index_;
    } else if (*kind == "model") {
      index = &catalogue.model_index_;
    } else if (*kind == "precision") {
      index = &catalogue.precision_index_;
    } else {
      return row.Error("kind",
                       absl::StrCat("'", *kind, "' is not accelerator, model or precision"));
    }
    const auto target = index->find(*entry);
    if (target == index->end()) {
      return row.Error("entry", absl::StrCat("no ", *kind, " named '", *entry, "'"));
    }
    if (!index->emplace(*alias, target->second).second) {
      return row.Error("alias", absl::StrCat("'", *alias, "' is already a ", *kind, " name"));
    }
  }
  catalogue.files_ = std::move(files);
  return catalogue;
}

absl::StatusOr<const AcceleratorSpec*> Catalogue::FindAccelerator(absl::string_view name) const {
  return Find(accelerators_, accelerator_index_, "hardware", kAcceleratorsFile, name);
}

absl::string_view Catalogue::SoftwareStackOf(absl::string_view hardware) const {
  const auto it = accelerator_index_.find(hardware);
  return it == accelerator_index_.end() ? absl::string_view()
                                        : accelerators_[it->second].software_stack;
}

absl::StatusOr<const ModelSpec*> Catalogue::FindModel(absl::string_view name) const {
  return Find(models_, model_index_, "model", kModelsFile, name);
}

absl::StatusOr<const PrecisionSpec*> Catalogue::FindPrecision(absl::string_view name) const {
  return Find(precisions_, precision_index_, "precision", kPrecisionsFile, name);
}

CatalogueEntryNames Catalogue::EntryNamesOf(const Configuration& configuration) const {
  CatalogueEntryNames names;
  if (auto accelerator = FindAccelerator(configuration.hardware); accelerator.ok()) {
    names.accelerator = (*accelerator)->name;
  }
  if (auto model = FindModel(configuration.model); model.ok()) names.model = (*model)->name;
  if (auto precision = FindPrecision(configuration.precision); precision.ok()) {
    names.precision = (*precision)->name;
  }
  return names;
}

absl::StatusOr<ResolvedConfiguration> Catalogue::Resolve(const Configuration& configuration) const {
  ResolvedConfiguration resolved;
  resolved.num_gpus = configuration.num_gpus;
  absl::StatusOr<const AcceleratorSpec*> accelerator = FindAccelerator(configuration.hardware);
  if (!accelerator.ok()) return accelerator.status();
  resolved.accelerator = *accelerator;
  absl::StatusOr<const ModelSpec*> model = FindModel(configuration.model);
  if (!model.ok()) return model.status();
  resolved.model = *model;
  absl::StatusOr<const PrecisionSpec*> precision = FindPrecision(configuration.precision);
  if (!precision.ok()) return precision.status();
  resolved.precision = *precision;
  return resolved;
}

}  // namespace perfcast
