#pragma once

#include <vector>

#include "absl/types/span.h"
#include "core/data/curve.h"
#include "core/model/prediction.h"
#include "core/report/svg_chart.h"

namespace perfcast {

// The chart of one prediction: throughput over batch size (log axis), the predicted curve, its
// interval band at `confidence_level`, and the measured points of `measured` (one series per
// campaign). The server's curve explorer and `perfcast predict --svg` both draw it. Points that
// do not fit in memory have no throughput and are left out of the curve and the band.
Chart ThroughputChart(const PredictionQuery& query, absl::Span<const PointPrediction> predicted,
                      double confidence_level, absl::Span<const Curve> measured);

}  // namespace perfcast
