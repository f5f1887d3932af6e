#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/data/benchmark_record.h"
#include "core/data/curve.h"
#include "core/model/perfcast_model.h"

namespace perfcast {

// The measured curves a model was trained on whose system (hardware, GPU count, framework,
// model, precision, batch axis) and shape are `query`'s, exactly as spelled; of every campaign
// when the query names none, else of that campaign only. Sorted by campaign. What a chart of a
// prediction shows beside it.
std::vector<Curve> MeasuredCurvesOf(const PerfcastModel& model, const PredictionQuery& query);

// Measured points of the model's training data per campaign ("" for the unnamed one): what the
// serving model has learned from.
std::map<std::string, int64_t> TrainedPointsByCampaign(const PerfcastModel& model);

}  // namespace perfcast
