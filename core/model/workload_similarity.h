#pragma once

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/data/benchmark_record.h"
#include "core/fit/anchor_curve.h"
#include "core/model/prediction.h"
#include "core/util/byte_coding.h"

namespace perfcast {

// Divisors of the numeric axes of the workload space (docs/METHOD.md §4): each axis is a log2
// quantity divided by its standard deviation over the training points, so one unit on any axis is
// "as far as the observed workloads typically spread".
struct WorkloadScales {
  double log2_input_tokens = 1;
  double log2_output_tokens = 1;
  double log2_batch_size = 1;
  double log2_gpus = 1;

  void EncodeTo(ByteWriter& writer) const;
  // DataLoss for a scale that is not positive.
  static absl::StatusOr<WorkloadScales> DecodeFrom(ByteReader& reader);
};

// What a simulated query must not see: the figures of a prediction made in training must be
// those the query would have had if that data had never been observed.
struct Unobserved {
  int curve = -1;       // this anchor index is left out...
  int kept_points = 0;  // ...except its first `kept_points` points (the extrapolated-batch case)
  bool configuration = false;         // every curve of the query's configuration is left out
  absl::Span<const int> curves = {};  // these anchor indices (sorted) are left out too
};

// How much observed data lies near a query, in numbers a person can read.
struct Neighbourhood {
  // Distance to the nearest observed point, overall and within the query's configuration
  // (NaN when the configuration has no point). 0 = this very point was measured.
  double nearest_point_distance = NAN;
  double nearest_same_configuration_distance = NAN;
  int configuration_curve_count = 0;
  // Curves of the configuration whose shape lies within one unit of the query's.
  int configuration_curves_near = 0;
};

// Distances between workloads (configuration, shape, batch size) in a normalised space: the
// numeric axes of WorkloadScales, plus one unit for each of hardware, framework, model and
// precision that differs. Euclidean.
//
// Thread safety: immutable after construction. Holds pointers into `anchors`, which must outlive
// it and not move.
class WorkloadSimilarity {
 public:
  // The scales measured on the anchors' points.
  static WorkloadScales ScalesOf(absl::Span<const AnchorCurve> anchors);

  WorkloadSimilarity(absl::Span<const AnchorCurve> anchors, WorkloadScales scales);

  const WorkloadScales& scales() const { return scales_; }

  // Distance between two workloads.
  double Distance(const Configuration& a_configuration, const Shape& a_shape, double a_batch_size,
                  const Configuration& b_configuration, const Shape& b_shape,
                  double b_batch_size) const;

  Neighbourhood Around(const Configuration& configuration, const Shape& shape, double batch_size,
                       const Unobserved& unobserved) const;
  // Around at each of `batch_sizes`, the same answers, with the configuration and shape part of
  // every curve's distance worked out once instead of once per batch size.
  std::vector<Neighbourhood> AroundEach(const Configuration& configuration, const Shape& shape,
                                        absl::Span<const double> batch_sizes,
                                        const Unobserved& unobserved) const;

  // The `count` nearest curves (configuration and shape part of the distance), nearest first.
  std::vector<NeighborCurve> NearestCurves(const Configuration& configuration, const Shape& shape,
                                           int count) const;

 private:
  // Hardware, framework, model and precision as small integers, so that a query meets every
  // curve without string comparisons; -1 for a value never observed.
  using CategoryCodes = std::array<int, 4>;
  CategoryCodes CodesOf(const Configuration& configuration) const;

  // The squared distance is the sum of these two parts: configuration and shape (from the count
  // of differing categorical fields and the log2 gaps), and batch size.
  double CurvePartSquared(int mismatches, double log2_gpus_gap, double log2_input_gap,
                          double log2_output_gap) const;
  double BatchPartSquared(double log2_batch_gap) const;
  // CurvePartSquared in two steps, added in the same order (so with the same result): the
  // configuration's terms, shared by every curve of one configuration, then the shape's.
  double ConfigurationPartSquared(int mismatches, double log2_gpus_gap) const;
  double PlusShapePartSquared(double configuration_part, double log2_input_gap,
                              double log2_output_gap) const;
  static int Mismatches(const CategoryCodes& a, const CategoryCodes& b);

  // Squared distance of the configuration and shape parts, to anchor `i`.
  double CurveDistanceSquared(const CategoryCodes& codes, double log2_gpus, double log2_input,
                              double log2_output, size_t i) const;

  // The curves of one configuration (its categorical codes and GPU count), anchor indices
  // ascending: the configuration part of their distance is worked out once for all of them.
  struct ConfigurationGroup {
    CategoryCodes codes{};
    int num_gpus = 0;
    double log2_gpus = 0;
    std::vector<int> anchors;
  };

  struct LogCurve {
    double log2_input = 0;
    double log2_output = 0;
    double log2_gpus = 0;
    std::vector<double> log2_batch_sizes;
    CategoryCodes codes{};
    int num_gpus = 0;
  };

  absl::Span<const AnchorCurve> anchors_;
  WorkloadScales scales_;
  std::vector<LogCurve> log_curves_;  // parallel to anchors_
  std::vector<ConfigurationGroup> groups_;
  std::array<absl::flat_hash_map<std::string, int>, 4> category_codes_;
};

}  // namespace perfcast
