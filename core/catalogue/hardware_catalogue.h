#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace perfcast {

// One accelerator as its public datasheet describes it, per GPU (per module where a vendor
// packages two dies as one GPU). An absent figure is one the datasheet does not give: it is
// never filled in by estimate.
struct AcceleratorSpec {
  std::string name;
  // Datasheets say "GB" for HBM capacities that are binary (80 GB = 5 stacks x 16 GiB). Absent:
  // the memory fit (memory_fit.h) is unknown.
  std::optional<double> memory_gib;
  std::optional<double> memory_bandwidth_gb_per_s;
  // Dense (no structured sparsity) tensor-core peaks.
  std::optional<double> bf16_dense_tflops;
  // Absent when the part has no FP8 units or the datasheet gives no figure.
  std::optional<double> fp8_dense_tflops;
  std::optional<double> interconnect_gb_per_s;
  // The software platform the part's kernels are written for (CUDA, ROCm, oneAPI, SynapseAI,
  // ...); empty when not stated. Parts of one stack share kernels and serving-framework maturity,
  // so a datasheet ratio between them says far more than one across stacks.
  std::string software_stack;
  std::string source;
};

// Reads accelerators.csv (columns name, memory_gib, memory_bandwidth_gb_per_s,
// bf16_dense_tflops, fp8_dense_tflops, interconnect_gb_per_s, source; optionally
// software_stack). InvalidArgument "file:line: column: why" for a bad row.
absl::StatusOr<std::vector<AcceleratorSpec>> ParseAcceleratorTable(absl::string_view text,
                                                                   absl::string_view file);

}  // namespace perfcast
