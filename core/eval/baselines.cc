#include "core/eval/baselines.h"

#include <cmath>
#include <map>

#include "core/fit/anchor_curve.h"
#include "core/fit/exponential_fit.h"
#include "core/model/anchor_index.h"

namespace perfcast {
namespace {

// The fold's training curves and held-out points, by configuration.
struct ByConfiguration {
  std::map<Configuration, std::vector<const Curve*>> training;
  std::map<Configuration, std::vector<int>> held_out;

  explicit ByConfiguration(const Fold& fold) {
    for (const Curve& curve : fold.training) training[curve.configuration].push_back(&curve);
    for (int i = 0; i < static_cast<int>(fold.held_out.size()); ++i) {
      held_out[fold.held_out[i].configuration].push_back(i);
    }
  }
};

}  // namespace

std::vector<float> PublishedShapeFeatures(const Shape& shape) {
  const double ii = shape.input_tokens;
  const double oo = shape.output_tokens;
  return {static_cast<float>(ii),
          static_cast<float>(oo),
          static_cast<float>(std::log1p(ii)),
          static_cast<float>(std::log1p(oo)),
          static_cast<float>(std::log1p(ii / oo)),
          static_cast<float>(ii / (oo + 1))};
}

PublishedAla::PublishedAla(bool faithful, int threads) {
  params_.tree_count = faithful ? 5000 : 500;
  params_.learning_rate = faithful ? 0.007 : 0.07;
  params_.max_depth = 8;
  params_.subsample = 0.8;
  params_.colsample_bytree = 0.8;
  params_.l2_regularization = 1.5;
  params_.threads = threads;
}

absl::StatusOr<std::vector<MethodPrediction>> PublishedAla::TrainAndPredict(
    const Fold& fold, absl::Span<const double> /*confidence_levels*/) const {
  std::vector<MethodPrediction> out(fold.held_out.size());
  ByConfiguration groups(fold);
  for (const auto& [configuration, targets] : groups.held_out) {
    auto training = groups.training.find(configuration);
    if (training == groups.training.end()) continue;
    // The parameter database of this configuration.
    FeatureMatrix features{6, {}};
    std::vector<float> a, b, c;
    for (const Curve* curve : training->second) {
      absl::StatusOr<CurveFit> fit = FitSaturationCurve(curve->points);
      if (!fit.ok()) continue;
      features.AddRow(PublishedShapeFeatures(curve->shape));
      a.push_back(fit->curve.a);
      b.push_back(fit->curve.b);
      c.push_back(fit->curve.c);
    }
    if (features.row_count() == 0) continue;
    std::vector<XGBoostRegressor> models;
    for (const std::vector<float>* target : {&a, &b, &c}) {
      absl::StatusOr<XGBoostRegressor> model = XGBoostRegressor::Train(features, *target, params_);
      if (!model.ok()) return model.status();
      models.push_back(*std::move(model));
    }
    for (int i : targets) {
      const HeldOutPoint& point = fold.held_out[i];
      const std::vector<float> x = PublishedShapeFeatures(point.shape);
      const SaturationCurve curve{models[0].Predict(x), models[1].Predict(x), models[2].Predict(x)};
      out[i].throughput_tokens_per_s = curve.ThroughputAt(point.batch_size);
    }
  }
  return out;
}

DirectXGBoost::DirectXGBoost(int threads) {
  params_.tree_count = 500;
  params_.max_depth = 6;
  params_.learning_rate = 0.03;
  params_.threads = threads;
}

absl::StatusOr<std::vector<MethodPrediction>> DirectXGBoost::TrainAndPredict(
    const Fold& fold, absl::Span<const double> /*confidence_levels*/) const {
  std::vector<MethodPrediction> out(fold.held_out.size());
  ByConfiguration groups(fold);
  auto row_of = [](const Shape& shape, int batch_size) {
    std::vector<float> row = PublishedShapeFeatures(shape);
    row.push_back(static_cast<float>(std::log(batch_size)));
    return row;
  };
  for (const auto& [configuration, targets] : groups.held_out) {
    auto training = groups.training.find(configuration);
    if (training == groups.training.end()) continue;
    FeatureMatrix features{7, {}};
    std::vector<float> log_throughput;
    for (const Curve* curve : training->second) {
      for (const CurvePoint& point : curve->points) {
        features.AddRow(row_of(curve->shape, point.batch_size));
        log_throughput.push_back(std::log(point.throughput_tokens_per_s));
      }
    }
    absl::StatusOr<XGBoostRegressor> model =
        XGBoostRegressor::Train(features, log_throughput, params_);
    if (!model.ok()) return model.status();
    for (int i : targets) {
      const HeldOutPoint& point = fold.held_out[i];
      out[i].throughput_tokens_per_s =
          std::exp(model->Predict(row_of(point.shape, point.batch_size)));
    }
  }
  return out;
}

absl::StatusOr<std::vector<MethodPrediction>> NearestCurve::TrainAndPredict(
    const Fold& fold, absl::Span<const double> /*confidence_levels*/) const {
  std::vector<MethodPrediction> out(fold.held_out.size());
  ByConfiguration groups(fold);
  for (const auto& [configuration, targets] : groups.held_out) {
    auto training = groups.training.find(configuration);
    if (training == groups.training.end()) continue;
    for (int i : targets) {
      const HeldOutPoint& point = fold.held_out[i];
      const Curve* nearest = nullptr;
      for (const Curve* curve : training->second) {
        if (nearest == nullptr ||
            ShapeDistance(point.shape, curve->shape) < ShapeDistance(point.shape, nearest->shape)) {
          nearest = curve;
        }
      }
      absl::StatusOr<CurveFit> fit = FitSaturationCurve(nearest->points);
      // A curve too short to fit still says something: follow its points.
      out[i].throughput_tokens_per_s = fit.ok()
                                           ? fit->curve.ThroughputAt(point.batch_size)
                                           : AnchorCurve(*nearest).ThroughputAt(point.batch_size);
    }
  }
  return out;
}

}  // namespace perfcast
