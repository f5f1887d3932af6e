#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/data/benchmark_record.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "perfcast/v1/perfcast.grpc.pb.h"
#include "server/perfcast_server.h"
#include "server/rpc/authorization.h"

namespace perfcast::server::testing {

// The authorization metadata of one token per role, as ThreeRoleAuthorizer knows them.
inline constexpr char kReader[] = "Bearer read-token-0123456789";
inline constexpr char kWriter[] = "Bearer write-token-0123456789";
inline constexpr char kAdmin[] = "Bearer admin-token-0123456789";

// An authorizer with one token per role (callers dashboard, pipeline and operator).
inline std::shared_ptr<const Authorizer> ThreeRoleAuthorizer() {
  absl::StatusOr<Authorizer> tokens = Authorizer::FromCsv(
      "token,name,role\n"
      "read-token-0123456789,dashboard,read\n"
      "write-token-0123456789,pipeline,write\n"
      "admin-token-0123456789,operator,admin\n",
      "tokens.csv");
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  return tokens.ok() ? std::make_shared<const Authorizer>(*std::move(tokens)) : nullptr;
}

// A fresh directory under $TEST_TMPDIR or /tmp, removed on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(base != nullptr ? base : "/tmp", "/perfcast-test-XXXXXX");
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Configuration TestConfiguration(int i) {
  Configuration c;
  c.hardware = i % 2 == 0 ? "H100-SXM-80GB" : "A100-SXM-80GB";
  c.num_gpus = 1 + i / 2;
  c.framework = "vllm";
  c.model = "meta-llama/Llama-3.1-8B-Instruct";
  c.precision = "fp16";
  return c;
}

// Saturating throughput: c - a * exp(-b * batch), scaled per configuration and shape.
inline double TestThroughput(int config, int input_tokens, int output_tokens, int batch) {
  const double ceiling =
      4000.0 * (1 + config) * 256.0 / (128.0 + input_tokens) * (output_tokens >= 256 ? 1.1 : 1.0);
  return ceiling - 0.9 * ceiling * std::exp(-0.08 * batch);
}

inline std::vector<int> TestBatchSizes() { return {1, 2, 4, 8, 16, 32, 64, 128}; }

// A small synthetic data set: `configs` configurations x 2 shapes x 8 batch sizes.
inline std::vector<BenchmarkRecord> TestRecords(int configs, const std::string& source = "test") {
  std::vector<BenchmarkRecord> records;
  for (int c = 0; c < configs; ++c) {
    for (auto [in, out] : {std::pair{128, 128}, std::pair{512, 256}}) {
      for (int b : TestBatchSizes()) {
        BenchmarkRecord r;
        r.configuration = TestConfiguration(c);
        r.shape = Shape{in, out};
        r.batch_size = b;
        r.throughput_tokens_per_s = TestThroughput(c, in, out, b);
        r.source = source;
        records.push_back(r);
      }
    }
  }
  return records;
}

inline void ToProto(const Configuration& c, v1::Configuration* out) {
  out->set_hardware(c.hardware);
  out->set_gpu_count(c.num_gpus);
  out->set_framework(c.framework);
  out->set_model(c.model);
  out->set_precision(c.precision);
  if (!c.campaign.empty()) out->set_campaign(c.campaign);
  out->set_batch_semantics(
      static_cast<v1::BatchSemantics>(static_cast<int>(c.batch_semantics) + 1));
}

inline v1::BenchmarkResult ToProto(const BenchmarkRecord& r) {
  v1::BenchmarkResult out;
  out.set_source_id(r.source);
  ToProto(r.configuration, out.mutable_configuration());
  out.set_input_tokens(r.shape.input_tokens);
  out.set_output_tokens(r.shape.output_tokens);
  out.set_batch_size(r.batch_size);
  out.set_throughput_tokens_per_second(r.throughput_tokens_per_s);
  return out;
}

// A CSV of `records` in the tidy schema, for seeding.
inline std::string WriteSeedCsv(const std::string& dir,
                                const std::vector<BenchmarkRecord>& records) {
  const std::string path = dir + "/seed.csv";
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fprintf(f,
               "source,campaign,hardware,num_gpus,framework,model,precision,input_tokens,"
               "output_tokens,batch_size,output_tokens_per_s\n");
  // The campaign column is written even when empty: without it the reader would take each
  // row's source for its campaign.
  for (const BenchmarkRecord& r : records) {
    std::fprintf(f, "%s,%s,%s,%d,%s,%s,%s,%d,%d,%d,%.6f\n", r.source.c_str(),
                 r.configuration.campaign.c_str(), r.configuration.hardware.c_str(),
                 r.configuration.num_gpus, r.configuration.framework.c_str(),
                 r.configuration.model.c_str(), r.configuration.precision.c_str(),
                 r.shape.input_tokens, r.shape.output_tokens, r.batch_size,
                 r.throughput_tokens_per_s);
  }
  std::fclose(f);
  return path;
}

// Options for an in-process server on 127.0.0.1 with a free port and the given directory.
inline ServerOptions TestServerOptions(const std::string& dir) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.metrics_address = "127.0.0.1:0";
  options.data_dir = dir + "/data";
  options.model_dir = dir + "/models";
  options.retrain.retrain_after_results = 0;  // tests refit explicitly
  options.retrain.quiet = absl::ZeroDuration();
  options.retrain.train.threads = 1;
  options.limits.max_queries_per_request = 100;
  options.limits.max_batch_sizes_per_query = 64;
  options.max_stream_results = 5000;
  return options;
}

inline std::shared_ptr<grpc::Channel> Connect(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

inline void SetDeadline(grpc::ClientContext* context, int seconds = 30) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
}

inline v1::Query TestQuery(int config, int input_tokens, int output_tokens,
                           std::vector<int> batch_sizes) {
  v1::Query q;
  ToProto(TestConfiguration(config), q.mutable_configuration());
  q.set_input_tokens(input_tokens);
  q.set_output_tokens(output_tokens);
  for (int b : batch_sizes) q.add_batch_sizes(b);
  return q;
}

// Polls `done` every 10 ms until it holds or `timeout` passes; returns its last value.
inline bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Starts an in-process server and waits until its startup (seeding, first training) is over.
// nullptr (with the reason in `error`) when Start fails.
inline std::unique_ptr<PerfcastServer> StartServer(const ServerOptions& options,
                                                   std::string* error = nullptr) {
  auto server = std::make_unique<PerfcastServer>(options);
  if (absl::Status started = server->Start(); !started.ok()) {
    if (error != nullptr) *error = started.ToString();
    return nullptr;
  }
  server->WaitUntilStarted();
  return server;
}

// Options for a server seeded with TestRecords(`configs`) from a CSV under `dir`.
inline ServerOptions SeededServerOptions(const std::string& dir, int configs = 4) {
  ServerOptions options = TestServerOptions(dir);
  options.seed_data = WriteSeedCsv(dir, TestRecords(configs));
  return options;
}

// GET http://127.0.0.1:`port``path`; the whole response (status line, headers, body), or "" when
// the connection fails.
inline std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n = 0;
      while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
        response.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  return response;
}

// The value of one series in a Prometheus text exposition (`series` as printed, labels included,
// e.g. `perfcast_interval_checks_total{confidence_level="0.9"}`); NaN when absent.
inline double MetricValue(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return std::nan("");
}

// A started in-process server seeded with the synthetic data of `configs` configurations and
// trained once (version 1), with stubs of both services; Restart starts it again on new options.
class SeededServerTest : public ::testing::Test {
 protected:
  explicit SeededServerTest(int configs = 4) : configs_(configs) {}

  void SetUp() override { Restart(SeededServerOptions(dir_.path(), configs_)); }

  void Restart(const ServerOptions& options) {
    server_.reset();
    std::string error;
    server_ = StartServer(options, &error);
    ASSERT_NE(server_, nullptr) << error;
    channel_ = Connect(server_->port());
    predictions_ = v1::PredictionService::NewStub(channel_);
    models_ = v1::ModelService::NewStub(channel_);
  }

  v1::GetModelStatusResponse Status(const v1::ModelSpec& spec = {}) {
    v1::GetModelStatusRequest request;
    *request.mutable_model_spec() = spec;
    v1::GetModelStatusResponse response;
    grpc::ClientContext context;
    SetDeadline(&context);
    const grpc::Status status = models_->GetModelStatus(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  const int configs_;
  TempDir dir_;
  std::unique_ptr<PerfcastServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PredictionService::Stub> predictions_;
  std::unique_ptr<v1::ModelService::Stub> models_;
};

}  // namespace perfcast::server::testing
