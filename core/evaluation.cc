#include "core/evaluation.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace perfcast {
namespace {

double Percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const double position = fraction * (values.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (position - below) * (values[above] - values[below]);
}

std::string JsonNumber(std::optional<double> value) {
  if (!value.has_value() || !std::isfinite(*value)) return "null";
  return absl::StrFormat("%.6g", *value);
}

// Every fold's predictions by one method; folds run on `parallel_folds` threads, results land
// in fold order so the figures do not depend on scheduling.
absl::StatusOr<std::vector<std::vector<MethodPrediction>>> PredictAllFolds(
    Protocol protocol, absl::Span<const Fold> folds, const EvaluationMethod& method,
    const EvaluationOptions& options) {
  std::vector<absl::StatusOr<std::vector<MethodPrediction>>> per_fold(
      folds.size(), absl::UnknownError("fold not run"));
  std::atomic<size_t> next_fold{0};
  std::atomic<bool> failed{false};
  absl::Mutex progress_mutex;
  int folds_done = 0;
  auto work = [&] {
    for (size_t f = next_fold++; f < folds.size() && !failed; f = next_fold++) {
      per_fold[f] = method.TrainAndPredict(folds[f], options.confidence_level);
      if (!per_fold[f].ok()) failed = true;
      absl::MutexLock lock(&progress_mutex);
      ++folds_done;
      if (options.progress) {
        options.progress(ProtocolName(protocol), method.name(), folds_done,
                         static_cast<int>(folds.size()));
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < options.parallel_folds; ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();

  std::vector<std::vector<MethodPrediction>> out;
  for (size_t f = 0; f < folds.size(); ++f) {
    if (!per_fold[f].ok()) {
      return absl::Status(per_fold[f].status().code(),
                          absl::StrCat(method.name(), " on ", ProtocolName(protocol), " fold ", f,
                                       ": ", per_fold[f].status().message()));
    }
    out.push_back(*std::move(per_fold[f]));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<EvaluationFigures>> Evaluate(
    Protocol protocol, absl::Span<const Curve> curves,
    absl::Span<const std::unique_ptr<EvaluationMethod>> methods, const EvaluationOptions& options) {
  const std::vector<Fold> folds = MakeFolds(protocol, curves, options.seed);
  std::vector<EvaluationFigures> results;
  for (const auto& method : methods) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<std::vector<MethodPrediction>>> predictions =
        PredictAllFolds(protocol, folds, *method, options);
    if (!predictions.ok()) return predictions.status();
    std::vector<double> ape, width;
    int declined = 0, inside = 0, with_interval = 0;
    for (size_t f = 0; f < folds.size(); ++f) {
      for (size_t i = 0; i < (*predictions)[f].size(); ++i) {
        const MethodPrediction& p = (*predictions)[f][i];
        const double truth = folds[f].held_out[i].throughput_tokens_per_s;
        if (!p.throughput_tokens_per_s.has_value() || !std::isfinite(*p.throughput_tokens_per_s)) {
          ++declined;
          continue;
        }
        ape.push_back(std::abs(*p.throughput_tokens_per_s - truth) / truth * 100);
        if (p.lower_tokens_per_s.has_value() && p.upper_tokens_per_s.has_value()) {
          ++with_interval;
          inside += truth >= *p.lower_tokens_per_s && truth <= *p.upper_tokens_per_s;
          width.push_back((*p.upper_tokens_per_s - *p.lower_tokens_per_s) / truth);
        }
      }
    }
    EvaluationFigures figures;
    figures.protocol = std::string(ProtocolName(protocol));
    figures.method = std::string(method->name());
    figures.points = static_cast<int>(ape.size());
    figures.declined = declined;
    figures.median_ape = Percentile(ape, 0.5);
    figures.p90_ape = Percentile(ape, 0.9);
    if (with_interval > 0) {
      figures.coverage = static_cast<double>(inside) / with_interval;
      figures.median_width = Percentile(width, 0.5);
    }
    figures.confidence_level = options.confidence_level;
    figures.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    results.push_back(std::move(figures));
  }
  return results;
}

std::string FiguresTable(absl::Span<const EvaluationFigures> figures) {
  std::string out = absl::StrFormat("%-13s %-15s %7s %8s %10s %8s %9s %12s %8s\n", "protocol",
                                    "method", "points", "declined", "median_ape", "p90_ape",
                                    "coverage", "median_width", "seconds");
  for (const EvaluationFigures& f : figures) {
    auto optional_percent = [](std::optional<double> value) {
      return value.has_value() ? absl::StrFormat("%.1f%%", *value * 100) : std::string("-");
    };
    out += absl::StrFormat("%-13s %-15s %7d %8d %9.2f%% %7.2f%% %9s %12s %8.1f\n", f.protocol,
                           f.method, f.points, f.declined, f.median_ape, f.p90_ape,
                           optional_percent(f.coverage), optional_percent(f.median_width),
                           f.seconds);
  }
  return out;
}

std::string FiguresJsonLines(absl::Span<const EvaluationFigures> figures) {
  std::string out;
  for (const EvaluationFigures& f : figures) {
    absl::StrAppend(&out, "{\"protocol\":\"", f.protocol, "\",\"method\":\"", f.method,
                    "\",\"points\":", f.points, ",\"declined\":", f.declined,
                    ",\"median_ape\":", JsonNumber(f.median_ape),
                    ",\"p90_ape\":", JsonNumber(f.p90_ape), ",\"coverage\":", JsonNumber(f.coverage),
                    ",\"median_width\":", JsonNumber(f.median_width),
                    ",\"confidence_level\":", JsonNumber(f.confidence_level),
                    ",\"seconds\":", JsonNumber(f.seconds), "}\n");
  }
  return out;
}

}  // namespace perfcast
