#include "core/model/error_predictor.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

void ToRow(const ErrorFeatures& f, absl::Span<float> row) {
  const Neighbourhood& n = f.neighbourhood;
  const std::array<double, kErrorFeatureCount> values = {
      static_cast<double>(f.prediction_case),
      std::log2(f.shape.input_tokens),
      std::log2(f.shape.output_tokens),
      std::log2(f.batch_size),
      n.nearest_point_distance,
      n.nearest_same_configuration_distance,  // NaN = missing, which XGBoost handles
      std::log1p(n.configuration_curve_count),
      static_cast<double>(n.configuration_curves_near),
      static_cast<double>(f.anchor_count),
      f.anchor_spread,
      f.anchor_shape_distance,
      f.log2_batch_beyond_anchors,
      f.shape_transfer_weight,
  };
  for (int i = 0; i < kErrorFeatureCount; ++i) row[i] = static_cast<float>(values[i]);
}

XGBoostParams ErrorParams(uint64_t seed, int threads) {
  XGBoostParams params;
  params.tree_count = 150;
  params.max_depth = 4;
  params.learning_rate = 0.05;
  params.subsample = 0.8;
  params.colsample_bytree = 1.0;
  params.min_child_weight = 20;
  params.threads = threads;
  params.seed = seed;
  return params;
}

}  // namespace

absl::StatusOr<ErrorPredictor> ErrorPredictor::Train(absl::Span<const ErrorRecord> records,
                                                     uint64_t seed, int threads) {
  if (records.size() < 10) {
    return absl::FailedPreconditionError(
        absl::StrCat("only ", records.size(), " held-out errors to learn the error from"));
  }
  FeatureMatrix matrix{kErrorFeatureCount, {}};
  std::vector<float> targets;
  std::array<float, kErrorFeatureCount> row;
  for (const ErrorRecord& record : records) {
    ToRow(record.features, absl::MakeSpan(row));
    matrix.AddRow(row);
    targets.push_back(static_cast<float>(record.absolute_log_error));
  }
  absl::StatusOr<XGBoostRegressor> model =
      XGBoostRegressor::Train(matrix, targets, ErrorParams(seed, threads));
  if (!model.ok()) return model.status();
  return ErrorPredictor(*std::move(model));
}

absl::StatusOr<ErrorPredictor> ErrorPredictor::FromModelBytes(absl::string_view bytes) {
  absl::StatusOr<XGBoostRegressor> model = XGBoostRegressor::FromModelBytes(bytes);
  if (!model.ok()) return model.status();
  // A model of one feature fewer never reads the last column of the rows it is given.
  if (model->feature_count() != kErrorFeatureCount &&
      model->feature_count() != kErrorFeatureCount - 1) {
    return absl::DataLossError("bundle: the error predictor does not match its features");
  }
  return ErrorPredictor(*std::move(model));
}

std::vector<double> ErrorPredictor::ExpectedAbsoluteLogErrors(
    absl::Span<const ErrorFeatures> features) const {
  std::vector<float> rows(features.size() * kErrorFeatureCount);
  for (size_t i = 0; i < features.size(); ++i) {
    ToRow(features[i], absl::MakeSpan(rows).subspan(i * kErrorFeatureCount, kErrorFeatureCount));
  }
  std::vector<float> predicted(features.size());
  model_.ensemble().PredictSimilarRows(rows, kErrorFeatureCount, absl::MakeSpan(predicted));
  std::vector<double> out(features.size());
  for (size_t i = 0; i < features.size(); ++i) {
    out[i] = std::max<double>(kFloor, predicted[i]);
  }
  return out;
}

void ErrorPredictor::EncodeTo(ByteWriter& writer) const { writer.PutString(model_bytes()); }

absl::StatusOr<ErrorPredictor> ErrorPredictor::DecodeFrom(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(const std::string bytes, reader.GetString());
  return FromModelBytes(bytes);
}

double ErrorPredictor::ExpectedAbsoluteLogError(const ErrorFeatures& features) const {
  std::array<float, kErrorFeatureCount> row;
  ToRow(features, absl::MakeSpan(row));
  return std::max<double>(kFloor, model_.Predict(row));
}

}  // namespace perfcast
