#include "core/fit/roofline_growth.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace perfcast {

namespace {

// The position of `batch_size` on the table's axis, log2 of the batch within [0, kDoublings].
double PositionOf(double batch_size) {
  if (!(batch_size >= 1)) return 0;
  return std::min(std::log2(batch_size), static_cast<double>(RooflineGrowth::kDoublings));
}

}  // namespace

RooflineGrowth::RooflineGrowth(std::vector<double> log_throughput_by_doubling)
    : log_throughput_(std::move(log_throughput_by_doubling)) {
  const bool usable = log_throughput_.size() == static_cast<size_t>(kDoublings + 1) &&
                      std::all_of(log_throughput_.begin(), log_throughput_.end(),
                                  [](double value) { return std::isfinite(value); });
  if (!usable) log_throughput_.clear();
}

double RooflineGrowth::LogThroughputAt(double batch_size) const {
  const double position = PositionOf(batch_size);
  const int below = std::min(static_cast<int>(position), kDoublings - 1);
  const double fraction = position - below;
  return (1 - fraction) * log_throughput_[below] + fraction * log_throughput_[below + 1];
}

double RooflineGrowth::LogGrowthBetween(double from_batch, double to_batch,
                                        double efficiency_trend) const {
  const double from = PositionOf(from_batch);
  const double to = PositionOf(to_batch);
  // Past the table the roofline is flat, so a falling efficiency adds nothing there.
  const double trend_per_doubling = efficiency_trend * std::log(2.0);
  double growth = 0;
  for (int k = static_cast<int>(from); k < kDoublings && k < to; ++k) {
    const double span = std::min(to, k + 1.0) - std::max(from, static_cast<double>(k));
    const double per_doubling = log_throughput_[k + 1] - log_throughput_[k] + trend_per_doubling;
    growth += std::max(0.0, per_doubling) * span;
  }
  return growth;
}

}  // namespace perfcast
