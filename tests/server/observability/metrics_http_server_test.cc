#include "server/observability/metrics_http_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/metric_family.h"
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

TEST(MetricsHttpServerPageTest, AnswersTheRootWithThePageHandlerGivenItsQueryString) {
  std::vector<std::string> asked;
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
      MetricsHttpServer::Start("127.0.0.1:0", {}, [&asked](absl::string_view query) {
        asked.emplace_back(query);
        return HttpPage{query.empty() ? 200 : 400, "text/html; charset=utf-8", "<p>page</p>"};
      });
  ASSERT_TRUE(server.ok()) << server.status();

  const std::string page = HttpGet((*server)->port(), "/");
  const std::string refused = HttpGet((*server)->port(), "/?input_tokens=x");

  EXPECT_THAT(page, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(page, HasSubstr("<p>page</p>"));
  EXPECT_THAT(refused, HasSubstr("HTTP/1.1 400 Bad Request"));
  EXPECT_THAT(asked, ::testing::ElementsAre("", "input_tokens=x"));
  EXPECT_THAT(HttpGet((*server)->port(), "/other"), HasSubstr("HTTP/1.1 404 Not Found"));
  EXPECT_THAT(HttpGet((*server)->port(), "/metrics?x=1"), HasSubstr("HTTP/1.1 200 OK"));
}

TEST(MetricsHttpServerPageTest, AnHtmlAnswerForbidsScriptsAndFetchesElsewhere) {
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
      MetricsHttpServer::Start("127.0.0.1:0", {}, [](absl::string_view) {
        return HttpPage{200, "text/html", "<p></p>"};
      });
  ASSERT_TRUE(server.ok()) << server.status();

  const std::string page = HttpGet((*server)->port(), "/");

  EXPECT_THAT(page, HasSubstr("Content-Security-Policy: default-src 'none'; style-src "
                              "'unsafe-inline'"));
  EXPECT_THAT(page, HasSubstr("X-Content-Type-Options: nosniff"));
  EXPECT_THAT(HttpGet((*server)->port(), "/metrics"),
              ::testing::Not(HasSubstr("Content-Security-Policy")));
}

// A connected socket that sends `prefix` and then nothing: an idle or trickling client; -1 when
// no socket can be made.
int OpenSilentConnection(int port, const std::string& prefix) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;  // errno says why
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

constexpr absl::string_view kScrapeRequest = "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n";

bool SendScrapeRequest(int fd) {
  return ::send(fd, kScrapeRequest.data(), kScrapeRequest.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(kScrapeRequest.size());
}

// Reads from `fd` until the server closes the connection or `timeout` passes.
std::string ReadUntilClosed(int fd, absl::Duration timeout) {
  std::string response;
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[65536];
  while (absl::Now() < deadline) {
    pollfd readable{fd, POLLIN, 0};
    const int ready =
        ::poll(&readable, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())));
    if (ready <= 0) break;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  return response;
}

// The body's length as received, and as the Content-Length header announced it.
std::pair<size_t, size_t> BodyLengths(const std::string& response) {
  const size_t head_end = response.find("\r\n\r\n");
  const size_t header = response.find("Content-Length: ");
  if (head_end == std::string::npos || header == std::string::npos) return {0, 1};
  return {response.size() - head_end - 4,
          std::strtoull(response.c_str() + header + std::strlen("Content-Length: "), nullptr, 10)};
}

// Out of file descriptors the listening socket stays readable: the loop must free one (an idle
// connection) rather than spin, or a scrape waiting to be accepted never is.
TEST_F(MetricsHttpServerTest, ScrapeIsAnsweredWhenTheProcessRunsOutOfFileDescriptors) {
  const int scrape = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // made while fds remain
  ASSERT_GE(scrape, 0);
  std::vector<int> held;  // idle connections the server has accepted
  for (int i = 0; i < 5; ++i) held.push_back(OpenSilentConnection(server_->port(), ""));
  absl::SleepFor(absl::Milliseconds(200));
  int highest_fd = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    highest_fd = std::max(highest_fd, std::atoi(entry.path().filename().c_str()));
  }
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  rlimit lowered = original;
  lowered.rlim_cur = static_cast<rlim_t>(highest_fd + 1 + 20);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  // Every descriptor left, taken by this thread while the server has nothing to accept.
  std::vector<int> fillers;
  for (int fd = ::dup(scrape); fd >= 0; fd = ::dup(scrape)) fillers.push_back(fd);
  const int exhausted = errno;

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server_->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int connected = ::connect(scrape, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  const bool sent = connected == 0 && SendScrapeRequest(scrape);
  const std::string response = sent ? ReadUntilClosed(scrape, absl::Seconds(3)) : "";

  for (int fd : fillers) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &original);
  ::close(scrape);
  for (int fd : held) ::close(fd);
  EXPECT_EQ(exhausted, EMFILE);
  EXPECT_TRUE(sent);
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200 OK"));
}

// Many samples, so that an answer fills the socket buffers and is sent over several poll rounds.
class LargeCollectable : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family{
        "test_large_gauge", "Many samples.", prometheus::MetricType::Gauge, {}};
    family.metric.resize(150000);
    for (size_t i = 0; i < family.metric.size(); ++i) {
      family.metric[i].label = {{"sample", absl::StrCat("sample-number-", i)}};
      family.metric[i].gauge.value = static_cast<double>(i);
    }
    return {family};
  }
};

// At the connection cap the flood's idle connections go before a scrape being answered, even
// one older than all of them.
TEST(MetricsHttpServerFloodTest, ScrapeOlderThanAFloodOfIdleConnectionsCompletes) {
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
      MetricsHttpServer::Start("127.0.0.1:0", {std::make_shared<LargeCollectable>()});
  ASSERT_TRUE(server.ok()) << server.status();
  const int scrape = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // A small receive window keeps most of the answer waiting on the server while the flood comes.
  const int window = 64 * 1024;
  ::setsockopt(scrape, SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>((*server)->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(scrape, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_TRUE(SendScrapeRequest(scrape));
  // The first bytes of the answer: the server is answering now.
  pollfd readable{scrape, POLLIN, 0};
  ASSERT_EQ(::poll(&readable, 1, 5000), 1);

  std::vector<int> flood;
  for (int i = 0; i < 200; ++i) flood.push_back(OpenSilentConnection((*server)->port(), ""));
  absl::SleepFor(absl::Milliseconds(300));  // the loop accepts them all meanwhile
  const std::string response = ReadUntilClosed(scrape, absl::Seconds(5));

  for (int fd : flood) ::close(fd);
  ::close(scrape);
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200 OK"));
  const auto [received, announced] = BodyLengths(response);
  EXPECT_GT(announced, 4u << 20);  // larger than the socket buffers, or the test shows nothing
  EXPECT_EQ(received, announced);
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
