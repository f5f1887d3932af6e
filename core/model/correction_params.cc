#include "core/model/correction_params.h"

namespace perfcast {

XGBoostParams CorrectionParams(const TrainOptions& options) {
  XGBoostParams params;
  params.tree_count = 200;
  params.max_depth = 6;
  params.learning_rate = 0.075;
  // A quarter of XGBoost's default bins: a training grows 12 more models of this size, and fewer
  // bins make each of them cheaper to grow.
  params.max_bin = 64;
  params.subsample = 0.8;
  params.colsample_bytree = 0.8;
  params.min_child_weight = 2;
  params.threads = options.threads;
  params.seed = options.seed;
  return params;
}

}  // namespace perfcast
