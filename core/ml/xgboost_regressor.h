#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/ml/feature_matrix.h"
#include "core/ml/tree_ensemble.h"
#include "core/ml/xgboost_training_set.h"
#include "core/util/byte_coding.h"

namespace perfcast {

struct XGBoostParams {
  int tree_count = 500;
  int max_depth = 6;
  double learning_rate = 0.03;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double l2_regularization = 1.0;
  double min_child_weight = 1.0;
  // Histogram bins per feature: fewer make each tree cheaper to grow.
  int max_bin = 256;
  int threads = 2;
  uint64_t seed = 0;
};

// A single-output XGBoost regressor (squared error, hist trees) trained through the C API.
// It keeps the model's raw bytes (for bundles) and a TreeEnsemble (for fast prediction).
//
// Thread safety: immutable after construction.
class XGBoostRegressor {
 public:
  static absl::StatusOr<XGBoostRegressor> Train(const XGBoostTrainingSet& training,
                                                const XGBoostParams& params);
  static absl::StatusOr<XGBoostRegressor> Train(const FeatureMatrix& features,
                                                absl::Span<const float> targets,
                                                const XGBoostParams& params);
  // Only the trees, for a model that is used in training and never stored: its bytes (several
  // times the trees' size) are not kept.
  static absl::StatusOr<TreeEnsemble> TrainEnsemble(const XGBoostTrainingSet& training,
                                                    const XGBoostParams& params);
  // From bytes produced by model_bytes().
  static absl::StatusOr<XGBoostRegressor> FromModelBytes(absl::string_view bytes);

  float Predict(absl::Span<const float> row) const { return ensemble_.Predict(row); }
  const TreeEnsemble& ensemble() const { return ensemble_; }
  // XGBoost's UBJSON model, with the base score in front (8 bytes, little-endian float + pad).
  const std::string& model_bytes() const { return model_bytes_; }
  int feature_count() const { return feature_count_; }

  // The model bytes as one string; DecodeFrom fails as FromModelBytes does.
  void EncodeTo(ByteWriter& writer) const;
  static absl::StatusOr<XGBoostRegressor> DecodeFrom(ByteReader& reader);

 private:
  XGBoostRegressor(std::string model_bytes, TreeEnsemble ensemble, int feature_count)
      : model_bytes_(std::move(model_bytes)),
        ensemble_(std::move(ensemble)),
        feature_count_(feature_count) {}

  std::string model_bytes_;
  TreeEnsemble ensemble_;
  int feature_count_ = 0;
};

}  // namespace perfcast
