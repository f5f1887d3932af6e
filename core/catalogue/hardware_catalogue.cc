#include "core/catalogue/hardware_catalogue.h"

#include <utility>

#include "core/catalogue/catalogue_table.h"

namespace perfcast {

absl::StatusOr<std::vector<AcceleratorSpec>> ParseAcceleratorTable(absl::string_view text,
                                                                   absl::string_view file) {
  constexpr absl::string_view kColumns[] = {"name",
                                            "memory_gib",
                                            "memory_bandwidth_gb_per_s",
                                            "bf16_dense_tflops",
                                            "fp8_dense_tflops",
                                            "interconnect_gb_per_s",
                                            "source"};
  absl::StatusOr<CatalogueTable> table = CatalogueTable::Parse(text, file, kColumns);
  if (!table.ok()) return table.status();
  if (absl::Status unique = table->CheckUnique("name"); !unique.ok()) return unique;
  std::vector<AcceleratorSpec> accelerators;
  for (const CatalogueRow& row : table->rows()) {
    AcceleratorSpec spec;
    absl::StatusOr<std::string> name = row.Text("name");
    if (!name.ok()) return name.status();
    spec.name = *std::move(name);
    absl::StatusOr<std::optional<double>> memory = row.OptionalPositiveNumber("memory_gib");
    if (!memory.ok()) return memory.status();
    spec.memory_gib = *memory;
    for (auto [column, slot] :
         {std::pair{"memory_bandwidth_gb_per_s", &spec.memory_bandwidth_gb_per_s},
          std::pair{"bf16_dense_tflops", &spec.bf16_dense_tflops},
          std::pair{"fp8_dense_tflops", &spec.fp8_dense_tflops},
          std::pair{"interconnect_gb_per_s", &spec.interconnect_gb_per_s}}) {
      absl::StatusOr<std::optional<double>> value = row.OptionalPositiveNumber(column);
      if (!value.ok()) return value.status();
      *slot = *value;
    }
    // Optional: a file without the column, or an empty cell, leaves the stack unknown.
    if (absl::StatusOr<std::string> stack = row.Text("software_stack"); stack.ok()) {
      spec.software_stack = *std::move(stack);
    }
    absl::StatusOr<std::string> source = row.Text("source");
    if (!source.ok()) return source.status();
    spec.source = *std::move(source);
    accelerators.push_back(std::move(spec));
  }
  return accelerators;
}

}  // namespace perfcast
