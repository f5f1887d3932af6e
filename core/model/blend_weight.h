#pragma once

#include "absl/types/span.h"

namespace perfcast {

// One held-out answer read two ways, in the same log units as its truth.
struct TwoWayAnswer {
  double target = 0;
  double first = 0;
  double second = 0;
};

// The weight w of `second` in (1 - w) first + w second, in [0, 1] in steps of 1/20, with the
// least mean |log error| over `answers`; the smaller on a tie, 0 with fewer than `min_answers`
// of them. What the latency model weighs a sibling's share by, and its TTFT tail the over-mean
// form (docs/METHOD.md §9).
double LeastErrorBlendWeight(absl::Span<const TwoWayAnswer> answers, int min_answers);

}  // namespace perfcast
