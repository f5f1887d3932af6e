#pragma once

#include <optional>

#include "absl/strings/string_view.h"
#include "core/plan/plan_request.h"
#include "core/plan/plan_result.h"
#include "perfcast/v1/perfcast.pb.h"
#include "proto/convert/field_error.h"

namespace perfcast {

// Checks what only the message can get wrong (strings, candidates' configurations, enum values,
// prices, the page size) and fills `out`; the rest (demand, objectives, confidence, shapes'
// figures) is ValidatePlanRequest's (core/plan/planner.h), which names the same fields.
std::optional<FieldError> PlanRequestFromProto(const v1::PlanRequest& request, PlanRequest* out);

v1::CandidateRejection CandidateRejectionToProto(CandidateRejection rejection);
void OperatingPointToProto(const OperatingPoint& point, v1::OperatingPoint* out);
void PlanOptionToProto(const PlanOption& option, v1::PlanOption* out);

// Options [first, first + count) of `result`, with the rejected candidates when `first` is 0.
void PlanResultToProto(const PlanResult& result, size_t first, size_t count, v1::PlanResponse* out);

}  // namespace perfcast
