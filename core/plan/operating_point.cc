#include "core/plan/operating_point.h"

#include <cmath>
#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perfcast {
namespace {

double ThroughputOf(const PointPrediction& p, Judgement judgement) {
  switch (judgement) {
    case Judgement::kPessimisticBound:
      return p.lower_tokens_per_s;
    case Judgement::kPointEstimate:
      return p.throughput_tokens_per_s;
  }
  return p.throughput_tokens_per_s;
}

double TtftOf(const PointPrediction& p, Judgement judgement) {
  switch (judgement) {
    case Judgement::kPessimisticBound:
      return p.ttft_upper_s;
    case Judgement::kPointEstimate:
      return p.ttft_s;
  }
  return p.ttft_s;
}

double ItlOf(const PointPrediction& p, Judgement judgement) {
  switch (judgement) {
    case Judgement::kPessimisticBound:
      return p.itl_upper_s;
    case Judgement::kPointEstimate:
      return p.itl_s;
  }
  return p.itl_s;
}

std::string ShapeText(const Shape& shape) {
  return absl::StrCat(shape.input_tokens, "/", shape.output_tokens, " tokens");
}

// The latencies of batch index `j` over the mix (the worst shape of each), or the first
// objective it misses; that miss's detail only where `describe_miss` asks for it (a choice keeps
// the first miss's words and reads many more misses).
struct Latencies {
  std::optional<double> ttft_s;
  std::optional<double> itl_s;
  double batch_latency_s = 0;
  std::optional<Rejection> missed;
};

Latencies LatenciesAt(const CandidateCurves& curves, size_t j, const LatencyObjectives& objectives,
                      Judgement judgement, absl::string_view bound_label, bool describe_miss) {
  Latencies out;
  bool every_shape_has_latency = true;
  for (size_t i = 0; i < curves.shapes.size(); ++i) {
    const PointPrediction& p = curves.points[i][j];
    const Shape& shape = curves.shapes[i].shape;
    const double batch_latency =
        static_cast<double>(shape.output_tokens) * p.batch_size / ThroughputOf(p, judgement);
    out.batch_latency_s = std::max(out.batch_latency_s, batch_latency);
    if (p.latency_statistic == LatencyStatistic::kUnavailable) {
      every_shape_has_latency = false;
    } else {
      out.ttft_s = std::max(out.ttft_s.value_or(0), TtftOf(p, judgement));
      out.itl_s = std::max(out.itl_s.value_or(0), ItlOf(p, judgement));
    }
    if (out.missed) continue;
    // A miss, in words only where they are asked for: what was missed, where, and a note.
    const auto miss = [&](CandidateRejection reason, absl::FunctionRef<std::string()> what,
                          absl::string_view note = "") {
      out.missed = Rejection{reason, {}};
      if (describe_miss) {
        out.missed->detail =
            absl::StrCat(what(), " at batch ", p.batch_size, ", ", ShapeText(shape), note);
      }
    };
    if ((objectives.ttft_s || objectives.itl_s) &&
        p.latency_statistic == LatencyStatistic::kUnavailable) {
      miss(
          CandidateRejection::kNoLatencyPrediction,
          [] { return std::string("no TTFT or ITL prediction"); },
          " (the model learned no latencies, or none for this situation)");
    } else if (objectives.ttft_s && TtftOf(p, judgement) > *objectives.ttft_s) {
      miss(CandidateRejection::kMissesTtft, [&] {
        return absl::StrFormat("TTFT %s %.4g s > objective %.4g s", bound_label,
                               TtftOf(p, judgement), *objectives.ttft_s);
      });
    } else if (objectives.itl_s && ItlOf(p, judgement) > *objectives.itl_s) {
      miss(CandidateRejection::kMissesItl, [&] {
        return absl::StrFormat("ITL %s %.4g s > objective %.4g s", bound_label, ItlOf(p, judgement),
                               *objectives.itl_s);
      });
    } else if (objectives.batch_latency_s && batch_latency > *objectives.batch_latency_s) {
      miss(CandidateRejection::kMissesBatchLatency, [&] {
        return absl::StrFormat("batch latency %s %.4g s > objective %.4g s", bound_label,
                               batch_latency, *objectives.batch_latency_s);
      });
    }
  }
  if (!every_shape_has_latency) out.ttft_s = out.itl_s = std::nullopt;
  return out;
}

}  // namespace

double MixTokensPerSecond(const CandidateCurves& curves, size_t j, Judgement judgement) {
  // Of every request-weighted output token, shape i's take w_i o_i / throughput_i seconds.
  double tokens = 0;
  double seconds = 0;
  for (size_t i = 0; i < curves.shapes.size(); ++i) {
    const double throughput = ThroughputOf(curves.points[i][j], judgement);
    if (!(throughput > 0)) return 0;
    const double weighted_tokens = curves.shapes[i].weight * curves.shapes[i].shape.output_tokens;
    tokens += weighted_tokens;
    seconds += weighted_tokens / throughput;
  }
  return seconds > 0 ? tokens / seconds : 0;
}

std::variant<OperatingPoint, Rejection> ChooseOperatingPoint(CandidateCurves& curves,
                                                             const LatencyObjectives& objectives,
                                                             double demand_tokens_per_s,
                                                             Judgement judgement,
                                                             absl::string_view bound_label) {
  const size_t batch_count = curves.points.front().size();
  const bool latency_objectives = objectives.NeedsLatencies();
  // A point completed once carries its latencies, or none the model can give, which a second
  // completion gives again.
  const auto complete = [&curves](size_t j) {
    if (!curves.complete_latencies) return;
    for (size_t i = 0; i < curves.points.size(); ++i) {
      PointPrediction& point = curves.points[i][j];
      if (point.latency_statistic == LatencyStatistic::kUnavailable) {
        curves.complete_latencies(i, point);
      }
    }
  };
  std::optional<OperatingPoint> best;
  size_t best_j = 0;
  std::optional<Rejection> first_miss;       // at the smallest batch that fits
  std::optional<std::string> memory_reason;  // at the smallest batch
  for (size_t j = 0; j < batch_count; ++j) {
    bool fits = true;
    for (size_t i = 0; i < curves.points.size() && fits; ++i) {
      const PointPrediction& p = curves.points[i][j];
      if (p.memory.verdict == MemoryVerdict::kDoesNotFit) {
        fits = false;
        if (!memory_reason) memory_reason = p.memory.reason;
      } else if (p.memory.largest_fitting_batch_size > 0 &&
                 p.batch_size > p.memory.largest_fitting_batch_size) {
        // Its sequences run in waves: no more at once than the largest resident batch, whatever
        // a curve extrapolated past it says.
        fits = false;
        if (!memory_reason) {
          memory_reason = absl::StrFormat(
              "at most %d sequences of %s are resident at once; batch %d would run in waves",
              p.memory.largest_fitting_batch_size, ShapeText(curves.shapes[i].shape), p.batch_size);
        }
      }
    }
    if (!fits) continue;
    const double capacity = MixTokensPerSecond(curves, j, judgement);
    if (!(capacity > 0)) continue;
    // At least one replica, whatever a vanishing demand rounds to.
    const double needed = std::max(1.0, std::ceil(demand_tokens_per_s / capacity));
    const bool too_many = !(needed <= static_cast<double>(kMaxPlanReplicas));
    // A batch that cannot displace the best so far (the smallest batch with the fewest replicas)
    // changes nothing, and once there is a best, neither does a first miss: no latency to read.
    if (best && (too_many || best->replicas <= static_cast<int64_t>(needed))) continue;
    if (too_many && first_miss) continue;
    if (latency_objectives) complete(j);
    Latencies latencies =
        LatenciesAt(curves, j, objectives, judgement, bound_label, /*describe_miss=*/!first_miss);
    if (latencies.missed) {
      if (!first_miss) first_miss = std::move(latencies.missed);
      continue;
    }
    if (too_many) {
      if (!first_miss) {
        first_miss = Rejection{
            CandidateRejection::kTooManyReplicas,
            absl::StrFormat("%.4g tokens/s per replica at batch %d: more than %d replicas",
                            capacity, curves.points.front()[j].batch_size, kMaxPlanReplicas)};
      }
      continue;
    }
    const auto replicas = static_cast<int64_t>(needed);
    best = OperatingPoint{
        curves.points.front()[j].batch_size, replicas, capacity, latencies.ttft_s, latencies.itl_s,
        latencies.batch_latency_s,           0};
    best_j = j;
  }
  if (best) {
    if (!latency_objectives) {
      // The latencies the choice did not need, for the figures of the point chosen.
      complete(best_j);
      const Latencies latencies =
          LatenciesAt(curves, best_j, objectives, judgement, bound_label, /*describe_miss=*/false);
      best->ttft_s = latencies.ttft_s;
      best->itl_s = latencies.itl_s;
    }
    return *best;
  }
  if (first_miss) return *first_miss;
  return Rejection{CandidateRejection::kDoesNotFit,
                   memory_reason.value_or("no operating point has a throughput")};
}

std::variant<OperatingPoint, Rejection> ChooseOperatingPoint(const CandidateCurves& curves,
                                                             const LatencyObjectives& objectives,
                                                             double demand_tokens_per_s,
                                                             Judgement judgement,
                                                             absl::string_view bound_label) {
  CandidateCurves copy = curves;
  return ChooseOperatingPoint(copy, objectives, demand_tokens_per_s, judgement, bound_label);
}

}  // namespace perfcast
