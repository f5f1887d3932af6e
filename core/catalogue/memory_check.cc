#include "core/catalogue/memory_check.h"

#include <utility>

#include "absl/container/flat_hash_map.h"

namespace perfcast {

std::vector<CampaignMemoryCheck> CheckMeasuredRunsFit(absl::Span<const BenchmarkRecord> records,
                                                      absl::Span<const RunOrigin> origins,
                                                      const Catalogue* catalogue,
                                                      size_t impossible_examples) {
  std::vector<CampaignMemoryCheck> campaigns;
  absl::flat_hash_map<std::string, size_t> campaign_positions;
  absl::flat_hash_map<std::pair<Configuration, Shape>, MemoryBudget> budgets;
  for (size_t i = 0; i < records.size(); ++i) {
    const BenchmarkRecord& record = records[i];
    const std::string campaign =
        record.configuration.campaign.empty() ? "(none)" : record.configuration.campaign;
    auto [position, added] = campaign_positions.try_emplace(campaign, campaigns.size());
    if (added) campaigns.push_back({.campaign = campaign});
    CampaignMemoryCheck& check = campaigns[position->second];
    MemoryFit fit;
    if (!origins[i].num_gpus_given) {
      fit.reason = "num_gpus is not recorded: the share of the weights each GPU holds is unknown";
    } else {
      auto budget = budgets.find(std::pair{record.configuration, record.shape});
      if (budget == budgets.end()) {
        budget = budgets
                     .try_emplace(std::pair{record.configuration, record.shape},
                                  MemoryBudget::Of(catalogue, record.configuration, record.shape))
                     .first;
      }
      fit = budget->second.At(record.batch_size);
    }
    switch (fit.verdict) {
      case MemoryVerdict::kFits:
        ++check.fits;
        break;
      case MemoryVerdict::kUnknown:
        ++check.unknown;
        ++check.unknown_reasons[fit.reason];
        break;
      case MemoryVerdict::kDoesNotFit:
        ++check.does_not_fit;
        if (check.impossible.size() < impossible_examples) {
          check.impossible.push_back({origins[i].location, record.configuration, record.shape,
                                      record.batch_size, std::move(fit.reason)});
        }
        break;
    }
  }
  return campaigns;
}

}  // namespace perfcast
