#pragma once

#include <vector>

namespace perfcast {

// How the physical ceiling of one configuration at one shape grows with the batch size: the log
// of its roofline throughput at batch 1, 2, 4, ..., 2^kDoublings, read in between on a log-log
// line and held flat past the last entry. An anchor follows it past its last measured batch
// (AnchorCurve::ThroughputAt), where no measurement says how its curve goes on.
class RooflineGrowth {
 public:
  static constexpr int kDoublings = 16;

  // Unknown: the catalogue lacks a figure the roofline needs.
  RooflineGrowth() = default;
  // REQUIRES: kDoublings + 1 finite values, entry k at batch 2^k.
  explicit RooflineGrowth(std::vector<double> log_throughput_by_doubling);

  bool empty() const { return log_throughput_.empty(); }
  // REQUIRES: !empty(), batch_size > 0.
  double LogThroughputAt(double batch_size) const;

 private:
  std::vector<double> log_throughput_;
};

}  // namespace perfcast
