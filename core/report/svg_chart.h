#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace perfcast {

// How an axis maps values to positions. kLog2 suits batch sizes, which benchmarks double.
enum class AxisScale { kLinear, kLog2 };

struct ChartAxis {
  std::string label;
  AxisScale scale = AxisScale::kLinear;
  // Fixed ends of the axis; unset, they come from the data, rounded out to a tick (a linear axis
  // then starts at 0 when no value is negative, so heights compare by eye).
  std::optional<double> min;
  std::optional<double> max;
};

struct ChartPoint {
  double x = 0;
  double y = 0;
};

struct BandPoint {
  double x = 0;
  double lower = 0;
  double upper = 0;
};

// A shaded region between a lower and an upper curve: an interval band.
struct ChartBand {
  std::string name;
  std::vector<BandPoint> points;  // by x
};

// A curve through its points in order. A dashed line is a reference (the ideal diagonal of a
// reliability diagram) and is drawn grey. With `dots`, each point is also marked (class
// `vertex`), for a line through few values.
struct ChartLine {
  std::string name;
  std::vector<ChartPoint> points;
  bool dashed = false;
  bool dots = false;
};

// Points drawn as dots, each with a tooltip of its values: measurements.
struct ChartMarkers {
  std::string name;
  std::vector<ChartPoint> points;
};

enum class LegendCorner { kTopLeft, kBottomRight };

// What a chart shows; RenderSvg draws it. Bands go under lines, lines under markers. Colours
// follow the series' positions: band i and line i share one, so a predicted curve and its band
// match; markers take the colours after the lines'.
struct Chart {
  std::string title;
  std::string subtitle;
  ChartAxis x_axis;
  ChartAxis y_axis;
  std::vector<ChartBand> bands;
  std::vector<ChartLine> lines;
  std::vector<ChartMarkers> markers;
  LegendCorner legend = LegendCorner::kTopLeft;
};

// A standalone SVG document (it can also be inlined into HTML as it is). The elements carry
// classes a reader or a test can find them by: `band` polygons, `line` polylines, `point` circles
// in a `markers` group, `tick-label` and `axis-label` texts, `chart-title`, and `legend-entry`;
// each series group carries its name in `data-series`. Every text is escaped (markup_escape.h).
// InvalidArgument, naming the series, for a value that is not finite, a value <= 0 on a log axis,
// a band point whose lower bound is above its upper one, or fixed axis ends that are not
// increasing; also when no series holds a point.
absl::StatusOr<std::string> RenderSvg(const Chart& chart);

}  // namespace perfcast
