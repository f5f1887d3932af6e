#include "core/report/throughput_chart.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perfcast {

Chart ThroughputChart(const PredictionQuery& query, absl::Span<const PointPrediction> predicted,
                      double confidence_level, absl::Span<const Curve> measured) {
  const Configuration& c = query.configuration;
  Chart chart;
  chart.title = absl::StrCat(c.hardware, " x", c.num_gpus, " | ", c.framework, " | ", c.model,
                             " | ", c.precision);
  chart.subtitle = absl::StrCat(
      query.shape.input_tokens, " input / ", query.shape.output_tokens, " output tokens, ",
      c.campaign.empty() ? std::string("population of campaigns")
                         : absl::StrCat("campaign ", c.campaign),
      c.batch_semantics == BatchSemantics::kStatic
          ? std::string()
          : absl::StrCat(", ", BatchSemanticsName(c.batch_semantics), " axis"));
  chart.x_axis = {c.batch_semantics == BatchSemantics::kConcurrency ? "concurrency" : "batch size",
                  AxisScale::kLog2};
  chart.y_axis = {"output tokens/s", AxisScale::kLinear};
  const std::string level = absl::StrFormat("%g%% interval", confidence_level * 100);
  ChartBand band{level, {}};
  ChartLine line{"predicted", {}, false};
  for (const PointPrediction& p : predicted) {
    if (p.memory.verdict == MemoryVerdict::kDoesNotFit) continue;
    band.points.push_back(
        {static_cast<double>(p.batch_size), p.lower_tokens_per_s, p.upper_tokens_per_s});
    line.points.push_back({static_cast<double>(p.batch_size), p.throughput_tokens_per_s});
  }
  chart.bands.push_back(std::move(band));
  chart.lines.push_back(std::move(line));
  for (const Curve& curve : measured) {
    ChartMarkers markers{absl::StrCat("measured, ", curve.configuration.campaign.empty()
                                                        ? std::string("unnamed campaign")
                                                        : curve.configuration.campaign),
                         {}};
    for (const CurvePoint& p : curve.points) {
      markers.points.push_back({static_cast<double>(p.batch_size), p.throughput_tokens_per_s});
    }
    chart.markers.push_back(std::move(markers));
  }
  return chart;
}

}  // namespace perfcast
