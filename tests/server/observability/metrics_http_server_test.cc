#include "server/observability/metrics_http_server.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "server/observability/process_metrics.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using ::perfcast::server::testing::HttpGet;
using ::perfcast::server::testing::MetricValue;
using ::testing::HasSubstr;

class MetricsHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& family =
        prometheus::BuildCounter().Name("test_events_total").Help("Events.").Register(*registry_);
    counter_ = &family.Add({{"kind", "a"}});
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> started =
        MetricsHttpServer::Start("127.0.0.1:0", {registry_, std::make_shared<ProcessMetrics>()});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  prometheus::Counter* counter_ = nullptr;
  std::unique_ptr<MetricsHttpServer> server_;
};

TEST_F(MetricsHttpServerTest, ServesEveryCollectableOnEachScrape) {
  counter_->Increment(3);

  const std::string response = HttpGet(server_->port(), "/metrics");

  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_EQ(MetricValue(response, "test_events_total{kind=\"a\"}"), 3);
  EXPECT_GT(MetricValue(response, "process_resident_memory_bytes"), 1e6);
  EXPECT_GE(MetricValue(response, "process_cpu_seconds_total"), 0);
  EXPECT_GT(MetricValue(response, "process_open_fds"), 2);
  EXPECT_GT(MetricValue(response, "process_start_time_seconds"), 1.7e9);
  counter_->Increment();
  EXPECT_EQ(MetricValue(HttpGet(server_->port(), "/metrics"), "test_events_total{kind=\"a\"}"), 4);
}

TEST_F(MetricsHttpServerTest, AnswersOtherPathsWithNotFound) {
  EXPECT_THAT(HttpGet(server_->port(), "/"), HasSubstr("HTTP/1.1 404 Not Found"));
  EXPECT_THAT(HttpGet(server_->port(), "/metricsx"), HasSubstr("HTTP/1.1 404 Not Found"));
}

TEST(MetricsHttpServerStartTest, RefusesAnAddressWithoutPort) {
  EXPECT_FALSE(MetricsHttpServer::Start("127.0.0.1", {}).ok());
}

TEST(MetricsHttpServerStartTest, RefusesAPortInUse) {
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> first =
      MetricsHttpServer::Start("127.0.0.1:0", {});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string taken = absl::StrCat("127.0.0.1:", (*first)->port());
  EXPECT_EQ(MetricsHttpServer::Start(taken, {}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace perfcast::server
