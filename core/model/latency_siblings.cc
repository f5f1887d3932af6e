#include "core/model/latency_siblings.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

// How much each shared field says of a TTFT, in the order a prefill's cost depends on them: the
// model (its size), the GPU, the serving stack, then the GPU count and the precision.
constexpr int kModelWeight = 4;
constexpr int kHardwareWeight = 3;
constexpr int kFrameworkWeight = 2;
constexpr int kGpuCountWeight = 1;
constexpr int kPrecisionWeight = 1;

// The weights of the fields in the order LatencySiblings::Names holds them.
constexpr std::array<int, 4> kNameWeights = {kModelWeight, kHardwareWeight, kFrameworkWeight,
                                             kPrecisionWeight};

std::array<const std::string*, 4> NameFields(const Configuration& c) {
  return {&c.model, &c.hardware, &c.framework, &c.precision};
}

// Two GPU-count distances (differences of log2 counts) closer than this are one: 6 and 24 are as
// far from 12 as 5 and 20 from 10, which rounded logarithms may tell apart in the last bit.
constexpr double kSameGpuCountDistance = 1e-9;

// Far above any campaign's configurations, curves or points: a count past it is a corrupt file,
// refused before it is read as a length.
constexpr uint32_t kMaxEntries = 10000000;

}  // namespace

LatencySiblings LatencySiblings::Build(absl::Span<const LatencySample> samples) {
  std::map<std::pair<Configuration, Shape>, std::vector<const LatencySample*>> grouped;
  for (const LatencySample& s : samples) {
    if (s.batch_size < 1 || !std::isfinite(s.log_share)) {
      continue;
    }
    grouped[{s.configuration, s.shape}].push_back(&s);
  }
  LatencySiblings siblings;
  for (auto& [key, points] : grouped) {
    std::stable_sort(points.begin(), points.end(),
                     [](const LatencySample* a, const LatencySample* b) {
                       return a->batch_size < b->batch_size;
                     });
    if (siblings.configurations_.empty() ||
        siblings.configurations_.back().configuration != key.first) {
      siblings.configurations_.push_back({key.first, {}});
    }
    Curve curve;
    curve.shape = key.second;
    for (const LatencySample* p : points) {
      // Repeated batches: the first one read stands.
      if (!curve.log2_batches.empty() && curve.log2_batches.back() == std::log2(p->batch_size)) {
        continue;
      }
      curve.log2_batches.push_back(std::log2(p->batch_size));
      curve.log_shares.push_back(p->log_share);
    }
    siblings.configurations_.back().curves.push_back(static_cast<int>(siblings.curves_.size()));
    siblings.curves_.push_back(std::move(curve));
  }
  siblings.BuildIndex();
  return siblings;
}

void LatencySiblings::BuildIndex() {
  campaign_ids_.clear();
  name_ids_.clear();
  candidates_.clear();
  for (size_t e = 0; e < configurations_.size(); ++e) {
    const Configuration& configuration = configurations_[e].configuration;
    const int campaign =
        campaign_ids_.try_emplace(configuration.campaign, static_cast<int>(campaign_ids_.size()))
            .first->second;
    for (const std::string* name : NameFields(configuration)) {
      name_ids_.try_emplace(*name, static_cast<int>(name_ids_.size()));
    }
    const Names names = NamesOf(configuration);
    for (int c : configurations_[e].curves) {
      const Shape& shape = curves_[c].shape;
      candidates_[{campaign, static_cast<int>(configuration.batch_semantics), shape.input_tokens,
                   shape.output_tokens}]
          .push_back({names, c});
    }
  }
}

LatencySiblings::Names LatencySiblings::NamesOf(const Configuration& configuration) const {
  Names names;
  const std::array<const std::string*, 4> fields = NameFields(configuration);
  for (size_t f = 0; f < fields.size(); ++f) {
    const auto id = name_ids_.find(*fields[f]);
    names.ids[f] = id == name_ids_.end() ? -1 : id->second;
  }
  names.num_gpus = configuration.num_gpus;
  names.log2_gpus = std::log2(std::max(1, configuration.num_gpus));
  return names;
}

LatencySiblings::SiblingCurves LatencySiblings::FindCurves(const Configuration& configuration,
                                                           const Shape& shape, Rule rule) const {
  SiblingCurves found;
  const int count = rule == Rule::kNearestAlone ? 1 : kMaxSiblingsRead;
  const auto campaign = campaign_ids_.find(configuration.campaign);
  if (campaign == campaign_ids_.end()) return found;
  const auto measured =
      candidates_.find({campaign->second, static_cast<int>(configuration.batch_semantics),
                        shape.input_tokens, shape.output_tokens});
  if (measured == candidates_.end()) return found;
  const Names query = NamesOf(configuration);
  // The siblings kept so far, most similar first. A rank: the weighted count of shared fields;
  // under kSamePrecisionFirst whether it is one field apart and of the query's precision; the
  // nearer GPU count. The first in order wins a tie.
  struct Kept {
    std::tuple<int, bool, double> rank;
    bool one_field_apart = false;  // SiblingCurves::one_field_apart
    int curve = 0;
  };
  std::array<Kept, kMaxSiblingsRead> kept{};
  int kept_count = 0;
  for (const Candidate& candidate : measured->second) {
    // Of the query's campaign and axis already: the same names are the configuration itself.
    if (candidate.names.ids == query.ids && candidate.names.num_gpus == query.num_gpus) continue;
    const bool same_precision = candidate.names.ids[3] == query.ids[3];
    // Not both the same GPU count and precision: that is the configuration itself.
    const bool one_field_apart = candidate.names.ids[0] == query.ids[0] &&
                                 candidate.names.ids[1] == query.ids[1] &&
                                 candidate.names.ids[2] == query.ids[2] &&
                                 (same_precision || candidate.names.num_gpus == query.num_gpus);
    int similarity = candidate.names.num_gpus == query.num_gpus ? kGpuCountWeight : 0;
    for (size_t f = 0; f < kNameWeights.size(); ++f) {
      if (candidate.names.ids[f] == query.ids[f]) similarity += kNameWeights[f];
    }
    const std::tuple<int, bool, double> rank{
        similarity, rule == Rule::kSamePrecisionFirst && one_field_apart && same_precision,
        -std::abs(candidate.names.log2_gpus - query.log2_gpus)};
    int at = kept_count;
    while (at > 0 && rank > kept[at - 1].rank) --at;
    if (at >= count) continue;
    for (int k = std::min(kept_count, count - 1); k > at; --k) kept[k] = kept[k - 1];
    kept[at] = {rank, one_field_apart, candidate.curve};
    kept_count = std::min(kept_count + 1, count);
  }
  // Only siblings as near as the nearest and of its kind: one that shares fewer of its fields
  // says less of the query than the nearest does, and would dilute it. Under kSamePrecisionFirst
  // a sibling one field apart must also match the nearest's precision kind and GPU-count distance.
  auto as_near_as_the_nearest = [&](const Kept& sibling) {
    const Kept& nearest = kept[0];
    if (std::get<0>(sibling.rank) != std::get<0>(nearest.rank) ||
        sibling.one_field_apart != nearest.one_field_apart) {
      return false;
    }
    if (rule != Rule::kSamePrecisionFirst || !nearest.one_field_apart) return true;
    return std::get<1>(sibling.rank) == std::get<1>(nearest.rank) &&
           std::abs(std::get<2>(sibling.rank) - std::get<2>(nearest.rank)) < kSameGpuCountDistance;
  };
  for (int k = 0; k < kept_count && (k == 0 || as_near_as_the_nearest(kept[k])); ++k) {
    found.curves[found.count++] = kept[k].curve;
  }
  found.one_field_apart = found.count > 0 && kept[0].one_field_apart;
  return found;
}

double LatencySiblings::LogShareOn(const SiblingCurves& siblings, int batch_size) const {
  double sum = 0;
  for (int k = 0; k < siblings.count; ++k) sum += LogShareOnCurve(siblings.curves[k], batch_size);
  return sum / siblings.count;
}

double LatencySiblings::LogShareOnCurve(int curve_index, int batch_size) const {
  const Curve& curve = curves_[curve_index];
  const std::vector<double>& xs = curve.log2_batches;
  const double x = std::log2(std::max(1, batch_size));
  if (x <= xs.front()) return curve.log_shares.front();
  if (x >= xs.back()) return curve.log_shares.back();
  const size_t upper = std::upper_bound(xs.begin(), xs.end(), x) - xs.begin();
  const double t = (x - xs[upper - 1]) / (xs[upper] - xs[upper - 1]);
  return curve.log_shares[upper - 1] + t * (curve.log_shares[upper] - curve.log_shares[upper - 1]);
}

int LatencySiblings::OwnCurve(const Configuration& configuration, const Shape& shape) const {
  const auto entry =
      std::lower_bound(configurations_.begin(), configurations_.end(), configuration,
                       [](const Entry& e, const Configuration& c) { return e.configuration < c; });
  if (entry == configurations_.end() || entry->configuration != configuration) return -1;
  for (int c : entry->curves) {
    if (curves_[c].shape == shape) return c;
  }
  return -1;
}

bool LatencySiblings::Spans(int curve_index, int batch_size) const {
  const std::vector<double>& xs = curves_[curve_index].log2_batches;
  const double x = std::log2(std::max(1, batch_size));
  return x >= xs.front() && x <= xs.back();
}

void LatencySiblings::EncodeTo(ByteWriter& writer) const {
  writer.PutU32(configurations_.size());
  for (const Entry& entry : configurations_) {
    entry.configuration.EncodeTo(writer);
    writer.PutU32(entry.curves.size());
    for (int index : entry.curves) {
      const Curve& curve = curves_[index];
      writer.PutI32(curve.shape.input_tokens);
      writer.PutI32(curve.shape.output_tokens);
      writer.PutU32(curve.log2_batches.size());
      for (size_t i = 0; i < curve.log2_batches.size(); ++i) {
        writer.PutDouble(curve.log2_batches[i]);
        writer.PutDouble(curve.log_shares[i]);
      }
    }
  }
}

absl::StatusOr<LatencySiblings> LatencySiblings::DecodeFrom(ByteReader& reader) {
  LatencySiblings siblings;
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t count, reader.GetU32());
  if (count > kMaxEntries) return absl::DataLossError("bundle: latency siblings: bad count");
  for (uint32_t e = 0; e < count; ++e) {
    Entry entry;
    PERFCAST_ASSIGN_OR_RETURN(entry.configuration, Configuration::DecodeFrom(reader));
    PERFCAST_ASSIGN_OR_RETURN(const uint32_t curve_count, reader.GetU32());
    if (curve_count > kMaxEntries) {
      return absl::DataLossError("bundle: latency siblings: bad count");
    }
    for (uint32_t k = 0; k < curve_count; ++k) {
      Curve curve;
      PERFCAST_ASSIGN_OR_RETURN(curve.shape.input_tokens, reader.GetI32());
      PERFCAST_ASSIGN_OR_RETURN(curve.shape.output_tokens, reader.GetI32());
      // As Build writes them: one curve a shape, in ascending order.
      if (!entry.curves.empty() && !(siblings.curves_.back().shape < curve.shape)) {
        return absl::DataLossError("bundle: latency siblings: shapes out of order");
      }
      PERFCAST_ASSIGN_OR_RETURN(const uint32_t points, reader.GetU32());
      if (points == 0 || points > kMaxEntries) {
        return absl::DataLossError("bundle: latency siblings: bad point count");
      }
      for (uint32_t i = 0; i < points; ++i) {
        PERFCAST_ASSIGN_OR_RETURN(const double x, reader.GetDouble());
        PERFCAST_ASSIGN_OR_RETURN(const double share, reader.GetDouble());
        if (!std::isfinite(x) || !std::isfinite(share) ||
            (!curve.log2_batches.empty() && !(x > curve.log2_batches.back()))) {
          return absl::DataLossError("bundle: latency siblings: bad or unordered batches");
        }
        curve.log2_batches.push_back(x);
        curve.log_shares.push_back(share);
      }
      entry.curves.push_back(static_cast<int>(siblings.curves_.size()));
      siblings.curves_.push_back(std::move(curve));
    }
    if (!siblings.configurations_.empty() &&
        !(siblings.configurations_.back().configuration < entry.configuration)) {
      return absl::DataLossError("bundle: latency siblings: configurations out of order");
    }
    siblings.configurations_.push_back(std::move(entry));
  }
  siblings.BuildIndex();
  return siblings;
}

}  // namespace perfcast
