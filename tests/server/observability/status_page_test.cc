#include "server/observability/status_page.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_model.h"

namespace perfcast::server {
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

TEST(StatusPageTest, WithoutAModelThePageSaysSoAndACurveIsUnavailable) {
  const StatusSnapshot empty;

  const HttpPage page = RenderStatusPage(empty, "");
  const HttpPage curve = RenderStatusPage(empty, "system=s&input_tokens=1&output_tokens=1");

  EXPECT_EQ(page.status_code, 200);
  EXPECT_THAT(page.body, HasSubstr("No model serves yet"));
  EXPECT_EQ(curve.status_code, 503);
}

TEST(StatusPageTest, ABadFieldIsA400PageThatNamesItAndEscapesItsValue) {
  const HttpPage page =
      RenderStatusPage(StatusSnapshot{}, "system=s&output_tokens=1&input_tokens=%3Cimg%3E");

  EXPECT_EQ(page.status_code, 400);
  EXPECT_THAT(page.body, HasSubstr("input_tokens: &#39;&lt;img&gt;&#39; is not a whole number"));
  EXPECT_THAT(page.body, Not(HasSubstr("<img")));
}

TEST(StatusPageTest, ListsVersionsRefitsAndLiveAccuracyEscapingErrors) {
  StatusSnapshot snapshot;
  ModelVersionRow serving;
  serving.version = 3;
  serving.serving = true;
  serving.prequential_count = 40;
  serving.prequential_median_relative_error = 0.125;
  serving.prequential_interval_coverage = 0.875;
  ModelVersionRow failed;
  failed.version = 2;
  failed.failed = true;
  failed.error = "checksum <mismatch>";
  snapshot.versions = {serving, failed};
  snapshot.refits = {
      {absl::FromUnixSeconds(1700000000), RefitTrigger::kRpc, false, absl::Seconds(2)}};

  const HttpPage page = RenderStatusPage(snapshot, "");

  EXPECT_EQ(page.status_code, 200);
  EXPECT_THAT(page.body, HasSubstr("failed: checksum &lt;mismatch&gt;"));
  EXPECT_THAT(page.body, HasSubstr("<td>40</td><td>12.5%</td><td>87.5%</td>"));
  EXPECT_THAT(page.body, HasSubstr("<td class=\"text\">rpc</td><td class=\"text failed\">failed"));
  EXPECT_THAT(page.body, Not(HasSubstr("<script")));
}

class StatusPageWithModelTest : public perfcast::testing::SyntheticModelTest {
 protected:
  StatusSnapshot Snapshot() const {
    StatusSnapshot snapshot;
    snapshot.serving_model = *model_;
    snapshot.serving_version = 1;
    return snapshot;
  }
};

TEST_F(StatusPageWithModelTest, ListsEveryTrainedSystemInTheExplorer) {
  const HttpPage page = RenderStatusPage(Snapshot(), "");

  EXPECT_EQ(page.status_code, 200);
  EXPECT_THAT(page.body, HasSubstr("<option value=\"gpu-a x4 | vllm | org/model-7b | fp16\">"));
  EXPECT_EQ(Count(page.body, "| org/model-7b | fp16\">"), 6);  // 2 GPUs types x 3 counts
  EXPECT_THAT(page.body, Not(HasSubstr("<svg")));
}

TEST_F(StatusPageWithModelTest, DrawsThePredictedCurveItsBandAndTheMeasuredPoints) {
  const HttpPage page =
      RenderStatusPage(Snapshot(),
                       "system=gpu-b+x2+%7C+vllm+%7C+org%2Fmodel-7b+%7C+fp16&input_tokens=256"
                       "&output_tokens=256&confidence=0.8");

  ASSERT_EQ(page.status_code, 200) << page.body;
  EXPECT_EQ(Count(page.body, "<svg"), 1);
  EXPECT_EQ(Count(page.body, "<polygon class=\"band\""), 1);
  EXPECT_EQ(Count(page.body, "<circle class=\"point\""), 6);  // the curve's six batch sizes
  EXPECT_THAT(page.body, HasSubstr("80% interval"));
  EXPECT_THAT(page.body, HasSubstr("<option value=\"gpu-b x2 | vllm | org/model-7b | fp16\" "
                                   "selected>"));
}

TEST_F(StatusPageWithModelTest, ASystemTheModelDoesNotListIsA400NamingTheField) {
  const HttpPage page =
      RenderStatusPage(Snapshot(), "system=gpu-z+x1&input_tokens=256&output_tokens=256");

  EXPECT_EQ(page.status_code, 400);
  EXPECT_THAT(page.body, HasSubstr("system: not a configuration the serving model lists"));
}

TEST_F(StatusPageWithModelTest, EchoesAHostileCampaignOnlyEscaped) {
  const HttpPage page =
      RenderStatusPage(Snapshot(),
                       "system=gpu-a+x1+%7C+vllm+%7C+org%2Fmodel-7b+%7C+fp16&input_tokens=256"
                       "&output_tokens=256&campaign=%22%3E%3Cscript%3Ex%3C%2Fscript%3E");

  ASSERT_EQ(page.status_code, 200) << page.body;
  EXPECT_THAT(page.body, Not(HasSubstr("<script")));
  EXPECT_THAT(page.body, HasSubstr("&quot;&gt;&lt;script&gt;"));
}

}  // namespace
}  // namespace perfcast::server
