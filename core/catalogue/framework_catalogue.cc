#include "core/catalogue/framework_catalogue.h"

#include <utility>

#include "core/catalogue/catalogue_table.h"

namespace perfcast {

absl::StatusOr<std::vector<FrameworkSpec>> ParseFrameworkTable(absl::string_view text,
                                                               absl::string_view file) {
  constexpr absl::string_view kColumns[] = {"name", "source"};
  absl::StatusOr<CatalogueTable> table = CatalogueTable::Parse(text, file, kColumns);
  if (!table.ok()) return table.status();
  if (absl::Status unique = table->CheckUnique("name"); !unique.ok()) return unique;
  std::vector<FrameworkSpec> frameworks;
  for (const CatalogueRow& row : table->rows()) {
    FrameworkSpec spec;
    absl::StatusOr<std::string> name = row.Text("name");
    if (!name.ok()) return name.status();
    spec.name = *std::move(name);
    absl::StatusOr<std::string> source = row.Text("source");
    if (!source.ok()) return source.status();
    spec.source = *std::move(source);
    frameworks.push_back(std::move(spec));
  }
  return frameworks;
}

}  // namespace perfcast
