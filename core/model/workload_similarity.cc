#include "core/model/workload_similarity.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "absl/status/status.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

double StandardDeviation(const std::vector<double>& values) {
  if (values.size() < 2) return 0;
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double sum = 0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / static_cast<double>(values.size() - 1));
}

// A constant axis keeps unit scale rather than dividing by zero.
double ScaleOf(const std::vector<double>& values) {
  const double sd = StandardDeviation(values);
  return sd > 1e-6 ? sd : 1.0;
}

double Squared(double x) { return x * x; }

// The categorical fields of the space, in the order of CategoryCodes.
std::array<const std::string*, 4> CategoricalFields(const Configuration& c) {
  return {&c.hardware, &c.framework, &c.model, &c.precision};
}

}  // namespace

void WorkloadScales::EncodeTo(ByteWriter& writer) const {
  for (double scale : {log2_input_tokens, log2_output_tokens, log2_batch_size, log2_gpus}) {
    writer.PutDouble(scale);
  }
}

absl::StatusOr<WorkloadScales> WorkloadScales::DecodeFrom(ByteReader& reader) {
  WorkloadScales scales;
  for (double* scale : {&scales.log2_input_tokens, &scales.log2_output_tokens,
                        &scales.log2_batch_size, &scales.log2_gpus}) {
    PERFCAST_ASSIGN_OR_RETURN(const double value, reader.GetDouble());
    if (!(value > 0)) return absl::DataLossError("bundle: a similarity scale is not positive");
    *scale = value;
  }
  return scales;
}

WorkloadScales WorkloadSimilarity::ScalesOf(absl::Span<const AnchorCurve> anchors) {
  std::vector<double> input, output, batch, gpus;
  for (const AnchorCurve& anchor : anchors) {
    const Curve& curve = anchor.curve();
    for (const CurvePoint& point : curve.points) {
      input.push_back(std::log2(curve.shape.input_tokens));
      output.push_back(std::log2(curve.shape.output_tokens));
      batch.push_back(std::log2(point.batch_size));
      gpus.push_back(std::log2(curve.configuration.num_gpus));
    }
  }
  return {ScaleOf(input), ScaleOf(output), ScaleOf(batch), ScaleOf(gpus)};
}

WorkloadSimilarity::WorkloadSimilarity(absl::Span<const AnchorCurve> anchors, WorkloadScales scales)
    : anchors_(anchors), scales_(scales) {
  log_curves_.reserve(anchors.size());
  for (const AnchorCurve& anchor : anchors) {
    const Curve& curve = anchor.curve();
    const Configuration& c = curve.configuration;
    const std::array<const std::string*, 4> values = CategoricalFields(c);
    CategoryCodes codes;
    for (size_t field = 0; field < values.size(); ++field) {
      auto& known = category_codes_[field];
      codes[field] =
          known.try_emplace(*values[field], static_cast<int>(known.size())).first->second;
    }
    LogCurve log_curve{std::log2(curve.shape.input_tokens),
                       std::log2(curve.shape.output_tokens),
                       std::log2(c.num_gpus),
                       {},
                       codes,
                       c.num_gpus};
    for (const CurvePoint& point : curve.points) {
      log_curve.log2_batch_sizes.push_back(std::log2(point.batch_size));
    }
    log_curves_.push_back(std::move(log_curve));
  }
  absl::flat_hash_map<std::pair<CategoryCodes, int>, size_t> group_of;
  for (size_t i = 0; i < log_curves_.size(); ++i) {
    const LogCurve& curve = log_curves_[i];
    const auto [it, added] =
        group_of.try_emplace(std::pair(curve.codes, curve.num_gpus), groups_.size());
    if (added) groups_.push_back({curve.codes, curve.num_gpus, curve.log2_gpus, {}});
    groups_[it->second].anchors.push_back(static_cast<int>(i));
  }
}

double WorkloadSimilarity::Distance(const Configuration& a_configuration, const Shape& a_shape,
                                    double a_batch_size, const Configuration& b_configuration,
                                    const Shape& b_shape, double b_batch_size) const {
  const std::array<const std::string*, 4> a_fields = CategoricalFields(a_configuration);
  const std::array<const std::string*, 4> b_fields = CategoricalFields(b_configuration);
  int mismatches = 0;
  for (size_t field = 0; field < a_fields.size(); ++field) {
    mismatches += *a_fields[field] != *b_fields[field];
  }
  return std::sqrt(
      CurvePartSquared(
          mismatches,
          std::log2(static_cast<double>(a_configuration.num_gpus) / b_configuration.num_gpus),
          std::log2(static_cast<double>(a_shape.input_tokens) / b_shape.input_tokens),
          std::log2(static_cast<double>(a_shape.output_tokens) / b_shape.output_tokens)) +
      BatchPartSquared(std::log2(a_batch_size / b_batch_size)));
}

double WorkloadSimilarity::CurvePartSquared(int mismatches, double log2_gpus_gap,
                                            double log2_input_gap, double log2_output_gap) const {
  return PlusShapePartSquared(ConfigurationPartSquared(mismatches, log2_gpus_gap), log2_input_gap,
                              log2_output_gap);
}

double WorkloadSimilarity::ConfigurationPartSquared(int mismatches, double log2_gpus_gap) const {
  return mismatches + Squared(log2_gpus_gap / scales_.log2_gpus);
}

double WorkloadSimilarity::PlusShapePartSquared(double configuration_part, double log2_input_gap,
                                                double log2_output_gap) const {
  return configuration_part + Squared(log2_input_gap / scales_.log2_input_tokens) +
         Squared(log2_output_gap / scales_.log2_output_tokens);
}

int WorkloadSimilarity::Mismatches(const CategoryCodes& a, const CategoryCodes& b) {
  int mismatches = 0;
  for (size_t field = 0; field < a.size(); ++field) mismatches += a[field] != b[field];
  return mismatches;
}

double WorkloadSimilarity::BatchPartSquared(double log2_batch_gap) const {
  return Squared(log2_batch_gap / scales_.log2_batch_size);
}

WorkloadSimilarity::CategoryCodes WorkloadSimilarity::CodesOf(
    const Configuration& configuration) const {
  const std::array<const std::string*, 4> values = CategoricalFields(configuration);
  CategoryCodes codes;
  for (size_t field = 0; field < values.size(); ++field) {
    const auto it = category_codes_[field].find(*values[field]);
    codes[field] = it == category_codes_[field].end() ? -1 : it->second;
  }
  return codes;
}

double WorkloadSimilarity::CurveDistanceSquared(const CategoryCodes& codes, double log2_gpus,
                                                double log2_input, double log2_output,
                                                size_t i) const {
  const LogCurve& c = log_curves_[i];
  return CurvePartSquared(Mismatches(codes, c.codes), log2_gpus - c.log2_gpus,
                          log2_input - c.log2_input, log2_output - c.log2_output);
}

Neighbourhood WorkloadSimilarity::Around(const Configuration& configuration, const Shape& shape,
                                         double batch_size, const Unobserved& unobserved) const {
  const double batch_sizes[] = {batch_size};
  return AroundEach(configuration, shape, batch_sizes, unobserved).front();
}

std::vector<Neighbourhood> WorkloadSimilarity::AroundEach(const Configuration& configuration,
                                                          const Shape& shape,
                                                          absl::Span<const double> batch_sizes,
                                                          const Unobserved& unobserved) const {
  const double log2_input = std::log2(shape.input_tokens);
  const double log2_output = std::log2(shape.output_tokens);
  const double log2_gpus = std::log2(configuration.num_gpus);
  const CategoryCodes codes = CodesOf(configuration);
  std::vector<double> log2_batches(batch_sizes.size());
  for (size_t b = 0; b < batch_sizes.size(); ++b) log2_batches[b] = std::log2(batch_sizes[b]);
  const double infinity = std::numeric_limits<double>::infinity();
  std::vector<double> best(batch_sizes.size(), infinity);
  std::vector<double> best_same(batch_sizes.size(), infinity);
  double worst_best = infinity;  // the largest of best[]
  int configuration_curve_count = 0;
  int configuration_curves_near = 0;

  // A curve's squared distance is its configuration's part plus its shape's, and the shape's is
  // not negative: a configuration whose part alone reaches every batch size's best so far holds
  // no nearer point. The configurations with at most one differing name go first, so that the
  // bests are small before the far ones are met.
  std::vector<double> configuration_parts(groups_.size());
  std::vector<int> mismatch_counts(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    mismatch_counts[g] = Mismatches(codes, groups_[g].codes);
    configuration_parts[g] =
        ConfigurationPartSquared(mismatch_counts[g], log2_gpus - groups_[g].log2_gpus);
  }
  const auto visit = [&](size_t g) {
    const ConfigurationGroup& group = groups_[g];
    // No differing name (a trained group has no unknown code) and the same GPU count.
    const bool same = mismatch_counts[g] == 0 && group.num_gpus == configuration.num_gpus;
    if (same && unobserved.configuration) return;
    if (!same && configuration_parts[g] >= worst_best) return;
    for (const int i : group.anchors) {
      if (std::binary_search(unobserved.curves.begin(), unobserved.curves.end(), i)) continue;
      const LogCurve& curve = log_curves_[static_cast<size_t>(i)];
      size_t points = curve.log2_batch_sizes.size();
      if (i == unobserved.curve) {
        points = std::min(points, static_cast<size_t>(std::max(unobserved.kept_points, 0)));
        if (points == 0) continue;
      }
      const double curve_part = PlusShapePartSquared(
          configuration_parts[g], log2_input - curve.log2_input, log2_output - curve.log2_output);
      if (same) {
        ++configuration_curve_count;
        configuration_curves_near += curve_part <= 1;
      }
      bool improved = false;
      for (size_t b = 0; b < batch_sizes.size(); ++b) {
        if (curve_part >= best[b] && (!same || curve_part >= best_same[b])) continue;
        double batch_part = infinity;
        for (size_t p = 0; p < points; ++p) {
          batch_part =
              std::min(batch_part, BatchPartSquared(log2_batches[b] - curve.log2_batch_sizes[p]));
        }
        const double distance = curve_part + batch_part;
        if (distance < best[b]) {
          best[b] = distance;
          improved = true;
        }
        if (same) best_same[b] = std::min(best_same[b], distance);
      }
      if (improved) worst_best = *std::max_element(best.begin(), best.end());
    }
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t g = 0; g < groups_.size(); ++g) {
      if ((mismatch_counts[g] <= 1) == (pass == 0)) visit(g);
    }
  }

  std::vector<Neighbourhood> out(batch_sizes.size());
  for (size_t b = 0; b < batch_sizes.size(); ++b) {
    out[b].configuration_curve_count = configuration_curve_count;
    out[b].configuration_curves_near = configuration_curves_near;
    if (std::isfinite(best[b])) out[b].nearest_point_distance = std::sqrt(best[b]);
    if (std::isfinite(best_same[b])) {
      out[b].nearest_same_configuration_distance = std::sqrt(best_same[b]);
    }
  }
  return out;
}

std::vector<NeighborCurve> WorkloadSimilarity::NearestCurves(const Configuration& configuration,
                                                             const Shape& shape, int count) const {
  const double log2_input = std::log2(shape.input_tokens);
  const double log2_output = std::log2(shape.output_tokens);
  const double log2_gpus = std::log2(configuration.num_gpus);
  const CategoryCodes codes = CodesOf(configuration);
  std::vector<NeighborCurve> neighbors;
  neighbors.reserve(anchors_.size());
  for (size_t i = 0; i < anchors_.size(); ++i) {
    const Curve& curve = anchors_[i].curve();
    neighbors.push_back(
        {curve.configuration, curve.shape,
         std::sqrt(CurveDistanceSquared(codes, log2_gpus, log2_input, log2_output, i))});
  }
  const int keep = std::clamp<int>(count, 0, static_cast<int>(neighbors.size()));
  std::partial_sort(neighbors.begin(), neighbors.begin() + keep, neighbors.end(),
                    [](const NeighborCurve& a, const NeighborCurve& b) {
                      return std::tie(a.distance, a.configuration, a.shape) <
                             std::tie(b.distance, b.configuration, b.shape);
                    });
  neighbors.resize(keep);
  return neighbors;
}

}  // namespace perfcast
