#include "server/observability/status_page.h"

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "core/report/markup_escape.h"
#include "core/report/measured_curves.h"
#include "server/observability/curve_explorer.h"
#include "server/observability/status_page_request.h"

namespace perfcast::server {
namespace {

constexpr char kStyle[] = R"(<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
td.text, th.text { text-align: left; }
.failed { color: #b00; }
form label { display: inline-block; margin: 0.3em 1em 0.3em 0; }
fieldset { margin: 0.5em 0; }
.error { color: #b00; font-weight: bold; }
</style>
)";

std::string Escape(absl::string_view text) { return EscapeMarkup(text); }

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

std::string Percent(double share) { return absl::StrFormat("%.1f%%", share * 100); }

std::string Seconds(absl::Duration d) {
  return absl::StrFormat("%.1f s", absl::ToDoubleSeconds(d));
}

std::string Document(absl::string_view title, absl::string_view body) {
  return absl::StrCat("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>",
                      Escape(title), "</title>\n", kStyle, "</head>\n<body>\n", body,
                      "</body></html>\n");
}

HttpPage ErrorPage(int status_code, absl::string_view heading, absl::string_view message) {
  return {
      status_code, "text/html; charset=utf-8",
      Document(heading,
               absl::StrCat("<h1>", Escape(heading), "</h1>\n<p class=\"error\">", Escape(message),
                            "</p>\n<p><a href=\"/\">Back to the status page</a></p>\n"))};
}

std::string Summary(const StatusSnapshot& s) {
  if (s.serving_model == nullptr) {
    return "<p id=\"serving\">No model serves yet: the first one is loading or training.</p>\n";
  }
  const ModelInfo& info = s.serving_model->info();
  return absl::StrCat("<p id=\"serving\">Serving model version <strong class=\"serving-version\">",
                      s.serving_version, "</strong>, trained at ",
                      Time(absl::FromUnixSeconds(info.trained_at_unix_s)), " on ", info.point_count,
                      " points (", info.curve_count, " curves, ", info.configuration_count,
                      " configurations).</p>\n");
}

std::string Versions(const StatusSnapshot& s) {
  std::string html =
      "<section id=\"versions\"><h2>Model versions</h2>\n<table><tr><th>version</th>"
      "<th class=\"text\">state</th><th>trained at</th><th>training</th><th>points</th>"
      "<th>curves</th><th>configurations</th></tr>\n";
  for (const ModelVersionRow& v : s.versions) {
    const std::string state = v.failed    ? absl::StrCat("failed: ", v.error)
                              : v.serving ? std::string("serving")
                                          : std::string("available");
    absl::StrAppend(&html, "<tr class=\"version", v.failed ? " failed" : "", "\"><td>", v.version,
                    "</td><td class=\"text\">", Escape(state), "</td>");
    if (v.info.has_value()) {
      absl::StrAppend(&html, "<td>", Time(absl::FromUnixSeconds(v.info->trained_at_unix_s)),
                      "</td><td>", absl::StrFormat("%.1f s", v.info->training_seconds), "</td><td>",
                      v.info->point_count, "</td><td>", v.info->curve_count, "</td><td>",
                      v.info->configuration_count, "</td></tr>\n");
    } else {
      absl::StrAppend(&html, "<td></td><td></td><td></td><td></td><td></td></tr>\n");
    }
  }
  absl::StrAppend(&html, "</table></section>\n");
  return html;
}

std::string LiveAccuracy(const StatusSnapshot& s) {
  std::string html =
      "<section id=\"accuracy\"><h2>Live accuracy</h2>\n<p>Each result submitted is first "
      "predicted by the model serving then, before any model trains on it (prequential "
      "scoring).</p>\n<table><tr><th>version</th><th>results scored</th>"
      "<th>median |relative error|</th><th>inside the 90% interval</th></tr>\n";
  for (const ModelVersionRow& v : s.versions) {
    if (v.failed) continue;
    absl::StrAppend(&html, "<tr><td>", v.version, "</td><td>", v.prequential_count, "</td>");
    if (v.prequential_count > 0) {
      absl::StrAppend(&html, "<td>", Percent(v.prequential_median_relative_error), "</td><td>",
                      Percent(v.prequential_interval_coverage), "</td></tr>\n");
    } else {
      absl::StrAppend(&html, "<td>-</td><td>-</td></tr>\n");
    }
  }
  absl::StrAppend(&html, "</table></section>\n");
  return html;
}

std::string Refits(const StatusSnapshot& s) {
  std::string html = "<section id=\"refits\"><h2>Refits</h2>\n";
  if (s.latest_refit.has_value()) {
    const LatestRefit& r = *s.latest_refit;
    std::string outcome;
    if (r.running) {
      outcome = absl::StrCat("running since ", Time(r.start_time));
    } else if (r.success) {
      outcome = absl::StrCat("succeeded in ", Seconds(r.duration), ", version ", r.model_version);
    } else {
      outcome = absl::StrCat("failed after ", Seconds(r.duration), ": ", r.error);
    }
    absl::StrAppend(&html, "<p>Latest refit #", r.refit_id, " (", RefitTriggerName(r.trigger),
                    "): <span class=\"", r.running || r.success ? "" : "failed", "\">",
                    Escape(outcome), "</span>. ", s.results_since_refit,
                    " results count towards the next.</p>\n");
  } else {
    absl::StrAppend(&html, "<p>No refit has run in this process.</p>\n");
  }
  absl::StrAppend(&html,
                  "<table><tr><th>finished</th><th class=\"text\">trigger</th>"
                  "<th class=\"text\">outcome</th><th>duration</th></tr>\n");
  for (const RefitRecord& r : s.refits) {
    absl::StrAppend(
        &html, "<tr class=\"refit\"><td>", Time(r.finished_at), "</td><td class=\"text\">",
        RefitTriggerName(r.trigger), "</td><td class=\"text", r.success ? "" : " failed", "\">",
        r.success ? "succeeded" : "failed", "</td><td>", Seconds(r.duration), "</td></tr>\n");
  }
  absl::StrAppend(&html, "</table></section>\n");
  return html;
}

std::string Results(const StatusSnapshot& s) {
  std::string html = absl::StrCat("<section id=\"results\"><h2>Stored results</h2>\n<p>",
                                  s.stored_results, " results stored (outside quarantine).");
  if (s.serving_model == nullptr) return absl::StrCat(html, "</p></section>\n");
  absl::StrAppend(&html,
                  " Per campaign, the measured points the serving model was trained on "
                  "(repeats of a point merged):</p>\n<table><tr><th class=\"text\">campaign</th>"
                  "<th>points</th></tr>\n");
  for (const auto& [campaign, points] : TrainedPointsByCampaign(*s.serving_model)) {
    absl::StrAppend(&html, "<tr class=\"campaign\"><td class=\"text\">",
                    campaign.empty() ? "(unnamed)" : Escape(campaign), "</td><td>", points,
                    "</td></tr>\n");
  }
  absl::StrAppend(&html, "</table></section>\n");
  return html;
}

}  // namespace

HttpPage RenderStatusPage(const StatusSnapshot& snapshot, absl::string_view query_string) {
  const absl::StatusOr<std::optional<CurveRequest>> request = ParseStatusPageQuery(query_string);
  if (!request.ok()) return ErrorPage(400, "Bad request", request.status().message());
  const absl::StatusOr<std::string> explorer =
      RenderCurveExplorer(snapshot.serving_model.get(), *request);
  if (!explorer.ok()) {
    switch (explorer.status().code()) {
      case absl::StatusCode::kInvalidArgument:
        return ErrorPage(400, "Bad request", explorer.status().message());
      case absl::StatusCode::kFailedPrecondition:
        return ErrorPage(503, "No model yet", explorer.status().message());
      default:
        return ErrorPage(500, "Internal error", explorer.status().message());
    }
  }
  const std::string body = absl::StrCat(
      "<h1>perfcast status</h1>\n<p>As of ", Time(snapshot.taken_at),
      ". Metrics: <a href=\"/metrics\">/metrics</a>.</p>\n", Summary(snapshot), Versions(snapshot),
      LiveAccuracy(snapshot), Refits(snapshot), Results(snapshot), *explorer);
  return {200, "text/html; charset=utf-8", Document("perfcast status", body)};
}

}  // namespace perfcast::server
