#include "server/observability/metrics_http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace perfcast::server {
namespace {

// A request head larger than this is dropped; so is a connection whose exchange (request head
// in, answer out) takes longer than the deadline.
constexpr size_t kMaxRequestBytes = 8192;
constexpr absl::Duration kExchangeDeadline = absl::Seconds(5);
// Open connections at most; a new one beyond this closes the oldest. Prometheus holds one.
constexpr size_t kMaxConnections = 64;
// Room for a burst of connections before the loop accepts them: past the backlog the kernel
// drops SYNs and a client (a scrape among them) retries only a second later.
constexpr int kListenBacklog = 1024;
// Out of file descriptors with no idle connection to close: the listening socket stays readable,
// so it is left out of poll() this long rather than polled in a busy loop.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);

// accept4 failures that last until a descriptor or memory is freed.
bool OutOfResources(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

absl::Status Errno(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

bool HeadComplete(const std::string& head) {
  return head.find("\r\n\r\n") != std::string::npos || head.find("\n\n") != std::string::npos;
}

std::string Response(absl::string_view status, absl::string_view content_type,
                     absl::string_view body) {
  // HTML is the status page: should an escape ever be missed, the browser still runs no script
  // and fetches nothing (inline CSS and inline SVG need neither).
  const absl::string_view html_headers =
      absl::StartsWith(content_type, "text/html")
          ? "\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:; form-action 'self'\r\nX-Content-Type-Options: nosniff"
          : "";
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type, html_headers,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
}

absl::string_view StatusLine(int status_code) {
  switch (status_code) {
    case 200:
      return "200 OK";
    case 400:
      return "400 Bad Request";
    case 404:
      return "404 Not Found";
    case 503:
      return "503 Service Unavailable";
    default:
      return "500 Internal Server Error";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
    PageHandler pages) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "': expected host:port"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string service = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "': ", ::gai_strerror(rc)));
  }
  int fd = -1;
  absl::Status status = absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, kListenBacklog) != 0 ||
        ::fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
      status = Errno(absl::StrCat("bind/listen ", address));
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return status;

  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  const int wake = ::eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    absl::Status error = Errno("eventfd");
    ::close(fd);
    return error;
  }
  return std::unique_ptr<MetricsHttpServer>(
      new MetricsHttpServer(fd, wake, port, std::move(collectables), std::move(pages)));
}

MetricsHttpServer::MetricsHttpServer(
    int listen_fd, int wake_fd, int port,
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables, PageHandler pages)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port),
      collectables_(std::move(collectables)),
      pages_(std::move(pages)),
      thread_([this] { Run(); }) {}

MetricsHttpServer::~MetricsHttpServer() {
  const uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) < 0) {
    // Cannot happen for an eventfd below its maximum; Run() would then never end.
    std::abort();
  }
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

struct MetricsHttpServer::Connection {
  int fd = -1;
  absl::Time deadline;
  std::string head;    // request bytes so far
  std::string answer;  // set once the head is complete
  size_t sent = 0;
};

// A connection waiting for its request head has cost nothing yet and may be one of an idle
// flood, while one being answered is a scrape.
std::vector<MetricsHttpServer::Connection>::iterator MetricsHttpServer::OldestWaiting(
    std::vector<Connection>& connections) {
  return std::find_if(connections.begin(), connections.end(),
                      [](const Connection& c) { return c.answer.empty(); });
}

void MetricsHttpServer::Run() {
  std::vector<Connection> connections;  // oldest first
  std::vector<pollfd> fds;
  absl::Time accept_paused_until = absl::InfinitePast();
  while (true) {
    // fd -1: poll() skips the listener while accepting is paused.
    const bool accepting = absl::Now() >= accept_paused_until;
    fds.assign({{accepting ? listen_fd_ : -1, POLLIN, 0}, {wake_fd_, POLLIN, 0}});
    absl::Time next_deadline = accepting ? absl::InfiniteFuture() : accept_paused_until;
    for (const Connection& c : connections) {
      fds.push_back({c.fd, static_cast<short>(c.answer.empty() ? POLLIN : POLLOUT), 0});
      next_deadline = std::min(next_deadline, c.deadline);
    }
    const int timeout_ms =
        next_deadline == absl::InfiniteFuture()
            ? -1
            : static_cast<int>(
                  std::max<int64_t>(0, absl::ToInt64Milliseconds(next_deadline - absl::Now()) + 1));
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;
    // Advance the connections that are ready, drop the finished and the expired.
    const absl::Time now = absl::Now();
    std::vector<Connection> open;
    open.reserve(connections.size() + 1);
    for (size_t i = 0; i < connections.size(); ++i) {
      Connection& c = connections[i];
      const bool ready = fds[i + 2].revents != 0;
      if ((ready && !Advance(c)) || (now >= c.deadline)) {
        ::close(c.fd);
        continue;
      }
      open.push_back(std::move(c));
    }
    connections = std::move(open);
    if ((fds[0].revents & POLLIN) != 0) {
      while (true) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
          if (errno == EINTR || errno == ECONNABORTED) continue;
          if (!OutOfResources(errno)) break;  // EAGAIN: none left
          // accept4 reports the shortage before it looks at the queue: free a descriptor only
          // for a connection that is waiting.
          pollfd pending{listen_fd_, POLLIN, 0};
          if (::poll(&pending, 1, 0) != 1) break;
          // The pending connection stays queued and the listener readable: free a descriptor
          // by closing the oldest idle connection and accept again, or stop polling the
          // listener for a while, which would otherwise wake poll() at once, forever.
          const auto idle = OldestWaiting(connections);
          if (idle == connections.end()) {
            accept_paused_until = absl::Now() + kAcceptPause;
            break;
          }
          ::close(idle->fd);
          connections.erase(idle);
          continue;
        }
        if (connections.size() >= kMaxConnections) {
          // Idle connections go first, so a flood of them cannot cut off a scrape's answer.
          auto doomed = OldestWaiting(connections);
          if (doomed == connections.end()) doomed = connections.begin();
          ::close(doomed->fd);
          connections.erase(doomed);
        }
        connections.push_back(Connection{fd, absl::Now() + kExchangeDeadline, {}, {}, 0});
      }
    }
  }
  for (const Connection& c : connections) ::close(c.fd);
}

bool MetricsHttpServer::Advance(Connection& c) const {
  if (c.answer.empty()) {
    char buffer[1024];
    const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), 0);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (n == 0) return false;  // closed before a whole request
    c.head.append(buffer, static_cast<size_t>(n));
    if (c.head.size() > kMaxRequestBytes) return false;
    if (!HeadComplete(c.head)) return true;
    c.answer = Respond(c.head);
  }
  // Usually the whole answer fits the socket buffer at once; otherwise the rest waits for POLLOUT.
  while (c.sent < c.answer.size()) {
    const ssize_t n =
        ::send(c.fd, c.answer.data() + c.sent, c.answer.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.sent += static_cast<size_t>(n);
  }
  return false;  // answered: close
}

std::string MetricsHttpServer::Respond(const std::string& head) const {
  const absl::string_view request_line = absl::string_view(head).substr(0, head.find('\n'));
  if (!absl::StartsWith(request_line, "GET ")) {
    return Response("405 Method Not Allowed", "text/plain", "only GET /metrics\n");
  }
  // "GET <target> HTTP/1.x": the target runs to the next space.
  const absl::string_view after_method = request_line.substr(4);
  const absl::string_view target = after_method.substr(0, after_method.find(' '));
  const size_t question = target.find('?');
  const absl::string_view path = target.substr(0, question);
  if (path == "/" && pages_ != nullptr) {
    const HttpPage page =
        pages_(question == absl::string_view::npos ? "" : target.substr(question + 1));
    return Response(StatusLine(page.status_code), page.content_type, page.body);
  }
  if (path != "/metrics") {
    return Response("404 Not Found", "text/plain",
                    pages_ != nullptr ? "metrics are at /metrics, the status page at /\n"
                                      : "metrics are at /metrics\n");
  }
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables_) {
    std::vector<prometheus::MetricFamily> collected = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  const std::string body = prometheus::TextSerializer().Serialize(families);
  return Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", body);
}

}  // namespace perfcast::server
