#pragma once

#include <vector>

namespace perfcast {

// How the physical ceiling of one configuration at one shape grows with the batch size: the log
// of its roofline throughput at batch 1, 2, 4, ..., 2^kDoublings, read in between on a log-log
// line and held flat past the last entry. An anchor follows it where no measurement says how its
// curve goes on (AnchorCurve::ThroughputAt): past its last measured batch, and a single point
// below it too, as the growth from the batch asked up to the point.
class RooflineGrowth {
 public:
  static constexpr int kDoublings = 16;

  // Unknown: the catalogue lacks a figure the roofline needs.
  RooflineGrowth() = default;
  // Entry k at batch 2^k; empty unless there are kDoublings + 1 of them, all finite.
  explicit RooflineGrowth(std::vector<double> log_throughput_by_doubling);

  bool empty() const { return log_throughput_.empty(); }
  // REQUIRES: !empty(). A batch below 1 (or not a number) reads batch 1.
  double LogThroughputAt(double batch_size) const;
  // The log growth from `from_batch` to `to_batch` (> from_batch) of a throughput whose slope in
  // log-log is the roofline's plus `efficiency_trend` wherever that sum is positive, and 0 where
  // it is not: it rises while the ceiling rises faster than the efficiency falls, and holds
  // after, never falling back. REQUIRES: !empty(), efficiency_trend <= 0.
  double LogGrowthBetween(double from_batch, double to_batch, double efficiency_trend) const;

 private:
  std::vector<double> log_throughput_;
};

}  // namespace perfcast
