#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/catalogue/memory_fit.h"
#include "core/data/benchmark_record.h"

namespace perfcast {

// A measured run the memory rule calls impossible: a fault of the rule or of the catalogue, since
// the run happened (docs/METHOD.md §10).
struct ImpossibleRun {
  std::string location;  // "file:line"
  Configuration configuration;
  Shape shape;
  int batch_size = 0;
  std::string reason;  // MemoryFit::reason
};

// The verdicts of one campaign's measured runs.
struct CampaignMemoryCheck {
  std::string campaign;  // the records' campaign; "(none)" for runs without one
  int fits = 0;
  int does_not_fit = 0;
  int unknown = 0;
  // The first impossible runs, in input order, up to the limit asked for.
  std::vector<ImpossibleRun> impossible;
  // Why runs are unknown, with how many runs each reason covers.
  std::map<std::string, int> unknown_reasons;
};

// Where a measured run comes from.
struct RunOrigin {
  std::string location;  // "file:line"
  // False where the row left num_gpus empty (read as 1): the share of the weights each GPU
  // holds is then unknown, and so is the fit.
  bool num_gpus_given = true;
};

// Judges every measured run with the memory rule (MemoryBudget), one budget per configuration and
// shape. `origins[i]` describes records[i]; `catalogue` null makes every run unknown. Campaigns in
// order of first appearance. REQUIRES: origins.size() == records.size().
std::vector<CampaignMemoryCheck> CheckMeasuredRunsFit(absl::Span<const BenchmarkRecord> records,
                                                      absl::Span<const RunOrigin> origins,
                                                      const Catalogue* catalogue,
                                                      size_t impossible_examples);

}  // namespace perfcast
