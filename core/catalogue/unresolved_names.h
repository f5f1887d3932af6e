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

// Which names a held-out experiment can leave without training data.
enum class NamesAtRisk {
  // Hardware and models that one configuration alone carries (holding configurations out).
  kOneConfigurationOnly,
  // Every hardware, and models that one hardware alone carries (holding hardware out).
  kEveryHardware,
  // Hardware and models that one campaign alone carries (holding campaigns out).
  kOneCampaignOnly,
};

// The hardware and model names of `records` at risk that `catalogue` does not resolve, in order
// of first appearance. perfcast refuses to predict a configuration whose hardware or model
// neither its training data nor the catalogue knows, so a run that holds data out checks them
// before it trains anything. Precisions and frameworks the catalogue lacks are not listed: the
// model only goes without their physical figures.
std::vector<UnresolvedName> FindUnresolvedNames(absl::Span<const BenchmarkRecord> records,
                                                const Catalogue& catalogue, NamesAtRisk at_risk);

// `records` without those that carry one of `unresolved`.
std::vector<BenchmarkRecord> WithoutUnresolved(absl::Span<const BenchmarkRecord> records,
                                               absl::Span<const UnresolvedName> unresolved);

// "hardware 'X' (41 rows; did you mean 'Y'?)", joined by "; ".
std::string DescribeUnresolved(absl::Span<const UnresolvedName> unresolved);

}  // namespace perfcast
