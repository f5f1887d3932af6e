#include "core/report/measured_curves.h"

#include <algorithm>

// The public model API predicts but does not hand out its training curves; the anchors are
// those curves, so they are read where the bundle codec reads them.

namespace perfcast {
namespace {

bool SameSystem(const Configuration& a, const Configuration& b) {
  return a.hardware == b.hardware && a.num_gpus == b.num_gpus && a.framework == b.framework &&
         a.model == b.model && a.precision == b.precision && a.batch_semantics == b.batch_semantics;
}

}  // namespace

std::vector<Curve> MeasuredCurvesOf(const PerfcastModel& model, const PredictionQuery& query) {
  std::vector<Curve> curves;
  model.VisitTrainingCurves([&](const Curve& curve) {
    if (curve.shape != query.shape || !SameSystem(curve.configuration, query.configuration)) {
      return;
    }
    if (!query.configuration.campaign.empty() &&
        curve.configuration.campaign != query.configuration.campaign) {
      return;
    }
    curves.push_back(curve);
  });
  std::sort(curves.begin(), curves.end(), [](const Curve& a, const Curve& b) {
    return a.configuration.campaign < b.configuration.campaign;
  });
  return curves;
}

std::map<std::string, int64_t> TrainedPointsByCampaign(const PerfcastModel& model) {
  std::map<std::string, int64_t> points;
  model.VisitTrainingCurves([&](const Curve& curve) {
    points[curve.configuration.campaign] += static_cast<int64_t>(curve.points.size());
  });
  return points;
}

}  // namespace perfcast
