#include "core/report/svg_chart.h"

#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int Count(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// The text of the `points` attribute of the first element that starts with `element`.
std::string PointsOf(const std::string& svg, const std::string& element) {
  const size_t start = svg.find(element);
  const size_t open = svg.find("points=\"", start) + 8;
  return svg.substr(open, svg.find('"', open) - open);
}

Chart ThroughputLikeChart() {
  Chart chart;
  chart.title = "H100 x1";
  chart.subtitle = "1024 input / 1024 output tokens";
  chart.x_axis = {"batch size", AxisScale::kLog2};
  chart.y_axis = {"output tokens/s", AxisScale::kLinear};
  chart.bands.push_back({"90% interval", {{1, 90, 110}, {8, 700, 900}, {64, 3000, 4000}}});
  chart.lines.push_back({"predicted", {{1, 100}, {8, 800}, {64, 3500}}});
  chart.markers.push_back({"measured, a", {{1, 101}, {8, 790}, {64, 3400}}});
  chart.markers.push_back({"measured, b", {{2, 180}, {16, 1500}}});
  return chart;
}

TEST(SvgChartTest, DrawsOneDotPerMeasuredPointInOneGroupPerSeries) {
  const absl::StatusOr<std::string> svg = RenderSvg(ThroughputLikeChart());
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_EQ(Count(*svg, "<circle class=\"point\""), 5);
  EXPECT_EQ(Count(*svg, "<g class=\"markers\""), 2);
  EXPECT_THAT(*svg, HasSubstr("data-series=\"measured, b\""));
}

TEST(SvgChartTest, TheBandIsOnePolygonAlongTheUpperBoundsAndBackAlongTheLower) {
  const absl::StatusOr<std::string> svg = RenderSvg(ThroughputLikeChart());
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_EQ(Count(*svg, "<polygon class=\"band\""), 1);
  const std::string points = PointsOf(*svg, "<polygon class=\"band\"");
  EXPECT_EQ(Count(points, ","), 6);  // three upper corners, then three lower ones
}

TEST(SvgChartTest, TheCurveIsOnePolylineThroughEveryPoint) {
  const absl::StatusOr<std::string> svg = RenderSvg(ThroughputLikeChart());
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_EQ(Count(*svg, "<polyline class=\"line\""), 1);
  EXPECT_EQ(Count(PointsOf(*svg, "<polyline class=\"line\""), ","), 3);
}

TEST(SvgChartTest, ShowsTitleSubtitleAxisLabelsAndLegend) {
  const absl::StatusOr<std::string> svg = RenderSvg(ThroughputLikeChart());
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, HasSubstr("class=\"chart-title\" x=\"80\" y=\"24\" font-size=\"15\" "
                              "font-weight=\"bold\">H100 x1</text>"));
  EXPECT_THAT(*svg, HasSubstr(">1024 input / 1024 output tokens</text>"));
  EXPECT_THAT(*svg, HasSubstr("font-size=\"13\">batch size</text>"));
  EXPECT_THAT(*svg, HasSubstr("font-size=\"13\">output tokens/s</text>"));
  EXPECT_EQ(Count(*svg, "class=\"legend-entry\""), 4);  // band, curve, two point series
}

TEST(SvgChartTest, ALogAxisTicksAtPowersOfTwoAcrossTheData) {
  const absl::StatusOr<std::string> svg = RenderSvg(ThroughputLikeChart());
  ASSERT_TRUE(svg.ok()) << svg.status();
  for (const char* tick : {">1</text>", ">2</text>", ">4</text>", ">32</text>", ">64</text>"}) {
    EXPECT_THAT(*svg, HasSubstr(absl::StrCat("class=\"tick-label\"")));
    EXPECT_THAT(*svg, HasSubstr(tick));
  }
  EXPECT_THAT(*svg, Not(HasSubstr(">128</text>")));
}

TEST(SvgChartTest, ALinearAxisStartsAtZeroAndEndsOnARoundTick) {
  const absl::StatusOr<std::string> svg = RenderSvg(ThroughputLikeChart());
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, HasSubstr("dy=\"0.35em\">0</text>"));
  EXPECT_THAT(*svg, HasSubstr("dy=\"0.35em\">4000</text>"));
  EXPECT_THAT(*svg, Not(HasSubstr("dy=\"0.35em\">5000</text>")));
}

TEST(SvgChartTest, FixedAxisEndsAreKept) {
  Chart chart;
  chart.x_axis = {"nominal", AxisScale::kLinear, 0.0, 1.0};
  chart.y_axis = {"observed", AxisScale::kLinear, 0.0, 1.0};
  chart.lines.push_back({"perfcast", {{0.5, 0.45}, {0.8, 0.7}, {0.9, 0.87}}, false, true});
  chart.lines.push_back({"ideal", {{0, 0}, {1, 1}}, true});
  const absl::StatusOr<std::string> svg = RenderSvg(chart);
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, HasSubstr(">0.2</text>"));
  EXPECT_THAT(*svg, HasSubstr(">1</text>"));
  EXPECT_THAT(*svg, Not(HasSubstr(">1.2</text>")));
  EXPECT_THAT(*svg, HasSubstr("stroke-dasharray"));
  EXPECT_EQ(Count(*svg, "<circle class=\"vertex\""), 3);  // the dotted line's, not the ideal's
}

TEST(SvgChartTest, EscapesEveryTextItIsGiven) {
  Chart chart = ThroughputLikeChart();
  chart.title = "<script>alert(1)</script>";
  chart.x_axis.label = "a & b";
  chart.markers[0].name = "\"><svg onload=x>";
  const absl::StatusOr<std::string> svg = RenderSvg(chart);
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, Not(HasSubstr("<script")));
  EXPECT_THAT(*svg, Not(HasSubstr("\"><svg onload")));
  EXPECT_THAT(*svg, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(*svg, HasSubstr("a &amp; b"));
  EXPECT_THAT(*svg, HasSubstr("data-series=\"&quot;&gt;&lt;svg onload=x&gt;\""));
}

TEST(SvgChartTest, RefusesAValueThatIsNotFiniteNamingItsSeries) {
  Chart chart = ThroughputLikeChart();
  chart.lines[0].points[1].y = std::nan("");
  const absl::StatusOr<std::string> svg = RenderSvg(chart);
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(svg.status().message(), HasSubstr("'predicted'"));
}

TEST(SvgChartTest, RefusesZeroOnALogAxis) {
  Chart chart = ThroughputLikeChart();
  chart.markers[1].points[0].x = 0;
  const absl::StatusOr<std::string> svg = RenderSvg(chart);
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(svg.status().message(), HasSubstr("log axis"));
}

TEST(SvgChartTest, RefusesABandWhoseLowerBoundIsAboveItsUpper) {
  Chart chart = ThroughputLikeChart();
  chart.bands[0].points[0] = {1, 120, 110};
  EXPECT_EQ(RenderSvg(chart).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SvgChartTest, RefusesAChartWithNothingToDraw) {
  Chart chart;
  chart.lines.push_back({"empty", {}});
  EXPECT_EQ(RenderSvg(chart).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace perfcast
