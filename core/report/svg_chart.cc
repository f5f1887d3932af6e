#include "core/report/svg_chart.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/report/markup_escape.h"

namespace perfcast {
namespace {

// Canvas and plot area, in SVG user units (pixels at 100 %).
constexpr double kWidth = 720;
constexpr double kHeight = 440;
constexpr double kPlotLeft = 80;
constexpr double kPlotRight = kWidth - 24;
constexpr double kPlotTop = 64;
constexpr double kPlotBottom = kHeight - 58;
constexpr double kPointRadius = 3.5;
// Roughly this many ticks on a linear axis; a log axis shows every power of two unless that
// gives more than kMaxLogTicks.
constexpr double kLinearTickTarget = 6;
constexpr int kMaxLogTicks = 11;

// Colour-blind-safe enough (Tableau 10's first ones); a series past the end wraps around.
constexpr std::array<const char*, 8> kPalette = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                                 "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
constexpr char kReferenceGrey[] = "#777777";

const char* Colour(size_t index) { return kPalette[index % kPalette.size()]; }

// Short tick text: "35k" rather than "35000", "0.25" rather than "0.250000".
std::string FormatTick(double value) {
  if (std::abs(value) >= 10000 && std::fmod(value, 1000) == 0) {
    return absl::StrFormat("%gk", value / 1000);
  }
  return absl::StrFormat("%g", value);
}

std::string FormatValue(double value) { return absl::StrFormat("%.4g", value); }

std::string Coordinate(double value) { return absl::StrFormat("%.1f", value); }

// One axis: its ends, its ticks and the mapping of a value to [0, 1] along it.
class Scale {
 public:
  Scale(const ChartAxis& axis, double data_min, double data_max)
      : log_(axis.scale == AxisScale::kLog2) {
    if (log_) {
      double lo = axis.min.value_or(std::exp2(std::floor(std::log2(data_min))));
      double hi = axis.max.value_or(std::exp2(std::ceil(std::log2(data_max))));
      if (hi <= lo) hi = lo * 2;
      lo_ = std::log2(lo);
      hi_ = std::log2(hi);
      const int span = static_cast<int>(std::ceil(hi_ - lo_));
      const int step = std::max(1, (span + kMaxLogTicks - 1) / kMaxLogTicks);
      for (double e = std::ceil(lo_); e <= hi_ + 1e-9; e += step) ticks_.push_back(std::exp2(e));
      return;
    }
    double lo = axis.min.value_or(std::min(data_min, 0.0));
    double hi = axis.max.value_or(data_max);
    if (hi <= lo) hi = lo + 1;
    const double step = NiceStep((hi - lo) / kLinearTickTarget);
    if (!axis.min.has_value()) lo = std::floor(lo / step) * step;
    if (!axis.max.has_value()) hi = std::ceil(hi / step - 1e-9) * step;
    lo_ = lo;
    hi_ = hi;
    for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
      ticks_.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    }
  }

  // 0 at the low end, 1 at the high end.
  double Fraction(double value) const {
    const double v = log_ ? std::log2(value) : value;
    return (v - lo_) / (hi_ - lo_);
  }
  const std::vector<double>& ticks() const { return ticks_; }

 private:
  // 1, 2 or 5 times a power of ten, at least `raw`.
  static double NiceStep(double raw) {
    const double magnitude = std::pow(10, std::floor(std::log10(raw)));
    for (const double m : {1.0, 2.0, 5.0}) {
      if (m * magnitude >= raw) return m * magnitude;
    }
    return 10 * magnitude;
  }

  bool log_;
  double lo_ = 0;
  double hi_ = 1;
  std::vector<double> ticks_;
};

// The smallest and largest values drawn along one axis, checking each on the way.
class Extent {
 public:
  Extent(const ChartAxis& axis, absl::string_view axis_name)
      : log_(axis.scale == AxisScale::kLog2), axis_name_(axis_name) {}

  absl::Status Add(double value, absl::string_view series) {
    if (!std::isfinite(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("series '", series, "': ", axis_name_, " value ", value, " is not finite"));
    }
    if (log_ && value <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("series '", series, "': ", axis_name_, " value ", value, " on a log axis"));
    }
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    return absl::OkStatus();
  }
  bool empty() const { return min_ > max_; }
  double min() const { return min_; }
  double max() const { return max_; }

 private:
  bool log_;
  absl::string_view axis_name_;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

absl::Status CheckFixedEnds(const ChartAxis& axis, absl::string_view axis_name) {
  for (const std::optional<double>& end : {axis.min, axis.max}) {
    if (end.has_value() &&
        (!std::isfinite(*end) || (axis.scale == AxisScale::kLog2 && *end <= 0))) {
      return absl::InvalidArgumentError(
          absl::StrCat(axis_name, " axis: fixed end ", *end, " cannot be drawn"));
    }
  }
  if (axis.min.has_value() && axis.max.has_value() && !(*axis.min < *axis.max)) {
    return absl::InvalidArgumentError(
        absl::StrCat(axis_name, " axis: min ", *axis.min, " is not below max ", *axis.max));
  }
  return absl::OkStatus();
}

class Canvas {
 public:
  Canvas(Scale x, Scale y) : x_(std::move(x)), y_(std::move(y)) {}
  double X(double value) const { return kPlotLeft + x_.Fraction(value) * (kPlotRight - kPlotLeft); }
  double Y(double value) const {
    return kPlotBottom - y_.Fraction(value) * (kPlotBottom - kPlotTop);
  }
  std::string Pair(double x, double y) const {
    return absl::StrCat(Coordinate(X(x)), ",", Coordinate(Y(y)));
  }
  const Scale& x() const { return x_; }
  const Scale& y() const { return y_; }

 private:
  Scale x_;
  Scale y_;
};

void AppendAxes(const Chart& chart, const Canvas& canvas, std::string& svg) {
  absl::StrAppend(&svg, "<g class=\"x-axis\" font-size=\"11\" text-anchor=\"middle\">\n");
  for (const double tick : canvas.x().ticks()) {
    const std::string x = Coordinate(canvas.X(tick));
    absl::StrAppend(&svg, "<line x1=\"", x, "\" y1=\"", kPlotTop, "\" x2=\"", x, "\" y2=\"",
                    kPlotBottom, "\" stroke=\"#e4e4e4\"/>", "<line x1=\"", x, "\" y1=\"",
                    kPlotBottom, "\" x2=\"", x, "\" y2=\"", kPlotBottom + 5,
                    "\" stroke=\"#333\"/><text class=\"tick-label\" x=\"", x, "\" y=\"",
                    kPlotBottom + 18, "\">", EscapeMarkup(FormatTick(tick)), "</text>\n");
  }
  absl::StrAppend(&svg, "<text class=\"axis-label\" x=\"", (kPlotLeft + kPlotRight) / 2, "\" y=\"",
                  kHeight - 16, "\" font-size=\"13\">", EscapeMarkup(chart.x_axis.label),
                  "</text>\n</g>\n");
  absl::StrAppend(&svg, "<g class=\"y-axis\" font-size=\"11\" text-anchor=\"end\">\n");
  for (const double tick : canvas.y().ticks()) {
    const std::string y = Coordinate(canvas.Y(tick));
    absl::StrAppend(&svg, "<line x1=\"", kPlotLeft, "\" y1=\"", y, "\" x2=\"", kPlotRight,
                    "\" y2=\"", y, "\" stroke=\"#e4e4e4\"/>", "<line x1=\"", kPlotLeft - 5,
                    "\" y1=\"", y, "\" x2=\"", kPlotLeft, "\" y2=\"", y,
                    "\" stroke=\"#333\"/><text class=\"tick-label\" x=\"", kPlotLeft - 8, "\" y=\"",
                    y, "\" dy=\"0.35em\">", EscapeMarkup(FormatTick(tick)), "</text>\n");
  }
  absl::StrAppend(&svg, "<text class=\"axis-label\" transform=\"translate(18,",
                  (kPlotTop + kPlotBottom) / 2,
                  ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">",
                  EscapeMarkup(chart.y_axis.label), "</text>\n</g>\n");
  absl::StrAppend(&svg, "<rect x=\"", kPlotLeft, "\" y=\"", kPlotTop, "\" width=\"",
                  kPlotRight - kPlotLeft, "\" height=\"", kPlotBottom - kPlotTop,
                  "\" fill=\"none\" stroke=\"#333\"/>\n");
}

void AppendLegend(const Chart& chart, std::string& svg) {
  struct Entry {
    std::string name;
    std::string swatch;
  };
  std::vector<Entry> entries;
  for (size_t i = 0; i < chart.bands.size(); ++i) {
    entries.push_back({chart.bands[i].name,
                       absl::StrCat("<rect x=\"0\" y=\"-6\" width=\"18\" height=\"10\" fill=\"",
                                    Colour(i), "\" fill-opacity=\"0.25\"/>")});
  }
  for (size_t i = 0; i < chart.lines.size(); ++i) {
    const ChartLine& line = chart.lines[i];
    entries.push_back(
        {line.name, absl::StrCat("<line x1=\"0\" y1=\"-1\" x2=\"18\" y2=\"-1\" stroke=\"",
                                 line.dashed ? kReferenceGrey : Colour(i), "\" stroke-width=\"2\"",
                                 line.dashed ? " stroke-dasharray=\"5,4\"" : "", "/>")});
  }
  for (size_t i = 0; i < chart.markers.size(); ++i) {
    entries.push_back({chart.markers[i].name,
                       absl::StrCat("<circle cx=\"9\" cy=\"-1\" r=\"", kPointRadius, "\" fill=\"",
                                    Colour(chart.lines.size() + i), "\"/>")});
  }
  std::erase_if(entries, [](const Entry& e) { return e.name.empty(); });
  if (entries.empty()) return;
  constexpr double kRowHeight = 16;
  const bool top_left = chart.legend == LegendCorner::kTopLeft;
  const double x = top_left ? kPlotLeft + 10 : kPlotRight - 230;
  const double first_y =
      top_left ? kPlotTop + 16 : kPlotBottom - 8 - kRowHeight * (entries.size() - 1);
  absl::StrAppend(&svg, "<g class=\"legend\" font-size=\"11\">\n");
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::StrAppend(&svg, "<g class=\"legend-entry\" transform=\"translate(", x, ",",
                    first_y + kRowHeight * i, ")\">", entries[i].swatch, "<text x=\"24\" y=\"3\">",
                    EscapeMarkup(entries[i].name), "</text></g>\n");
  }
  absl::StrAppend(&svg, "</g>\n");
}

}  // namespace

absl::StatusOr<std::string> RenderSvg(const Chart& chart) {
  if (absl::Status s = CheckFixedEnds(chart.x_axis, "x"); !s.ok()) return s;
  if (absl::Status s = CheckFixedEnds(chart.y_axis, "y"); !s.ok()) return s;
  Extent xs(chart.x_axis, "x");
  Extent ys(chart.y_axis, "y");
  for (const ChartBand& band : chart.bands) {
    for (const BandPoint& p : band.points) {
      for (absl::Status s :
           {xs.Add(p.x, band.name), ys.Add(p.lower, band.name), ys.Add(p.upper, band.name)}) {
        if (!s.ok()) return s;
      }
      if (p.lower > p.upper) {
        return absl::InvalidArgumentError(absl::StrCat("series '", band.name, "': lower ", p.lower,
                                                       " above upper ", p.upper, " at x ", p.x));
      }
    }
  }
  auto add_points = [&](const std::vector<ChartPoint>& points,
                        const std::string& name) -> absl::Status {
    for (const ChartPoint& p : points) {
      if (absl::Status s = xs.Add(p.x, name); !s.ok()) return s;
      if (absl::Status s = ys.Add(p.y, name); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  for (const ChartLine& line : chart.lines) {
    if (absl::Status s = add_points(line.points, line.name); !s.ok()) return s;
  }
  for (const ChartMarkers& markers : chart.markers) {
    if (absl::Status s = add_points(markers.points, markers.name); !s.ok()) return s;
  }
  if (xs.empty()) return absl::InvalidArgumentError("the chart has no point to draw");

  const Canvas canvas(Scale(chart.x_axis, xs.min(), xs.max()),
                      Scale(chart.y_axis, ys.min(), ys.max()));
  std::string svg = absl::StrCat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"perfcast-chart\" width=\"", kWidth,
      "\" height=\"", kHeight, "\" viewBox=\"0 0 ", kWidth, " ", kHeight,
      "\" role=\"img\" font-family=\"sans-serif\">\n<title>", EscapeMarkup(chart.title),
      "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      "<text class=\"chart-title\" x=\"", kPlotLeft,
      "\" y=\"24\" font-size=\"15\" "
      "font-weight=\"bold\">",
      EscapeMarkup(chart.title), "</text>\n<text class=\"chart-subtitle\" x=\"", kPlotLeft,
      "\" y=\"44\" font-size=\"12\" fill=\"#444\">", EscapeMarkup(chart.subtitle), "</text>\n");
  AppendAxes(chart, canvas, svg);
  // Data outside fixed axis ends is cut just outside the plot's frame, leaving room for a dot
  // on the frame itself (the smallest batch of a log axis is always on it).
  constexpr double kClipMargin = kPointRadius + 1;
  absl::StrAppend(&svg, "<clipPath id=\"plot-area\"><rect x=\"", kPlotLeft - kClipMargin, "\" y=\"",
                  kPlotTop - kClipMargin, "\" width=\"", kPlotRight - kPlotLeft + 2 * kClipMargin,
                  "\" height=\"", kPlotBottom - kPlotTop + 2 * kClipMargin,
                  "\"/></clipPath>\n<g clip-path=\"url(#plot-area)\">\n");
  for (size_t i = 0; i < chart.bands.size(); ++i) {
    const ChartBand& band = chart.bands[i];
    std::string points;
    for (const BandPoint& p : band.points) absl::StrAppend(&points, canvas.Pair(p.x, p.upper), " ");
    for (auto p = band.points.rbegin(); p != band.points.rend(); ++p) {
      absl::StrAppend(&points, canvas.Pair(p->x, p->lower), " ");
    }
    absl::StrAppend(&svg, "<polygon class=\"band\" data-series=\"", EscapeMarkup(band.name),
                    "\" fill=\"", Colour(i), "\" fill-opacity=\"0.2\" stroke=\"none\" points=\"",
                    points, "\"/>\n");
  }
  for (size_t i = 0; i < chart.lines.size(); ++i) {
    const ChartLine& line = chart.lines[i];
    std::string points;
    for (const ChartPoint& p : line.points) absl::StrAppend(&points, canvas.Pair(p.x, p.y), " ");
    absl::StrAppend(&svg, "<polyline class=\"line\" data-series=\"", EscapeMarkup(line.name),
                    "\" fill=\"none\" stroke=\"", line.dashed ? kReferenceGrey : Colour(i),
                    "\" stroke-width=\"2\"", line.dashed ? " stroke-dasharray=\"5,4\"" : "",
                    " points=\"", points, "\"/>\n");
    if (!line.dots) continue;
    for (const ChartPoint& p : line.points) {
      absl::StrAppend(&svg, "<circle class=\"vertex\" cx=\"", Coordinate(canvas.X(p.x)), "\" cy=\"",
                      Coordinate(canvas.Y(p.y)), "\" r=\"", kPointRadius, "\" fill=\"",
                      line.dashed ? kReferenceGrey : Colour(i), "\"><title>",
                      EscapeMarkup(line.name), ": ", FormatValue(p.x), ", ", FormatValue(p.y),
                      "</title></circle>\n");
    }
  }
  for (size_t i = 0; i < chart.markers.size(); ++i) {
    const ChartMarkers& markers = chart.markers[i];
    absl::StrAppend(&svg, "<g class=\"markers\" data-series=\"", EscapeMarkup(markers.name),
                    "\" fill=\"", Colour(chart.lines.size() + i),
                    "\" stroke=\"white\" stroke-width=\"0.8\">\n");
    for (const ChartPoint& p : markers.points) {
      absl::StrAppend(&svg, "<circle class=\"point\" cx=\"", Coordinate(canvas.X(p.x)), "\" cy=\"",
                      Coordinate(canvas.Y(p.y)), "\" r=\"", kPointRadius, "\"><title>",
                      EscapeMarkup(markers.name), ": ", EscapeMarkup(chart.x_axis.label), " ",
                      FormatValue(p.x), ", ", EscapeMarkup(chart.y_axis.label), " ",
                      FormatValue(p.y), "</title></circle>\n");
    }
    absl::StrAppend(&svg, "</g>\n");
  }
  absl::StrAppend(&svg, "</g>\n");
  AppendLegend(chart, svg);
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

}  // namespace perfcast
