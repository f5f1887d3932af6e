#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/catalogue/framework_catalogue.h"
#include "core/catalogue/hardware_catalogue.h"
#include "core/catalogue/model_catalogue.h"
#include "core/data/benchmark_record.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// The text of the catalogue files (see data/catalogue/README.md). A model bundle stores it, so
// that a model reloads with exactly the facts and names it was trained with.
struct CatalogueFiles {
  std::string accelerators;  // accelerators.csv
  std::string models;        // models.csv
  std::string precisions;    // precisions.csv
  std::string aliases;       // aliases.csv: kind, alias, entry
  std::string frameworks;    // frameworks.csv; empty: no framework entries

  // The texts as they are; DecodeFrom does not parse them (Catalogue::Parse does).
  void EncodeTo(ByteWriter& writer) const;
  static absl::StatusOr<CatalogueFiles> DecodeFrom(ByteReader& reader);
};

// A configuration's catalogue entries. The pointers are into the Catalogue that resolved it and
// live as long as it does.
struct ResolvedConfiguration {
  const AcceleratorSpec* accelerator = nullptr;
  const ModelSpec* model = nullptr;
  const PrecisionSpec* precision = nullptr;
  int num_gpus = 1;
};

// The entry names a configuration's hardware, model and precision resolve to; empty where the
// catalogue does not know the name.
struct CatalogueEntryNames {
  std::string accelerator;
  std::string model;
  std::string precision;
  std::string framework;
};

// What is publicly known about accelerators, models, number formats and serving frameworks, read
// at run time from data files so that a new GPU or model is one edited row, not a rebuild. Names
// reach an entry by its name or through an alias, ignoring case and outer spaces (name_matching.h);
// a framework name also with its version left off ("vllm-0.6.3"). Nothing else is matched
// loosely: a name the files do not list is reported with the closest names they do list.
//
// Thread safety: immutable once built; share freely.
class Catalogue {
 public:
  // Reads accelerators.csv, models.csv, precisions.csv, aliases.csv and, where present,
  // frameworks.csv from `directory`. NotFound for a missing file; InvalidArgument
  // "path:line: column: why" for a bad row, a name repeated (ignoring case), or an alias whose
  // entry does not exist.
  static absl::StatusOr<Catalogue> Load(const std::string& directory);
  // Same, from the files' text; `directory` prefixes the file names in error locations.
  static absl::StatusOr<Catalogue> Parse(CatalogueFiles files, absl::string_view directory);

  // The entry named `name`, or the entry an alias of that name points to. NotFound naming `name`
  // and the closest known names otherwise. The pointer lives as long as this catalogue.
  absl::StatusOr<const AcceleratorSpec*> FindAccelerator(absl::string_view name) const;
  absl::StatusOr<const ModelSpec*> FindModel(absl::string_view name) const;
  absl::StatusOr<const PrecisionSpec*> FindPrecision(absl::string_view name) const;
  absl::StatusOr<const FrameworkSpec*> FindFramework(absl::string_view name) const;
  // The same without an error: null where the name resolves to nothing. For the prediction path,
  // where a miss is an answer (an unseen name), not a fault to report.
  const AcceleratorSpec* LookupAccelerator(absl::string_view name) const;
  const ModelSpec* LookupModel(absl::string_view name) const;
  const PrecisionSpec* LookupPrecision(absl::string_view name) const;
  const FrameworkSpec* LookupFramework(absl::string_view name) const;
  // Up to `limit` entry and alias names of `field`'s kind closest to `name` (name_matching.h),
  // the suggestions of a NotFound.
  std::vector<std::string> ClosestNamesTo(ConfigurationField field, absl::string_view name,
                                          size_t limit) const;
  // The software stack of `hardware`'s entry (AcceleratorSpec::software_stack); "" where the
  // name does not resolve or the entry names none. On the prediction path, so no error is built.
  absl::string_view SoftwareStackOf(absl::string_view hardware) const;

  // The precision entry of `configuration`. One that records no precision (empty, or
  // kNotPublished) is read as its model's checkpoint precision, where the catalogue gives it (a
  // model alias's own, never its entry's: an alias may be a checkpoint quantized otherwise):
  // serving stacks load a checkpoint in the type it is stored in unless told otherwise (vLLM's
  // `--dtype auto`, AIConfigurator's inference of the checkpoint's type). Null where neither
  // resolves; a named precision the catalogue lacks is never replaced.
  const PrecisionSpec* PrecisionOf(const Configuration& configuration) const;
  // Whether `precision` names no precision (RecordsNoPrecision("na")).
  static bool RecordsNoPrecision(absl::string_view precision);

  // The hardware, model and precision of `configuration` (its precision by PrecisionOf);
  // NotFound naming the first of them the catalogue lacks.
  absl::StatusOr<ResolvedConfiguration> Resolve(const Configuration& configuration) const;
  // The same without the error: nullopt where a name is missing. For per-query and per-row paths
  // that do without the entry, where building the message (a search for the closest names) would
  // cost more than the lookup.
  std::optional<ResolvedConfiguration> LookupConfiguration(
      const Configuration& configuration) const;
  CatalogueEntryNames EntryNamesOf(const Configuration& configuration) const;

  const CatalogueFiles& files() const { return files_; }
  const std::vector<AcceleratorSpec>& accelerators() const { return accelerators_; }
  const std::vector<ModelSpec>& models() const { return models_; }
  const std::vector<PrecisionSpec>& precisions() const { return precisions_; }
  const std::vector<FrameworkSpec>& frameworks() const { return frameworks_; }

 private:
  // Folded entry and alias names (FoldName) to positions in the vectors above, and every name as
  // written, for suggestions.
  struct NameIndex {
    absl::flat_hash_map<std::string, size_t> positions;
    std::vector<std::string> names;
  };

  Catalogue() = default;

  CatalogueFiles files_;
  std::vector<AcceleratorSpec> accelerators_;
  std::vector<ModelSpec> models_;
  std::vector<PrecisionSpec> precisions_;
  std::vector<FrameworkSpec> frameworks_;
  NameIndex accelerator_index_;
  NameIndex model_index_;
  NameIndex precision_index_;
  NameIndex framework_index_;
  // Folded model alias to the precision its checkpoint is stored in (aliases.csv), where given.
  absl::flat_hash_map<std::string, std::string> alias_checkpoint_precisions_;
};

// The hardware type `hardware` names: the accelerator entry it resolves to in `catalogue`, so
// that two campaigns' spellings of one GPU are one type, or its case-folded name where the
// catalogue (which may be null) does not resolve it.
std::string HardwareTypeOf(absl::string_view hardware, const Catalogue* catalogue);

}  // namespace perfcast
