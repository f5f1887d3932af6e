#include "core/catalogue/catalogue.h"

#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/catalogue/catalogue_table.h"
#include "core/catalogue/name_matching.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

constexpr absl::string_view kAcceleratorsFile = "accelerators.csv";
constexpr absl::string_view kModelsFile = "models.csv";
constexpr absl::string_view kPrecisionsFile = "precisions.csv";
constexpr absl::string_view kAliasesFile = "aliases.csv";
constexpr absl::string_view kFrameworksFile = "frameworks.csv";

std::string PathIn(absl::string_view directory, absl::string_view file) {
  if (directory.empty()) return std::string(file);
  return absl::StrCat(directory, directory.back() == '/' ? "" : "/", file);
}

template <typename Spec>
std::vector<std::string> NamesOf(const std::vector<Spec>& specs) {
  std::vector<std::string> names;
  for (const Spec& spec : specs) names.push_back(spec.name);
  return names;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the catalogue file"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Adds `name` for position `position`; InvalidArgument when a name equal to it but for case is
// already there, since lookups could not tell the two apart.
absl::Status AddName(absl::string_view kind, absl::string_view name, size_t position,
                     absl::flat_hash_map<std::string, size_t>& positions,
                     std::vector<std::string>& names) {
  if (!positions.emplace(FoldName(name), position).second) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, " name '", name, "' repeats an earlier name (case does not count)"));
  }
  names.emplace_back(name);
  return absl::OkStatus();
}

template <typename Spec>
const Spec* Lookup(const std::vector<Spec>& specs,
                   const absl::flat_hash_map<std::string, size_t>& positions,
                   absl::string_view name, bool version_may_follow) {
  auto it = positions.find(FoldName(name));
  if (it == positions.end() && version_may_follow) {
    it = positions.find(FoldName(WithoutVersion(name)));
  }
  return it == positions.end() ? nullptr : &specs[it->second];
}

// Lookup, or NotFound with the closest names: the suggestions cost an edit distance to every
// name, so only callers that report the miss to a person come this way.
template <typename Spec>
absl::StatusOr<const Spec*> Find(const std::vector<Spec>& specs,
                                 const absl::flat_hash_map<std::string, size_t>& positions,
                                 absl::Span<const std::string> names, absl::string_view kind,
                                 absl::string_view file, absl::string_view name,
                                 bool version_may_follow) {
  if (const Spec* spec = Lookup(specs, positions, name, version_may_follow); spec != nullptr) {
    return spec;
  }
  return absl::NotFoundError(absl::StrCat(kind, " '", name, "' is not in the catalogue",
                                          DidYouMean(ClosestNames(name, names, 3)), "; add it to ",
                                          file, " or map it in ", kAliasesFile));
}

}  // namespace

void CatalogueFiles::EncodeTo(ByteWriter& writer) const {
  for (const std::string* text : {&accelerators, &models, &precisions, &aliases, &frameworks}) {
    writer.PutString(*text);
  }
}

absl::StatusOr<CatalogueFiles> CatalogueFiles::DecodeFrom(ByteReader& reader) {
  CatalogueFiles files;
  for (std::string* text :
       {&files.accelerators, &files.models, &files.precisions, &files.aliases, &files.frameworks}) {
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
  // frameworks.csv came after the other files; a catalogue without it has no framework entries.
  if (absl::StatusOr<std::string> frameworks = ReadFile(PathIn(directory, kFrameworksFile));
      frameworks.ok()) {
    files.frameworks = *std::move(frameworks);
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
  if (!files.frameworks.empty()) {
    absl::StatusOr<std::vector<FrameworkSpec>> frameworks =
        ParseFrameworkTable(files.frameworks, PathIn(directory, kFrameworksFile));
    if (!frameworks.ok()) return frameworks.status();
    catalogue.frameworks_ = *std::move(frameworks);
  }
  for (auto [kind, file, index, specs] :
       {std::tuple{"accelerator", kAcceleratorsFile, &catalogue.accelerator_index_,
                   NamesOf(catalogue.accelerators_)},
        std::tuple{"model", kModelsFile, &catalogue.model_index_, NamesOf(catalogue.models_)},
        std::tuple{"precision", kPrecisionsFile, &catalogue.precision_index_,
                   NamesOf(catalogue.precisions_)},
        std::tuple{"framework", kFrameworksFile, &catalogue.framework_index_,
                   NamesOf(catalogue.frameworks_)}}) {
    for (size_t i = 0; i < specs.size(); ++i) {
      if (absl::Status added = AddName(kind, specs[i], i, index->positions, index->names);
          !added.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(PathIn(directory, file), ": ", added.message()));
      }
    }
  }

  // Every checkpoint precision given, where it was given, to be checked once the names are known.
  std::vector<std::pair<std::string, std::string>> checkpoint_precisions;
  for (const ModelSpec& model : catalogue.models_) {
    if (model.checkpoint_precision.empty()) continue;
    checkpoint_precisions.emplace_back(
        absl::StrCat(PathIn(directory, kModelsFile), ": model '", model.name, "'"),
        model.checkpoint_precision);
  }
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
    } else if (*kind == "framework") {
      index = &catalogue.framework_index_;
    } else {
      return row.Error(
          "kind", absl::StrCat("'", *kind, "' is not accelerator, model, precision or framework"));
    }
    const auto target = index->positions.find(FoldName(*entry));
    if (target == index->positions.end()) {
      return row.Error("entry", absl::StrCat("no ", *kind, " named '", *entry, "'"));
    }
    if (!AddName(*kind, *alias, target->second, index->positions, index->names).ok()) {
      return row.Error("alias", absl::StrCat("'", *alias, "' is already a ", *kind,
                                             " name (case does not count)"));
    }
    // An alias is another checkpoint of the entry's architecture, whose weights may be stored in
    // another type (an FP8 release): it reads its own checkpoint precision, never the entry's.
    if (std::string checkpoint = row.OptionalText("checkpoint_precision"); !checkpoint.empty()) {
      if (*kind != "model") {
        return row.Error("checkpoint_precision", "only a model alias has one");
      }
      checkpoint_precisions.emplace_back(row.location(), std::move(checkpoint));
      catalogue.alias_checkpoint_precisions_[FoldName(*alias)] =
          checkpoint_precisions.back().second;
    }
  }
  // A checkpoint precision names a precision entry, so that a run recording none reads one.
  for (const auto& [location, checkpoint] : checkpoint_precisions) {
    if (catalogue.LookupPrecision(checkpoint) != nullptr) continue;
    return absl::InvalidArgumentError(absl::StrCat(location, ": checkpoint_precision: '",
                                                   checkpoint, "' is not a precision of ",
                                                   kPrecisionsFile, " or an alias"));
  }
  catalogue.files_ = std::move(files);
  return catalogue;
}

absl::StatusOr<const AcceleratorSpec*> Catalogue::FindAccelerator(absl::string_view name) const {
  return Find(accelerators_, accelerator_index_.positions, accelerator_index_.names, "hardware",
              kAcceleratorsFile, name, /*version_may_follow=*/false);
}

absl::string_view Catalogue::SoftwareStackOf(absl::string_view hardware) const {
  const AcceleratorSpec* accelerator = LookupAccelerator(hardware);
  return accelerator == nullptr ? absl::string_view() : accelerator->software_stack;
}

absl::StatusOr<const ModelSpec*> Catalogue::FindModel(absl::string_view name) const {
  return Find(models_, model_index_.positions, model_index_.names, "model", kModelsFile, name,
              /*version_may_follow=*/false);
}

absl::StatusOr<const PrecisionSpec*> Catalogue::FindPrecision(absl::string_view name) const {
  return Find(precisions_, precision_index_.positions, precision_index_.names, "precision",
              kPrecisionsFile, name, /*version_may_follow=*/false);
}

absl::StatusOr<const FrameworkSpec*> Catalogue::FindFramework(absl::string_view name) const {
  return Find(frameworks_, framework_index_.positions, framework_index_.names, "framework",
              kFrameworksFile, name, /*version_may_follow=*/true);
}

const AcceleratorSpec* Catalogue::LookupAccelerator(absl::string_view name) const {
  return Lookup(accelerators_, accelerator_index_.positions, name, false);
}
const ModelSpec* Catalogue::LookupModel(absl::string_view name) const {
  return Lookup(models_, model_index_.positions, name, false);
}
const PrecisionSpec* Catalogue::LookupPrecision(absl::string_view name) const {
  return Lookup(precisions_, precision_index_.positions, name, false);
}
const FrameworkSpec* Catalogue::LookupFramework(absl::string_view name) const {
  return Lookup(frameworks_, framework_index_.positions, name, true);
}

std::vector<std::string> Catalogue::ClosestNamesTo(ConfigurationField field, absl::string_view name,
                                                   size_t limit) const {
  switch (field) {
    case ConfigurationField::kHardware:
      return ClosestNames(name, accelerator_index_.names, limit);
    case ConfigurationField::kModel:
      return ClosestNames(name, model_index_.names, limit);
    case ConfigurationField::kPrecision:
      return ClosestNames(name, precision_index_.names, limit);
    case ConfigurationField::kFramework:
      return ClosestNames(name, framework_index_.names, limit);
    case ConfigurationField::kNone:
    case ConfigurationField::kCampaign:
      break;
  }
  return {};
}

bool Catalogue::RecordsNoPrecision(absl::string_view precision) {
  const std::string folded = FoldName(precision);
  return folded.empty() || folded == kNotPublished;  // kNotPublished is folded already
}

const PrecisionSpec* Catalogue::PrecisionOf(const Configuration& configuration) const {
  if (const PrecisionSpec* named = LookupPrecision(configuration.precision)) return named;
  if (!RecordsNoPrecision(configuration.precision)) return nullptr;
  const ModelSpec* model = LookupModel(configuration.model);
  if (model == nullptr) return nullptr;
  const std::string name = FoldName(configuration.model);
  if (name == FoldName(model->name)) {
    return model->checkpoint_precision.empty() ? nullptr
                                               : LookupPrecision(model->checkpoint_precision);
  }
  const auto alias = alias_checkpoint_precisions_.find(name);
  return alias == alias_checkpoint_precisions_.end() ? nullptr : LookupPrecision(alias->second);
}

CatalogueEntryNames Catalogue::EntryNamesOf(const Configuration& configuration) const {
  CatalogueEntryNames names;
  if (const AcceleratorSpec* accelerator = LookupAccelerator(configuration.hardware)) {
    names.accelerator = accelerator->name;
  }
  if (const ModelSpec* model = LookupModel(configuration.model)) names.model = model->name;
  if (const PrecisionSpec* precision = PrecisionOf(configuration)) {
    names.precision = precision->name;
  }
  if (const FrameworkSpec* framework = LookupFramework(configuration.framework)) {
    names.framework = framework->name;
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
  resolved.precision = PrecisionOf(configuration);
  if (resolved.precision == nullptr) {
    absl::StatusOr<const PrecisionSpec*> precision = FindPrecision(configuration.precision);
    if (!precision.ok()) return precision.status();
    resolved.precision = *precision;
  }
  return resolved;
}

std::optional<ResolvedConfiguration> Catalogue::LookupConfiguration(
    const Configuration& configuration) const {
  ResolvedConfiguration resolved;
  resolved.num_gpus = configuration.num_gpus;
  resolved.accelerator = LookupAccelerator(configuration.hardware);
  resolved.model = LookupModel(configuration.model);
  resolved.precision = PrecisionOf(configuration);
  if (resolved.accelerator == nullptr || resolved.model == nullptr ||
      resolved.precision == nullptr) {
    return std::nullopt;
  }
  return resolved;
}

std::string HardwareTypeOf(absl::string_view hardware, const Catalogue* catalogue) {
  if (catalogue != nullptr) {
    if (const AcceleratorSpec* entry = catalogue->LookupAccelerator(hardware); entry != nullptr) {
      return entry->name;
    }
  }
  return FoldName(hardware);
}

}  // namespace perfcast
