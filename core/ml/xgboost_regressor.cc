#include "core/ml/xgboost_regressor.h"

#include <xgboost/c_api.h>

#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/ml/xgboost_error.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

struct BoosterDeleter {
  void operator()(void* handle) const { XGBoosterFree(handle); }
};
using BoosterPtr = std::unique_ptr<void, BoosterDeleter>;

absl::StatusOr<BoosterPtr> CreateBooster(DMatrixHandle* train, bst_ulong count) {
  BoosterHandle handle = nullptr;
  if (XGBoosterCreate(train, count, &handle) != 0) return XGBoostError("create");
  return BoosterPtr(handle);
}

absl::StatusOr<int> FeatureCount(BoosterHandle booster) {
  bst_ulong count = 0;
  if (XGBoosterGetNumFeature(booster, &count) != 0) return XGBoostError("num_feature");
  return static_cast<int>(count);
}

// Reads the trees back as text so that TreeEnsemble can evaluate them without the C API.
absl::StatusOr<TreeEnsemble> EnsembleOf(BoosterHandle booster, float base_score) {
  bst_ulong tree_count = 0;
  const char** dumps = nullptr;
  if (XGBoosterDumpModelEx(booster, "", 0, "text", &tree_count, &dumps) != 0) {
    return XGBoostError("dump");
  }
  std::vector<std::string> trees(dumps, dumps + tree_count);
  return TreeEnsemble::FromTextDump(trees, base_score);
}

std::string WithBaseScore(float base_score, const char* bytes, bst_ulong length) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &base_score, sizeof(base_score));
  out.append(bytes, length);
  return out;
}

struct TrainedBooster {
  BoosterPtr booster;
  // As stored in front of the model's bytes.
  float base_score = 0;
};

absl::StatusOr<TrainedBooster> TrainBooster(const XGBoostTrainingSet& training,
                                            const XGBoostParams& params) {
  DMatrixHandle matrix = training.handle();
  absl::StatusOr<BoosterPtr> booster = CreateBooster(&matrix, 1);
  if (!booster.ok()) return booster.status();
  // Starting from the mean makes the trees model deviations, and fixes the base score we store.
  const float base_score = training.mean_target();
  const std::pair<std::string, std::string> settings[] = {
      {"objective", "reg:squarederror"},
      {"tree_method", "hist"},
      {"max_depth", absl::StrCat(params.max_depth)},
      {"eta", absl::StrCat(params.learning_rate)},
      {"subsample", absl::StrCat(params.subsample)},
      {"colsample_bytree", absl::StrCat(params.colsample_bytree)},
      {"lambda", absl::StrCat(params.l2_regularization)},
      {"min_child_weight", absl::StrCat(params.min_child_weight)},
      {"max_bin", absl::StrCat(params.max_bin)},
      // How XGBoost lays out its per-column bin index, not what the trees are. Below this share
      // of rows filled a column is stored as (row, bin) pairs, 9 bytes per value, above it as one
      // byte per row. Our matrices are at most a few hundred columns wide, and our one-hot
      // columns all sparse: stored dense they take less memory at a refit's peak (bench/README.md),
      // and the same trees come out.
      {"sparse_threshold", "0"},
      {"nthread", absl::StrCat(params.threads)},
      {"seed", absl::StrCat(params.seed)},
      {"base_score", absl::StrCat(base_score)},
      {"verbosity", "0"},
  };
  for (const auto& [name, value] : settings) {
    if (XGBoosterSetParam(booster->get(), name.c_str(), value.c_str()) != 0) {
      return XGBoostError(absl::StrCat("set ", name));
    }
  }
  for (int iteration = 0; iteration < params.tree_count; ++iteration) {
    if (XGBoosterUpdateOneIter(booster->get(), iteration, matrix) != 0) {
      return XGBoostError("update");
    }
  }
  // The booster's base score is read back from our stored copy, the value it trained with.
  return TrainedBooster{*std::move(booster), std::stof(absl::StrCat(base_score))};
}

}  // namespace

absl::StatusOr<XGBoostRegressor> XGBoostRegressor::Train(const XGBoostTrainingSet& training,
                                                         const XGBoostParams& params) {
  absl::StatusOr<TrainedBooster> trained = TrainBooster(training, params);
  if (!trained.ok()) return trained.status();
  bst_ulong length = 0;
  const char* bytes = nullptr;
  if (XGBoosterSaveModelToBuffer(trained->booster.get(), R"({"format": "ubj"})", &length, &bytes) !=
      0) {
    return XGBoostError("save");
  }
  absl::StatusOr<TreeEnsemble> ensemble = EnsembleOf(trained->booster.get(), trained->base_score);
  if (!ensemble.ok()) return ensemble.status();
  return XGBoostRegressor(WithBaseScore(trained->base_score, bytes, length), *std::move(ensemble),
                          training.column_count());
}

absl::StatusOr<XGBoostRegressor> XGBoostRegressor::Train(const FeatureMatrix& features,
                                                         absl::Span<const float> targets,
                                                         const XGBoostParams& params) {
  absl::StatusOr<XGBoostTrainingSet> training = XGBoostTrainingSet::Create(features, targets);
  if (!training.ok()) return training.status();
  return Train(*training, params);
}

absl::StatusOr<TreeEnsemble> XGBoostRegressor::TrainEnsemble(const XGBoostTrainingSet& training,
                                                             const XGBoostParams& params) {
  absl::StatusOr<TrainedBooster> trained = TrainBooster(training, params);
  if (!trained.ok()) return trained.status();
  return EnsembleOf(trained->booster.get(), trained->base_score);
}

absl::StatusOr<XGBoostRegressor> XGBoostRegressor::FromModelBytes(absl::string_view bytes) {
  if (bytes.size() <= 8) return absl::DataLossError("xgboost model: too short");
  float base_score = 0;
  std::memcpy(&base_score, bytes.data(), sizeof(base_score));
  absl::StatusOr<BoosterPtr> booster = CreateBooster(nullptr, 0);
  if (!booster.ok()) return booster.status();
  if (XGBoosterLoadModelFromBuffer(booster->get(), bytes.data() + 8, bytes.size() - 8) != 0) {
    return absl::DataLossError(absl::StrCat("xgboost model: ", XGBGetLastError()));
  }
  absl::StatusOr<int> feature_count = FeatureCount(booster->get());
  if (!feature_count.ok()) return feature_count.status();
  absl::StatusOr<TreeEnsemble> ensemble = EnsembleOf(booster->get(), base_score);
  if (!ensemble.ok()) return ensemble.status();
  return XGBoostRegressor(std::string(bytes), *std::move(ensemble), *feature_count);
}

void XGBoostRegressor::EncodeTo(ByteWriter& writer) const { writer.PutString(model_bytes_); }

absl::StatusOr<XGBoostRegressor> XGBoostRegressor::DecodeFrom(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(const std::string bytes, reader.GetString());
  return FromModelBytes(bytes);
}

}  // namespace perfcast
