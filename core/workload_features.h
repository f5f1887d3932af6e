#pragma once

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/types/span.h"
#include "core/anchor_curve.h"
#include "core/benchmark_record.h"

namespace perfcast {

// Size read off a model's name ("Llama-2-70b-hf" -> 70, "Mixtral-8x7B" -> 8 experts of 7,
// "bloom-7b1" -> 7.1). NaN billions when the name gives no size.
struct ModelSize {
  double billions_of_parameters;
  int experts = 1;
};
ModelSize ParseModelSize(absl::string_view model);

// The categorical values seen in training, in a fixed order: the columns of the one-hot features.
// Values not in the vocabulary (a new GPU) get all-zero columns.
struct FeatureVocabulary {
  std::vector<std::string> hardware;
  std::vector<std::string> frameworks;
  std::vector<std::string> precisions;

  static FeatureVocabulary FromConfigurations(absl::Span<const Configuration> configurations);
};

// Features of "predict the query's throughput at `batch_size` from this anchor curve": the query
// workload, how far the anchor is from it (shape, batch range, configuration), and the anchor's
// own level and curvature. The learned model maps them to log(true / anchor value).
class TransferFeatures {
 public:
  explicit TransferFeatures(FeatureVocabulary vocabulary);

  int column_count() const { return column_count_; }
  const FeatureVocabulary& vocabulary() const { return vocabulary_; }

  // REQUIRES: out.size() == column_count().
  void Compute(const Configuration& configuration, const Shape& shape, const AnchorCurve& anchor,
               bool anchor_is_same_curve, double batch_size, absl::Span<float> out) const;

 private:
  void OneHot(const std::vector<std::string>& values, const std::string& value,
              absl::Span<float> out) const;

  FeatureVocabulary vocabulary_;
  int column_count_ = 0;
};

}  // namespace perfcast
