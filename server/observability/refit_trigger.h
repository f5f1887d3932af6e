#pragma once

#include <array>

#include "absl/strings/string_view.h"

namespace perfcast::server {

// Why a retrain ran: the `trigger` label of perfcast_refits_total, the trigger in GetModelStatus
// and in the refit log lines.
enum class RefitTrigger {
  kCount,      // retrain_after_results new results arrived
  kQuiet,      // no new results for a while after some arrived
  kRpc,        // ModelService.Refit
  kSeed,       // the first training after the store was seeded
  kStartup,    // the first training on a store that already held results
  kForwarded,  // another replica of a shared store passed its request on to this one
};

// Every trigger, in declaration order: the metric's label set is built from it.
inline constexpr std::array<RefitTrigger, 6> kRefitTriggers = {
    RefitTrigger::kCount, RefitTrigger::kQuiet,   RefitTrigger::kRpc,
    RefitTrigger::kSeed,  RefitTrigger::kStartup, RefitTrigger::kForwarded};

// The one name table; no default case, so -Wswitch reports a trigger without a name.
constexpr absl::string_view RefitTriggerName(RefitTrigger trigger) {
  switch (trigger) {
    case RefitTrigger::kCount:
      return "count";
    case RefitTrigger::kQuiet:
      return "quiet";
    case RefitTrigger::kRpc:
      return "rpc";
    case RefitTrigger::kSeed:
      return "seed";
    case RefitTrigger::kStartup:
      return "startup";
    case RefitTrigger::kForwarded:
      return "forwarded";
  }
  return "";
}

// A value added to the enum but not to the list would have no metric series; the switch above
// names no value past the last listed one only while the list is complete.
static_assert(RefitTriggerName(static_cast<RefitTrigger>(kRefitTriggers.size())).empty(),
              "kRefitTriggers must list every RefitTrigger");

}  // namespace perfcast::server
