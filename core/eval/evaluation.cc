#include "core/eval/evaluation.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "core/util/percentile.h"

namespace perfcast {
namespace {

// NaN for no values: a method that declined every point has no error figures.
double Percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  return PercentileOfSorted(values, fraction);
}

// Ranks from 1, ties sharing their mean rank.
std::vector<double> Ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    for (size_t i = start; i < end; ++i) ranks[order[i]] = (start + end + 1) / 2.0;
    start = end;
  }
  return ranks;
}

// Pearson correlation of the ranks; nullopt with fewer than 3 pairs or a constant side.
std::optional<double> Spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() < 3 || x.size() != y.size()) return std::nullopt;
  const std::vector<double> rx = Ranks(x), ry = Ranks(y);
  const double mean = (static_cast<double>(x.size()) + 1) / 2;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  if (sxx == 0 || syy == 0) return std::nullopt;
  return sxy / std::sqrt(sxx * syy);
}

// A campaign is free text: quotes, backslashes and control characters are escaped as JSON says.
std::string JsonEscaped(absl::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<int>(c));
    } else {
      out += c;
    }
  }
  return out;
}

std::string JsonNumber(std::optional<double> value) {
  if (!value.has_value() || !std::isfinite(*value)) return "null";
  return absl::StrFormat("%.6g", *value);
}

// One method's predictions of one fold's held-out points, and the wall time it took.
struct FoldPredictions {
  std::vector<MethodPrediction> predictions;
  double seconds = 0;
};

// Every fold's predictions by one method; folds run on `parallel_folds` threads, results land
// in fold order so the figures do not depend on scheduling.
absl::StatusOr<std::vector<FoldPredictions>> PredictAllFolds(Protocol protocol,
                                                             absl::Span<const Fold> folds,
                                                             const EvaluationMethod& method,
                                                             absl::Span<const double> levels,
                                                             const EvaluationOptions& options) {
  std::vector<absl::StatusOr<std::vector<MethodPrediction>>> per_fold(
      folds.size(), absl::UnknownError("fold not run"));
  std::vector<double> seconds(folds.size(), 0);
  std::atomic<size_t> next_fold{0};
  std::atomic<bool> failed{false};
  absl::Mutex progress_mutex;
  int folds_done = 0;
  auto work = [&] {
    for (size_t f = next_fold++; f < folds.size() && !failed; f = next_fold++) {
      const auto start = std::chrono::steady_clock::now();
      per_fold[f] = method.TrainAndPredict(folds[f], levels);
      seconds[f] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!per_fold[f].ok()) failed = true;
      absl::MutexLock lock(&progress_mutex);
      ++folds_done;
      if (options.progress) {
        options.progress(ProtocolName(protocol), method.name(), folds_done,
                         static_cast<int>(folds.size()));
      }
    }
  };
  // A report before any fold starts the clock of the progress shown.
  if (options.progress) {
    options.progress(ProtocolName(protocol), method.name(), 0, static_cast<int>(folds.size()));
  }
  std::vector<std::thread> workers;
  for (int t = 1; t < options.parallel_folds; ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();

  std::vector<FoldPredictions> out;
  for (size_t f = 0; f < folds.size(); ++f) {
    if (!per_fold[f].ok()) {
      return absl::Status(per_fold[f].status().code(),
                          absl::StrCat(method.name(), " on ", ProtocolName(protocol), " fold ", f,
                                       folds[f].campaign.has_value()
                                           ? absl::StrCat(" (campaign '", *folds[f].campaign, "')")
                                           : std::string(),
                                       ": ", per_fold[f].status().message()));
    }
    if (per_fold[f]->size() != folds[f].held_out.size()) {
      return absl::InternalError(absl::StrCat(
          method.name(), " on ", ProtocolName(protocol), " fold ", f, ": ", per_fold[f]->size(),
          " predictions for ", folds[f].held_out.size(), " held-out points"));
    }
    out.push_back({*std::move(per_fold[f]), seconds[f]});
  }
  return out;
}

// The figures of docs/EVALUATION.md §3 over the folds `fold_indices` of one method's predictions.
// `levels[0]` is the headline level.
// One held-out point's measured value of `target` and a method's prediction and intervals of
// it; nullopt truth when the record lacks the target.
struct TargetValues {
  std::optional<double> truth;
  std::optional<double> predicted;
  std::vector<std::pair<double, double>> intervals;
};

// A latency target's measured value, prediction and intervals.
TargetValues LatencyValues(const std::optional<double>& truth,
                           const std::optional<double>& predicted,
                           const std::vector<LatencyInterval>& intervals) {
  TargetValues v{truth, predicted, {}};
  for (const LatencyInterval& i : intervals) v.intervals.emplace_back(i.lower_s, i.upper_s);
  return v;
}

TargetValues ValuesOf(EvaluationTarget target, const HeldOutPoint& point,
                      const MethodPrediction& p) {
  TargetValues v;
  switch (target) {
    case EvaluationTarget::kThroughput:
      v.truth = point.throughput_tokens_per_s;
      v.predicted = p.throughput_tokens_per_s;
      for (const PredictionInterval& i : p.intervals) {
        v.intervals.emplace_back(i.lower_tokens_per_s, i.upper_tokens_per_s);
      }
      break;
    case EvaluationTarget::kTtft:
      v = LatencyValues(point.ttft_s, p.ttft_s, p.ttft_intervals);
      break;
    case EvaluationTarget::kItl:
      v = LatencyValues(point.itl_s, p.itl_s, p.itl_intervals);
      break;
    case EvaluationTarget::kP99Ttft:
      v = LatencyValues(point.p99_ttft_s, p.p99_ttft_s, p.p99_ttft_intervals);
      break;
    case EvaluationTarget::kP99Tpot:
      v = LatencyValues(point.p99_tpot_s, p.p99_tpot_s, p.p99_tpot_intervals);
      break;
  }
  if (v.truth.has_value() && !(*v.truth > 0)) v.truth.reset();
  return v;
}

// The figures of docs/EVALUATION.md §3 over the folds `fold_indices` of one method's predictions
// of `target`. `levels[0]` is the headline level.
EvaluationFigures Summarize(absl::Span<const Fold> folds,
                            absl::Span<const FoldPredictions> predictions,
                            absl::Span<const size_t> fold_indices, absl::Span<const double> levels,
                            const EvaluationOptions& options,
                            EvaluationTarget target = EvaluationTarget::kThroughput) {
  std::vector<double> ape, expected_error, ape_with_expected;
  std::vector<std::vector<double>> widths(levels.size());
  std::vector<int> inside(levels.size(), 0);
  int declined = 0, with_interval = 0;
  for (size_t f : fold_indices) {
    for (size_t i = 0; i < predictions[f].predictions.size(); ++i) {
      const MethodPrediction& p = predictions[f].predictions[i];
      const TargetValues values = ValuesOf(target, folds[f].held_out[i], p);
      if (!values.truth.has_value()) continue;
      const double truth = *values.truth;
      if (!values.predicted.has_value() || !std::isfinite(*values.predicted)) {
        ++declined;
        continue;
      }
      ape.push_back(std::abs(*values.predicted - truth) / truth * 100);
      // The expected error is the throughput's.
      if (p.expected_relative_error.has_value() && target == EvaluationTarget::kThroughput) {
        expected_error.push_back(*p.expected_relative_error);
        ape_with_expected.push_back(ape.back());
      }
      if (values.intervals.size() == levels.size()) {
        ++with_interval;
        for (size_t l = 0; l < levels.size(); ++l) {
          const auto [lower, upper] = values.intervals[l];
          inside[l] += truth >= lower && truth <= upper;
          widths[l].push_back((upper - lower) / truth);
        }
      }
    }
  }
  EvaluationFigures figures;
  figures.points = static_cast<int>(ape.size());
  figures.declined = declined;
  figures.median_ape = Percentile(ape, 0.5);
  figures.p90_ape = Percentile(ape, 0.9);
  if (with_interval > 0) {
    for (size_t l = 0; l < levels.size(); ++l) {
      figures.reliability.push_back(
          {levels[l], static_cast<double>(inside[l]) / with_interval, Percentile(widths[l], 0.5)});
    }
    // levels[0] is the requested confidence level.
    figures.coverage = figures.reliability.front().coverage;
    figures.median_width = figures.reliability.front().median_width;
    std::sort(figures.reliability.begin(), figures.reliability.end(),
              [](const LevelCoverage& a, const LevelCoverage& b) {
                return a.confidence_level < b.confidence_level;
              });
  }
  figures.error_rank_correlation = Spearman(expected_error, ape_with_expected);
  figures.target = target;
  figures.confidence_level = options.confidence_level;
  for (size_t f : fold_indices) figures.seconds += predictions[f].seconds;
  return figures;
}

// A share as the table prints it: 0, 0.1, 0.3.
std::string ShotsText(double shots) { return absl::StrFormat("%.3g", shots); }

}  // namespace

absl::string_view EvaluationTargetName(EvaluationTarget target) {
  switch (target) {
    case EvaluationTarget::kThroughput:
      return "throughput";
    case EvaluationTarget::kTtft:
      return "ttft";
    case EvaluationTarget::kItl:
      return "itl";
    case EvaluationTarget::kP99Ttft:
      return "p99_ttft";
    case EvaluationTarget::kP99Tpot:
      return "p99_tpot";
  }
  return "throughput";
}

absl::StatusOr<std::vector<EvaluationFigures>> Evaluate(
    Protocol protocol, absl::Span<const Curve> curves,
    absl::Span<const std::unique_ptr<EvaluationMethod>> methods, const EvaluationOptions& options) {
  const bool by_campaign = protocol == Protocol::kNewCampaign;
  if (by_campaign) {
    if (!(options.shots >= 0 && options.shots < 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("shots=", options.shots, ": must be in [0, 1)"));
    }
    if (absl::Status applies = CheckNewCampaignApplies(curves); !applies.ok()) return applies;
  }
  const std::vector<Fold> folds =
      MakeFolds(protocol, curves, options.seed, options.shots, options.catalogue);
  // The headline level first, then the others ascending.
  std::vector<double> levels = {options.confidence_level};
  for (double level : options.reliability_levels) {
    if (level != options.confidence_level) levels.push_back(level);
  }
  std::sort(levels.begin() + 1, levels.end());
  levels.erase(std::unique(levels.begin() + 1, levels.end()), levels.end());
  std::vector<size_t> every_fold(folds.size());
  for (size_t f = 0; f < folds.size(); ++f) every_fold[f] = f;
  std::vector<EvaluationFigures> results;
  for (const auto& method : methods) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<FoldPredictions>> predictions =
        PredictAllFolds(protocol, folds, *method, levels, options);
    if (!predictions.ok()) return predictions.status();
    if (options.on_point) {
      for (size_t f = 0; f < folds.size(); ++f) {
        for (size_t i = 0; i < folds[f].held_out.size(); ++i) {
          options.on_point(ProtocolName(protocol), method->name(), folds[f], folds[f].held_out[i],
                           (*predictions)[f].predictions[i]);
        }
      }
    }
    auto labelled = [&](EvaluationFigures figures, std::optional<std::string> campaign) {
      figures.protocol = std::string(ProtocolName(protocol));
      figures.method = std::string(method->name());
      figures.campaign = std::move(campaign);
      if (by_campaign) figures.shots = options.shots;
      return figures;
    };
    if (by_campaign) {
      // MakeFolds gives one fold per campaign, in name order.
      for (size_t f = 0; f < folds.size(); ++f) {
        const size_t only[] = {f};
        results.push_back(
            labelled(Summarize(folds, *predictions, only, levels, options), folds[f].campaign));
      }
    }
    EvaluationFigures overall =
        labelled(Summarize(folds, *predictions, every_fold, levels, options),
                 by_campaign ? std::optional<std::string>(kAllCampaigns) : std::nullopt);
    overall.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double method_seconds = overall.seconds;
    results.push_back(std::move(overall));
    // The latency targets, where the held-out data measured them and the method predicted them.
    for (EvaluationTarget target : {EvaluationTarget::kTtft, EvaluationTarget::kItl,
                                    EvaluationTarget::kP99Ttft, EvaluationTarget::kP99Tpot}) {
      bool predicted = false;
      for (size_t f = 0; f < folds.size() && !predicted; ++f) {
        for (size_t i = 0; i < folds[f].held_out.size() && !predicted; ++i) {
          const TargetValues values =
              ValuesOf(target, folds[f].held_out[i], (*predictions)[f].predictions[i]);
          predicted = values.truth.has_value() && values.predicted.has_value();
        }
      }
      if (!predicted) continue;
      if (by_campaign) {
        for (size_t f = 0; f < folds.size(); ++f) {
          const size_t only[] = {f};
          EvaluationFigures figures = Summarize(folds, *predictions, only, levels, options, target);
          if (figures.points + figures.declined == 0) continue;
          results.push_back(labelled(std::move(figures), folds[f].campaign));
        }
      }
      EvaluationFigures figures =
          labelled(Summarize(folds, *predictions, every_fold, levels, options, target),
                   by_campaign ? std::optional<std::string>(kAllCampaigns) : std::nullopt);
      figures.seconds = method_seconds;
      results.push_back(std::move(figures));
    }
  }
  return results;
}

std::string FiguresTable(absl::Span<const EvaluationFigures> figures) {
  auto optional_percent = [](std::optional<double> value) {
    return value.has_value() ? absl::StrFormat("%.1f%%", *value * 100) : std::string("-");
  };
  // A method that declined every point has no error figures: "-", not "nan%".
  auto ape_percent = [](double value) {
    return std::isfinite(value) ? absl::StrFormat("%.2f%%", value) : std::string("-");
  };
  // new-campaign's figures carry a campaign and shots: two more columns, as wide as the longest
  // campaign name. The other protocols' tables keep their layout.
  size_t campaign_width = 0;
  for (const EvaluationFigures& f : figures) {
    if (f.campaign.has_value()) {
      campaign_width = std::max({campaign_width, f.campaign->size(), sizeof("campaign") - 1});
    }
  }
  auto campaign_columns = [&](absl::string_view campaign, absl::string_view shots) {
    if (campaign_width == 0) return std::string();
    return absl::StrFormat(" %-*s %5s", static_cast<int>(campaign_width), campaign, shots);
  };
  auto campaign_of = [&](const EvaluationFigures& f) {
    return campaign_columns(f.campaign.value_or("-"),
                            f.shots.has_value() ? ShotsText(*f.shots) : std::string("-"));
  };
  std::string out = absl::StrFormat("%-13s %-15s%s %7s %8s %10s %8s %9s %12s %8s %8s %-10s\n",
                                    "protocol", "method", campaign_columns("campaign", "shots"),
                                    "points", "declined", "median_ape", "p90_ape", "coverage",
                                    "median_width", "spearman", "seconds", "target");
  bool any_reliability = false;
  for (const EvaluationFigures& f : figures) {
    out += absl::StrFormat(
        "%-13s %-15s%s %7d %8d %10s %8s %9s %12s %8s %8.1f %-10s\n", f.protocol, f.method,
        campaign_of(f), f.points, f.declined, ape_percent(f.median_ape), ape_percent(f.p90_ape),
        optional_percent(f.coverage), optional_percent(f.median_width),
        f.error_rank_correlation.has_value() ? absl::StrFormat("%.3f", *f.error_rank_correlation)
                                             : std::string("n/a"),
        f.seconds, EvaluationTargetName(f.target));
    any_reliability = any_reliability || f.reliability.size() > 1;
  }
  if (!any_reliability) return out;
  out += absl::StrFormat(
      "\nreliability: nominal vs observed coverage\n%-13s %-15s%s %8s %9s %12s %-10s\n", "protocol",
      "method", campaign_columns("campaign", "shots"), "nominal", "observed", "median_width",
      "target");
  for (const EvaluationFigures& f : figures) {
    for (const LevelCoverage& level : f.reliability) {
      out += absl::StrFormat("%-13s %-15s%s %7.1f%% %8.1f%% %11.1f%% %-10s\n", f.protocol, f.method,
                             campaign_of(f), level.confidence_level * 100, level.coverage * 100,
                             level.median_width * 100, EvaluationTargetName(f.target));
    }
  }
  return out;
}

std::string FiguresJsonLines(absl::Span<const EvaluationFigures> figures) {
  std::string out;
  for (const EvaluationFigures& f : figures) {
    absl::StrAppend(&out, "{\"protocol\":\"", JsonEscaped(f.protocol), "\",\"method\":\"",
                    JsonEscaped(f.method), "\"");
    if (f.campaign.has_value()) {
      absl::StrAppend(&out, ",\"campaign\":\"", JsonEscaped(*f.campaign), "\"");
    }
    if (f.shots.has_value()) absl::StrAppend(&out, ",\"shots\":", JsonNumber(f.shots));
    absl::StrAppend(
        &out, ",\"points\":", f.points, ",\"declined\":", f.declined,
        ",\"median_ape\":", JsonNumber(f.median_ape), ",\"p90_ape\":", JsonNumber(f.p90_ape),
        ",\"coverage\":", JsonNumber(f.coverage), ",\"median_width\":", JsonNumber(f.median_width),
        ",\"confidence_level\":", JsonNumber(f.confidence_level),
        ",\"spearman\":", JsonNumber(f.error_rank_correlation), ",\"levels\":[");
    for (size_t l = 0; l < f.reliability.size(); ++l) {
      const LevelCoverage& level = f.reliability[l];
      absl::StrAppend(&out, l == 0 ? "" : ",",
                      "{\"confidence_level\":", JsonNumber(level.confidence_level),
                      ",\"coverage\":", JsonNumber(level.coverage),
                      ",\"median_width\":", JsonNumber(level.median_width), "}");
    }
    absl::StrAppend(&out, "],\"seconds\":", JsonNumber(f.seconds), ",\"target\":\"",
                    EvaluationTargetName(f.target), "\"}\n");
  }
  return out;
}

}  // namespace perfcast
