#include "clients/remote/plan_printer.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/convert/plan_conversion.h"
#include "proto/convert/prediction_conversion.h"

namespace perfcast {
namespace {

std::string Seconds(bool has, double value) {
  return has ? absl::StrFormat("%.3g", value) : std::string("-");
}

std::string Dollars(double value) { return absl::StrFormat("%.2f", value); }

std::string RejectionName(v1::CandidateRejection reason) {
  std::string name = v1::CandidateRejection_Name(reason);
  constexpr absl::string_view kPrefix = "CANDIDATE_REJECTION_";
  if (absl::StartsWith(name, kPrefix)) name = name.substr(kPrefix.size());
  return absl::AsciiStrToLower(name);
}

}  // namespace

std::string FormatPlanTable(const v1::PlanResponse& response) {
  std::string out = absl::StrFormat(
      "demand %.6g output tokens/s; capacity is the lower bound and latencies the upper bounds "
      "at %g%% confidence; model version %d\n",
      response.demand_output_tokens_per_second(), 100 * response.confidence(),
      response.model_version());
  if (response.options_size() == 0) {
    absl::StrAppend(&out, "no candidate meets the objectives (", response.total_options(),
                    " options)\n");
  } else {
    absl::StrAppend(
        &out, absl::StrFormat("%-4s %-24s %4s %-12s %-9s %6s %8s %11s %11s %8s %8s %9s %10s %8s  "
                              "%s\n",
                              "rank", "hardware", "gpus", "framework", "precision", "batch",
                              "replicas", "tok/s/rep", "predicted", "ttft_s", "itl_s", "$/hour",
                              "$/Mtok", "point $/h", "case"));
  }
  for (int i = 0; i < response.options_size(); ++i) {
    const v1::PlanOption& o = response.options(i);
    const v1::OperatingPoint& p = o.planned();
    const v1::Configuration& c = o.configuration();
    const std::string point_cost =
        o.has_point_estimate()
            ? absl::StrFormat("%s@%d", Dollars(o.point_estimate().cost_per_hour()),
                              o.point_estimate().batch_size())
            : std::string("-");
    absl::StrAppend(
        &out, absl::StrFormat(
                  "%-4d %-24s %4d %-12s %-9s %6d %8d %11.1f %11.1f %8s %8s %9s %10s %8s  "
                  "%s\n",
                  i + 1, c.hardware(), c.gpu_count(), c.framework(), c.precision(), p.batch_size(),
                  p.replicas(), p.tokens_per_second_per_replica(),
                  o.predicted_tokens_per_second_per_replica(),
                  Seconds(p.has_ttft_seconds(), p.ttft_seconds()),
                  Seconds(p.has_itl_seconds(), p.itl_seconds()),
                  o.has_usd_per_gpu_hour() ? Dollars(p.cost_per_hour()) : "-",
                  o.has_usd_per_gpu_hour() ? Dollars(o.cost_per_million_output_tokens()) : "-",
                  point_cost, PredictionCaseApiName(o.prediction_case())));
  }
  if (response.total_options() > response.options_size()) {
    absl::StrAppend(&out, response.total_options() - response.options_size(),
                    " more options not shown",
                    response.next_page_token().empty()
                        ? std::string(" (raise --limit)")
                        : absl::StrCat(" (--page-token ", response.next_page_token(), ")"),
                    "\n");
  }
  if (response.has_cheapest_point_estimate()) {
    const v1::PlanOption& cheapest = response.cheapest_point_estimate();
    const v1::Configuration& c = cheapest.configuration();
    absl::StrAppend(
        &out, absl::StrFormat("planning on the predictions alone would pick %s x%d %s %s at batch "
                              "%d, %d %s",
                              c.hardware(), c.gpu_count(), c.framework(), c.precision(),
                              cheapest.planned().batch_size(), cheapest.planned().replicas(),
                              cheapest.planned().replicas() == 1 ? "replica" : "replicas"));
    if (cheapest.has_usd_per_gpu_hour()) {
      absl::StrAppend(&out,
                      absl::StrFormat(", $%s/hour", Dollars(cheapest.planned().cost_per_hour())));
      if (response.options_size() > 0 && response.options(0).has_usd_per_gpu_hour()) {
        const double certain = response.options(0).planned().cost_per_hour();
        const double point = cheapest.planned().cost_per_hour();
        absl::StrAppend(&out, absl::StrFormat("; certainty costs $%s/hour more (%+.0f%%)",
                                              Dollars(certain - point),
                                              point > 0 ? 100 * (certain / point - 1) : 0.0));
      }
    }
    absl::StrAppend(&out, "\n");
  }
  if (response.rejected_size() > 0) {
    std::map<std::string, int> by_reason;
    for (const v1::RejectedCandidate& r : response.rejected())
      ++by_reason[RejectionName(r.reason())];
    std::string counts;
    for (const auto& [reason, count] : by_reason) {
      absl::StrAppend(&counts, counts.empty() ? "" : ", ", reason, " ", count);
    }
    absl::StrAppend(&out, response.rejected_size(), " candidates rejected (", counts, "):\n");
    for (const v1::RejectedCandidate& r : response.rejected()) {
      const v1::Configuration& c = r.configuration();
      absl::StrAppend(&out, absl::StrFormat("  %s x%d %s %s: %s: %s\n", c.hardware(), c.gpu_count(),
                                            c.framework(), c.precision(), RejectionName(r.reason()),
                                            r.detail()));
    }
  }
  return out;
}

}  // namespace perfcast
