#include "core/fit/roofline_growth.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace perfcast {

RooflineGrowth::RooflineGrowth(std::vector<double> log_throughput_by_doubling)
    : log_throughput_(std::move(log_throughput_by_doubling)) {}

double RooflineGrowth::LogThroughputAt(double batch_size) const {
  const double position = std::clamp(std::log2(batch_size), 0.0, static_cast<double>(kDoublings));
  const int below = std::min(static_cast<int>(position), kDoublings - 1);
  const double fraction = position - below;
  return (1 - fraction) * log_throughput_[below] + fraction * log_throughput_[below + 1];
}

}  // namespace perfcast
