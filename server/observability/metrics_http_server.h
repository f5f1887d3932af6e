#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"
#include "server/observability/http_page.h"

namespace perfcast::server {

// Serves the Prometheus text exposition of some collectables on `GET /metrics` (plain HTTP/1.x,
// `Connection: close`) from one thread that never blocks on a client: every connection is
// non-blocking and waits in one poll() for its request head or for room to send its answer, so a
// client that trickles bytes or sits idle holds only its own connection. Each connection has a
// deadline for the whole exchange; past `kMaxConnections` open ones, the oldest still waiting for
// its request is closed to make room (the oldest being answered only when none waits), so a
// flood of idle connections can neither lock a scrape out nor cut its answer off. Out of file
// descriptors, the loop closes the oldest waiting connection to accept the next one, or, with
// none, leaves the listener out of poll() briefly instead of spinning on it. A scrape is answered
// as soon as its request head is in (collecting takes far less than a poll round of any client).
//
// Why not prometheus::Exposer (prometheus-cpp-pull): Debian's civetweb runs its workers on
// 100 KiB stacks, out of which glibc carves the static TLS of every loaded library (glog and
// metis, pulled in by Ceres, take ~60 KiB), and libquadmath's printf hooks send civetweb's
// mg_printf through glibc's stack-hungry positional printf: the first scrape overflowed the
// stack and killed the server. This thread has the default 8 MiB stack.
//
// `GET /` (with or without a query string) is answered by an optional page handler: the status
// page (status_page.h). It runs on the same loop, so it must answer from memory in about the time
// a scrape takes to collect; while it runs, other connections wait.
//
// Thread safety: Start, port and the destructor from one controlling thread.
class MetricsHttpServer {
 public:
  // Answers `GET /?QUERY` with the query string (empty without '?'), on the serving thread.
  using PageHandler = std::function<HttpPage(absl::string_view query_string)>;

  // Listens on `address` ("host:port"; port 0 picks a free one) and starts serving. Without
  // `pages`, `/` is 404 like every path but /metrics.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
      PageHandler pages = nullptr);
  // Stops serving: wakes the loop, which ends at once and closes every connection, so an answer
  // still being sent is cut short (the scraper sees a failed scrape); then closes the listening
  // socket. Only an answer being collected is finished first: collecting runs on the loop.
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsHttpServer(int listen_fd, int wake_fd, int port,
                    std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                    PageHandler pages);
  struct Connection;
  // The oldest connection still waiting for its request head, or end().
  static std::vector<Connection>::iterator OldestWaiting(std::vector<Connection>& connections);
  void Run();
  // Reads what `connection` sent, or sends what it is owed; false once it is finished.
  bool Advance(Connection& connection) const;
  std::string Respond(const std::string& head) const;

  const int listen_fd_;
  const int wake_fd_;  // eventfd written by the destructor to end Run()
  const int port_;
  const std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  const PageHandler pages_;
  std::thread thread_;
};

}  // namespace perfcast::server
