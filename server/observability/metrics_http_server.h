#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"

namespace perfcast::server {

// Serves the Prometheus text exposition of some collectables on `GET /metrics` (plain HTTP/1.x,
// `Connection: close`), one connection at a time, on its own thread. A scrape is a few kB
// every few seconds, so one thread is plenty.
//
// Why not prometheus::Exposer (prometheus-cpp-pull): Debian's civetweb runs its workers on
// 100 KiB stacks, out of which glibc carves the static TLS of every loaded library (glog and
// metis, pulled in by Ceres, take ~60 KiB), and libquadmath's printf hooks send civetweb's
// mg_printf through glibc's stack-hungry positional printf: the first scrape overflowed the
// stack and killed the server. This thread has the default 8 MiB stack.
//
// Thread safety: Start, port and the destructor from one controlling thread.
class MetricsHttpServer {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one) and starts serving.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  ~MetricsHttpServer();  // Stops serving and closes the socket; a scrape in progress finishes.
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsHttpServer(int listen_fd, int wake_fd, int port,
                    std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  void Run();
  void ServeConnection(int fd) const;

  const int listen_fd_;
  const int wake_fd_;  // eventfd written by the destructor to end Run()
  const int port_;
  const std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::thread thread_;
};

}  // namespace perfcast::server
