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
// Without this, such a query would be answered as a configuration never seen. A name reaches, in
// this order: itself, where the data carries it verbatim; a trained name equal to it but for case
// and outer spaces; the first trained name that resolves to the same catalogue entry (for a
// precision with a 16-bit KV cache: to an entry of the same bytes per weight and the same math,
// so bf16 reaches fp16; mixed formats with 8-bit KV caches are matched by entry only, since fp8
// and int8 caches store alike but are not the same format).
//
// Thread safety: immutable after construction.
class TrainedNames {
 public:
  TrainedNames() = default;
  // `configurations`: the training data's, sorted, so that the first of several trained names
  // with one key is the same in every build. `catalogue` may be null.
  TrainedNames(absl::Span<const Configuration> configurations, const Catalogue* catalogue);

  // `query` with each name replaced by the trained name it reaches, and the names that reach
  // none, in field order: one pass over the fields for both.
  struct Resolved {
    Configuration configuration;
    std::vector<UnseenName> unseen;
  };
  Resolved Resolve(const Configuration& query) const;
  Configuration AsTrained(const Configuration& query) const { return Resolve(query).configuration; }
  std::vector<UnseenName> UnseenNamesOf(const Configuration& query) const {
    return Resolve(query).unseen;
  }

  // `system` under every spelling of its names that the training data carries: each name's
  // trained names of the same catalogue key (its entry; for a precision with a 16-bit KV cache,
  // its bytes per weight and math, so fp16 and bf16 are one) or, where the catalogue knows none,
  // the same but for case and outer spaces; `system`'s own spelling first. A system measured by two
  // campaigns that spell it differently ("NVIDIA H100" and "NVIDIA H100 80GB HBM3") is one system.
  std::vector<Configuration> SpellingsOf(const Configuration& system) const;

  // Whether a training configuration carries `name` verbatim in `field`.
  bool Carries(ConfigurationField field, const std::string& name) const {
    return trained_.contains({field, name});
  }

 private:
  // The catalogue's key of a name: its entry (for a precision: its bytes and math, where its KV
  // cache is 16-bit); "" where the catalogue does not resolve it.
  std::string CatalogueKeyOf(ConfigurationField field, const std::string& name) const;
  // The trained name `name` reaches, or null.
  const std::string* Reach(ConfigurationField field, const std::string& name) const;

  const Catalogue* catalogue_ = nullptr;  // owned by the model's TransferFeatures
  absl::flat_hash_set<std::pair<ConfigurationField, std::string>> trained_;
  // The first trained name (in configuration order) of each folded name and each catalogue key.
  absl::flat_hash_map<std::pair<ConfigurationField, std::string>, std::string> trained_by_fold_;
  absl::flat_hash_map<std::pair<ConfigurationField, std::string>, std::string> trained_by_key_;
  // Every trained name of each catalogue key, or of each folded name the catalogue resolves not,
  // in configuration order.
  absl::flat_hash_map<std::pair<ConfigurationField, std::string>, std::vector<std::string>>
      spellings_;
  // The key of `spellings_` that `name` is filed under.
  std::string SpellingKeyOf(ConfigurationField field, const std::string& name) const;
};

}  // namespace perfcast
