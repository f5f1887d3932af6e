#pragma once

#include <string>

#include "perfcast/v1/perfcast.pb.h"

namespace perfcast {

// `perfcast plan`'s table: the ranked options with their operating point, capacity (bound and
// prediction), latency bounds, cost and the point-estimate plan beside it; the cheapest
// point-estimate plan and what certainty costs against it; the rejected candidates with their
// reasons. For a bundle and a server alike.
std::string FormatPlanTable(const v1::PlanResponse& response);

}  // namespace perfcast
