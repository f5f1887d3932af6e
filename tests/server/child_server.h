#pragma once

// The built perfcast-server binary run as a child process, for what an in-process server
// cannot show: kill -9, SIGTERM handling and the exit status.

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server::testing {

class ChildServer {
 public:
  // Runs `binary` with `args` plus a free gRPC and metrics port on 127.0.0.1; stdout and stderr
  // go to `log_path`. nullptr when the child does not write its port within 30 s.
  static std::unique_ptr<ChildServer> Start(const std::string& binary,
                                            const std::vector<std::string>& args,
                                            const std::string& log_path) {
    const std::string port_file = log_path + ".port";
    std::remove(port_file.c_str());
    std::vector<std::string> argv_storage = {binary, "--host=127.0.0.1", "--port=0",
                                             "--metrics_port=0",
                                             absl::StrCat("--port_file=", port_file)};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    auto child = std::unique_ptr<ChildServer>(new ChildServer(pid, log_path));
    const bool listening = WaitFor(
        [&] {
          std::ifstream in(port_file);
          return static_cast<bool>(in >> child->port_);
        },
        absl::Seconds(30));
    if (!listening) return nullptr;
    return child;
  }

  ~ChildServer() {
    if (running_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;

  int port() const { return port_; }
  void Signal(int signal_number) const { ::kill(pid_, signal_number); }

  // The wait status (see WIFEXITED) once the child has exited, or nullopt after `timeout`.
  std::optional<int> WaitExit(absl::Duration timeout) {
    int status = 0;
    const bool exited = WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!exited) return std::nullopt;
    running_ = false;
    return status;
  }

  std::string Log() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  ChildServer(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}

  const pid_t pid_;
  const std::string log_path_;
  int port_ = 0;
  bool running_ = true;
};

}  // namespace perfcast::server::testing
