#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "core/data/benchmark_record.h"
#include "server/lifecycle/model_registry.h"

namespace perfcast::server {

// How far from the serving model's prediction, as a factor either way, a result of an already
// measured configuration may lie before it is held back. Campaigns of one system legitimately
// differ by 0.3x to 3.8x, but a result is only compared with its own campaign's curve, so a
// factor 4 from that curve is no harness difference; a unit slip or a fabricated value is.
inline constexpr double kQuarantineFactor = 4.0;
// The same for a result of a campaign (or configuration) the serving model has not trained on,
// against the population's answer for its system: campaigns differ, so only a factor no harness
// explains holds it back.
inline constexpr double kNewCampaignQuarantineFactor = 10.0;
// The interval the result must also lie outside: where the model itself is unsure (a curve with
// one point, a shape far from the measured ones), its interval is wide and nothing is held back.
inline constexpr double kQuarantineConfidence = 0.99;

// The second half of the plausibility gate (docs/SERVING.md §4; the first is plausibility.h's
// physical ceiling): a result whose throughput lies far outside what the serving model predicts
// for the same configuration (hardware, GPUs, framework, model, precision, campaign and batch
// semantics) is stored in quarantine, so that no one submitter can steer the model with values
// the configuration's own measurements contradict.
//
// A configuration the serving model was trained on, in the same campaign, is checked against its
// own curve (kQuarantineFactor). Any other result is checked against the population's answer for
// its system (the query without a campaign: another campaign's measurements and an interval as
// wide as campaigns scatter) with the wider kNewCampaignQuarantineFactor, and only where some
// campaign measured the system (the population's case is not a new configuration): a new
// campaign's first results may legitimately differ from every other campaign by a few times,
// never by tens. Without a serving model nothing is held back.
//
// Thread safety: Check may be called from any thread; the configuration set of the serving
// version is cached under a mutex.
class QuarantineGate {
 public:
  explicit QuarantineGate(const ModelRegistry* registry) : registry_(registry) {}

  // Why `record` (validated, below the physical ceiling) should be quarantined, or nullopt to
  // store it for training. The reason names the value, the prediction, its interval, the case
  // and the model version.
  std::optional<std::string> Check(const BenchmarkRecord& record) const;

 private:
  using ConfigurationSet = absl::flat_hash_set<Configuration>;
  // The configurations `serving` was trained on.
  std::shared_ptr<const ConfigurationSet> TrainedConfigurations(const ServingModel& serving) const;

  const ModelRegistry* const registry_;
  mutable absl::Mutex mutex_;
  mutable int64_t cached_version_ ABSL_GUARDED_BY(mutex_) = 0;
  mutable std::shared_ptr<const ConfigurationSet> cached_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace perfcast::server
