#include "server/observability/curve_explorer.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/report/markup_escape.h"
#include "core/report/measured_curves.h"
#include "core/report/svg_chart.h"
#include "core/report/throughput_chart.h"

namespace perfcast::server {
namespace {

// The explorer draws at least this far, so a curve measured only at small batches still shows
// where the prediction takes it.
constexpr int kSmallestLargestBatch = 256;
constexpr int kDefaultTokens = 1024;
constexpr double kLevels[] = {0.5, 0.8, 0.9, 0.95, 0.99};

std::string Escape(absl::string_view text) { return EscapeMarkup(text); }

std::string Option(absl::string_view value, absl::string_view label, bool selected) {
  return absl::StrCat("<option value=\"", Escape(value), "\"", selected ? " selected" : "", ">",
                      Escape(label), "</option>");
}

std::string TextInput(absl::string_view name, absl::string_view value,
                      absl::string_view placeholder) {
  return absl::StrCat("<label>", name, " <input name=\"", name, "\" value=\"", Escape(value),
                      "\" placeholder=\"", Escape(placeholder), "\" maxlength=\"",
                      kMaxStatusFieldBytes, "\"></label>\n");
}

std::string NumberInput(absl::string_view name, absl::string_view value, int max) {
  return absl::StrCat("<label>", name, " <input name=\"", name,
                      "\" type=\"number\" min=\"1\" max=\"", max, "\" value=\"", Escape(value),
                      "\"></label>\n");
}

std::string LevelText(double level) { return absl::StrFormat("%g", level); }

std::string Form(const std::map<std::string, Configuration>& systems,
                 const std::set<std::string>& campaigns,
                 const std::optional<CurveRequest>& request) {
  const bool listed = request.has_value() && !request->system.empty();
  const bool typed = request.has_value() && request->system.empty();
  const Configuration& asked = request.has_value() ? request->query.configuration : Configuration{};
  std::string html =
      "<form method=\"get\" action=\"/\">\n<label>configuration <select name=\"system\">";
  absl::StrAppend(&html, Option("", "(not listed: give it below)", typed));
  for (const auto& [key, configuration] : systems) {
    absl::StrAppend(&html, Option(key, key, listed && request->system == key));
  }
  absl::StrAppend(&html,
                  "</select></label>\n<fieldset><legend>or a configuration the list "
                  "lacks</legend>\n");
  absl::StrAppend(&html, TextInput("hardware", typed ? asked.hardware : "", "NVIDIA H100"));
  absl::StrAppend(
      &html, NumberInput("num_gpus", typed ? absl::StrCat(asked.num_gpus) : "", kMaxStatusGpus));
  absl::StrAppend(&html, TextInput("framework", typed ? asked.framework : "", "vllm"));
  absl::StrAppend(&html,
                  TextInput("model", typed ? asked.model : "", "meta-llama/Meta-Llama-3-8B"));
  absl::StrAppend(&html, TextInput("precision", typed ? asked.precision : "", "fp16"));
  absl::StrAppend(&html, "</fieldset>\n<label>campaign <select name=\"campaign\">",
                  Option("", "(population of campaigns)", asked.campaign.empty()));
  std::set<std::string> campaign_options = campaigns;
  if (!asked.campaign.empty()) campaign_options.insert(asked.campaign);
  for (const std::string& campaign : campaign_options) {
    if (campaign.empty()) continue;
    absl::StrAppend(&html, Option(campaign, campaign, campaign == asked.campaign));
  }
  absl::StrAppend(&html, "</select></label>\n<label>batch axis <select name=\"batch_semantics\">");
  for (const BatchSemantics semantics : kAllBatchSemantics) {
    const absl::string_view name = BatchSemanticsName(semantics);
    absl::StrAppend(&html, Option(name, name, semantics == asked.batch_semantics));
  }
  absl::StrAppend(&html, "</select></label>\n");
  const Shape shape =
      request.has_value() ? request->query.shape : Shape{kDefaultTokens, kDefaultTokens};
  absl::StrAppend(&html,
                  NumberInput("input_tokens", absl::StrCat(shape.input_tokens), kMaxStatusTokens));
  absl::StrAppend(
      &html, NumberInput("output_tokens", absl::StrCat(shape.output_tokens), kMaxStatusTokens));
  const double level = request.has_value() ? request->confidence_level : 0.9;
  std::set<double> levels(std::begin(kLevels), std::end(kLevels));
  levels.insert(level);
  absl::StrAppend(&html, "<label>interval <select name=\"confidence\">");
  for (const double l : levels) {
    absl::StrAppend(&html, Option(LevelText(l), absl::StrCat(LevelText(l * 100), "%"), l == level));
  }
  absl::StrAppend(&html, "</select></label>\n<button type=\"submit\">Draw</button>\n</form>\n");
  return html;
}

std::string PointsTable(absl::Span<const PointPrediction> points, double level) {
  std::string html =
      absl::StrCat("<table class=\"predicted-points\"><tr><th>batch</th><th>tokens/s</th><th>",
                   LevelText(level * 100), "% interval</th><th>case</th><th>memory</th></tr>\n");
  for (const PointPrediction& p : points) {
    absl::StrAppend(&html, "<tr><td>", p.batch_size, "</td><td>",
                    absl::StrFormat("%.1f", p.throughput_tokens_per_s), "</td><td>",
                    absl::StrFormat("%.1f - %.1f", p.lower_tokens_per_s, p.upper_tokens_per_s),
                    "</td><td>", Escape(PredictionCaseName(p.prediction_case)), "</td><td>",
                    Escape(MemoryVerdictName(p.memory.verdict)), "</td></tr>\n");
  }
  absl::StrAppend(&html, "</table>\n");
  return html;
}

}  // namespace

std::vector<int> ExplorerBatchSizes(int largest) {
  std::vector<int> sizes;
  for (int power = 1; power <= std::min(largest, kMaxExplorerBatchSize); power *= 2) {
    sizes.push_back(power);
    if (power >= 2 && power * 3 / 2 < std::min(largest, kMaxExplorerBatchSize)) {
      sizes.push_back(power * 3 / 2);
    }
  }
  return sizes;
}

std::string SystemKey(const Configuration& c) {
  return absl::StrCat(c.hardware, " x", c.num_gpus, " | ", c.framework, " | ", c.model, " | ",
                      c.precision);
}

absl::StatusOr<std::string> RenderCurveExplorer(const PerfcastModel* model,
                                                const std::optional<CurveRequest>& request) {
  std::string html = "<section id=\"explorer\"><h2>Curve explorer</h2>\n";
  if (model == nullptr) {
    if (request.has_value()) {
      return absl::FailedPreconditionError("no model serves yet: the first one is training");
    }
    absl::StrAppend(&html, "<p>No model serves yet.</p></section>\n");
    return html;
  }
  std::map<std::string, Configuration> systems;
  for (const Configuration& configuration : model->Configurations()) {
    systems.emplace(SystemKey(configuration), configuration);
  }
  std::set<std::string> campaigns;
  for (const auto& [campaign, points] : TrainedPointsByCampaign(*model)) {
    campaigns.insert(campaign);
  }
  absl::StrAppend(&html, Form(systems, campaigns, request));
  if (!request.has_value()) {
    absl::StrAppend(&html,
                    "<p>Choose a configuration and a shape to see its predicted curve.</p>"
                    "</section>\n");
    return html;
  }

  PredictionQuery query = request->query;
  if (!request->system.empty()) {
    const auto found = systems.find(request->system);
    if (found == systems.end()) {
      return absl::InvalidArgumentError(
          "system: not a configuration the serving model lists; choose one from the list");
    }
    const Configuration& system = found->second;
    query.configuration.hardware = system.hardware;
    query.configuration.num_gpus = system.num_gpus;
    query.configuration.framework = system.framework;
    query.configuration.model = system.model;
    query.configuration.precision = system.precision;
  }
  const std::vector<Curve> measured = MeasuredCurvesOf(*model, query);
  int largest_measured = 0;
  for (const Curve& curve : measured)
    largest_measured = std::max(largest_measured, curve.max_batch_size());
  int largest = kSmallestLargestBatch;
  while (largest < largest_measured && largest < kMaxExplorerBatchSize) largest *= 2;
  absl::StatusOr<std::vector<PointPrediction>> predicted =
      model->Predict(query, ExplorerBatchSizes(largest), request->confidence_level);
  if (!predicted.ok()) {
    if (predicted.status().code() == absl::StatusCode::kNotFound ||
        predicted.status().code() == absl::StatusCode::kInvalidArgument) {
      return absl::InvalidArgumentError(
          absl::StrCat("configuration: ", predicted.status().message()));
    }
    return predicted.status();
  }
  absl::StatusOr<std::string> svg =
      RenderSvg(ThroughputChart(query, *predicted, request->confidence_level, measured));
  if (!svg.ok()) {
    // A prediction the renderer refuses (nothing fits in memory) is said in words instead.
    absl::StrAppend(
        &html, "<p class=\"no-chart\">Nothing to draw: ", Escape(svg.status().message()), "</p>\n");
  } else {
    absl::StrAppend(&html, "<figure>", *svg, "</figure>\n");
  }
  int measured_points = 0;
  for (const Curve& curve : measured) measured_points += static_cast<int>(curve.points.size());
  absl::StrAppend(&html, "<p>", measured_points,
                  " measured points of this configuration and shape in ", measured.size(),
                  " curves.</p>\n");
  const std::vector<std::string> unseen = model->UnseenNames(query.configuration);
  if (!unseen.empty()) {
    absl::StrAppend(&html, "<p class=\"unseen\">The data has never seen ",
                    Escape(absl::StrJoin(unseen, ", ")),
                    ": the interval is that of a configuration with a name the data lacks.</p>\n");
  }
  absl::StrAppend(&html, PointsTable(*predicted, request->confidence_level), "</section>\n");
  return html;
}

}  // namespace perfcast::server
