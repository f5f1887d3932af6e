#include "server/observability/metrics_http_server.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

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

// A connected socket that sends `prefix` and then nothing: an idle or trickling client.
int OpenSilentConnection(int port, const std::string& prefix) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  if (!prefix.empty()) ::send(fd, prefix.data(), prefix.size(), MSG_NOSIGNAL);
  return fd;
}

TEST_F(MetricsHttpServerTest, ScrapesAnswerPromptlyBesideIdleAndTricklingConnections) {
  std::vector<int> held;
  for (int i = 0; i < 200; ++i) held.push_back(OpenSilentConnection(server_->port(), ""));
  held.push_back(OpenSilentConnection(server_->port(), "GET /met"));

  const absl::Time start = absl::Now();
  const std::string response = HttpGet(server_->port(), "/metrics");
  const absl::Duration took = absl::Now() - start;

  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_LT(took, absl::Seconds(2));
  for (int fd : held) ::close(fd);
}

TEST_F(MetricsHttpServerTest, SeveralScrapesAtOnceAreAllAnswered) {
  std::vector<std::thread> scrapers;
  std::vector<std::string> responses(8);
  for (size_t i = 0; i < responses.size(); ++i) {
    scrapers.emplace_back([&, i] { responses[i] = HttpGet(server_->port(), "/metrics"); });
  }
  for (std::thread& t : scrapers) t.join();
  for (const std::string& response : responses) {
    EXPECT_THAT(response, HasSubstr("HTTP/1.1 200 OK"));
  }
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
