#pragma once

#include "core/ml/xgboost_regressor.h"
#include "core/model/train_options.h"

namespace perfcast {

// The hyperparameters of the correction model: the served one and every cross-fit model that
// stands in for it, so that held-out errors are those of the model that serves.
XGBoostParams CorrectionParams(const TrainOptions& options);

}  // namespace perfcast
