#pragma once

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"

namespace perfcast {

// A name of the data that the catalogue cannot resolve, and how much of the data carries it.
struct UnresolvedName {
  std::string kind;  // "hardware" or "model"
  std::string name;
  int rows = 0;
  std::vector<std::string> suggestions;  // closest catalogue names, nearest first
};

// Every hardware and model name of `records` that `catalogue` does not resolve, in order of first
// appearance. These are the names perfcast refuses to predict for once no training data carries
// them (a held-out hardware, a model of its own), so a run that holds data out checks them
// before it trains anything. Precisions and frameworks the catalogue lacks are not listed: the
// model only goes without their physical figures.
std::vector<UnresolvedName> FindUnresolvedNames(absl::Span<const BenchmarkRecord> records,
                                                const Catalogue& catalogue);

// `records` without those that carry one of `unresolved`.
std::vector<BenchmarkRecord> WithoutUnresolved(absl::Span<const BenchmarkRecord> records,
                                               absl::Span<const UnresolvedName> unresolved);

// "hardware 'X' (41 rows; did you mean 'Y'?)", joined by "; ".
std::string DescribeUnresolved(absl::Span<const UnresolvedName> unresolved);

}  // namespace perfcast
