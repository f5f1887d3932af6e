#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"

namespace perfcast {

// A name of a query that no training configuration carries, even after the equivalences below.
struct UnseenName {
  ConfigurationField field = ConfigurationField::kNone;
  std::string name;

  // "framework 'my-new-engine'".
  std::string ToString() const;
  friend bool operator==(const UnseenName&, const UnseenName&) = default;
};

// The hardware, framework, model and precision names a model was trained on, and how a query's
// names reach them. A query may spell a name otherwise than the data: "vLLM" for "vllm",
// "NVIDIA H100 SXM 80GB" for the data's "NVIDIA H100", "bf16" where the data measured "fp16".
// Without this, such a query would be answered as a configuration never seen. A name reaches a
// trained name when both resolve to the same catalogue entry (or, for precisions, to entries of
// the same bytes per weight and KV element and the same math), or, without a catalogue entry,
// when they are equal but for case and outer spaces. A name the data carries verbatim is always
// kept as it is.
//
// Thread safety: immutable after construction.
class TrainedNames {
 public:
  TrainedNames() = default;
  // `configurations`: the training data's, sorted, so that the first of several trained names
  // with one key is the same in every build. `catalogue` may be null.
  TrainedNames(absl::Span<const Configuration> configurations, const Catalogue* catalogue);

  // `query` with each name replaced by the trained name it reaches, if any.
  Configuration AsTrained(const Configuration& query) const;
  // The names of `query` that reach no trained name, in field order.
  std::vector<UnseenName> UnseenNamesOf(const Configuration& query) const;

 private:
  // The key names are compared by: the catalogue entry, or the folded name.
  std::string KeyOf(ConfigurationField field, const std::string& name) const;
  // The trained name `name` reaches, or null.
  const std::string* Reach(ConfigurationField field, const std::string& name) const;

  const Catalogue* catalogue_ = nullptr;  // owned by the model's TransferFeatures
  absl::flat_hash_set<std::pair<ConfigurationField, std::string>> trained_;
  absl::flat_hash_map<std::pair<ConfigurationField, std::string>, std::string> trained_by_key_;
};

}  // namespace perfcast
