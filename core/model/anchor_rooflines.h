#pragma once

#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/curve.h"
#include "core/fit/anchor_curve.h"
#include "core/fit/roofline_growth.h"

namespace perfcast {

// How the static-batch roofline of `configuration` at `shape` grows with the batch
// (PhysicalCeilings::roofline_output_tokens_per_s), the batch held at the KV cache's capacity
// past it: sequences beyond what fits wait for a place rather than run at once. Empty where the
// catalogue lacks a figure the roofline needs or not one sequence's KV cache fits beside the
// weights.
RooflineGrowth RooflineGrowthOf(const Catalogue& catalogue, const Configuration& configuration,
                                const Shape& shape);

// Which anchors read their roofline: bundles of format 13 were trained on anchors of two points
// or more following it past their last point, and on single points that kept their own rule.
enum class RooflineReach { kCurvesOfTwoPointsOrMore, kEveryCurve };

// Attaches to every anchor its configuration's growth at its shape (none without a catalogue;
// none to single points with kCurvesOfTwoPointsOrMore, what a format-13 bundle was trained on).
// The same for a model's anchors when trained and when decoded, so that both extrapolate alike.
void AttachRooflines(const Catalogue* catalogue, absl::Span<AnchorCurve> anchors,
                     RooflineReach reach = RooflineReach::kEveryCurve);

}  // namespace perfcast
