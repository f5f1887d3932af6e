// perfcast-server as a separate process: acknowledged results survive kill -9, and SIGTERM
// drains in-flight RPCs, commits them and exits 0.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/sqlite_benchmark_store.h"
#include "tests/server/child_server.h"
#include "tests/server/generic_grpc_calls.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using ::perfcast::server::testing::ChildServer;
using ::perfcast::server::testing::Connect;
using ::perfcast::server::testing::HealthCheck;
using ::perfcast::server::testing::SetDeadline;
using ::perfcast::server::testing::TempDir;
using ::perfcast::server::testing::TestQuery;
using ::perfcast::server::testing::TestRecords;
using ::perfcast::server::testing::ToProto;
using ::perfcast::server::testing::WaitFor;
using ::perfcast::server::testing::WriteSeedCsv;
using ::testing::HasSubstr;

constexpr char kServerBinary[] = PERFCAST_SERVER_BINARY;
constexpr int kChunks = 5;
constexpr int kResultsPerChunk = 20;

std::vector<std::string> ServerArgs(const std::string& dir, const std::string& seed_data) {
  return {absl::StrCat("--data_dir=", dir, "/data"),
          absl::StrCat("--model_dir=", dir, "/models"),
          absl::StrCat("--seed_data=", seed_data),
          "--retrain_after_results=0",
          "--retrain_quiet_seconds=0",
          "--drain_seconds=10"};
}

// A distinct, valid result: configuration 0, shape 128/128, key made unique by `source`.
v1::BenchmarkResult UniqueResult(const std::string& source, int batch) {
  BenchmarkRecord record = TestRecords(1, source).front();
  record.batch_size = batch;
  record.throughput_tokens_per_s = 1000 + batch;
  return ToProto(record);
}

// Streams are acknowledged by their reply; a result counts as acknowledged only then.
TEST(ServerProcessTest, AcknowledgedResultsSurviveKillNine) {
  TempDir dir;
  std::unique_ptr<ChildServer> child =
      ChildServer::Start(kServerBinary, ServerArgs(dir.path(), ""), dir.path() + "/first.log");
  ASSERT_NE(child, nullptr);
  auto stub = v1::ModelService::NewStub(Connect(child->port()));

  absl::Mutex mutex;
  std::vector<v1::BenchmarkResult> acknowledged;
  std::atomic<int> streams_acknowledged{0};
  std::atomic<bool> mid_stream{false};
  std::thread submitter([&] {
    for (int s = 0;; ++s) {
      grpc::ClientContext context;
      SetDeadline(&context);
      v1::SubmitBenchmarksResponse response;
      auto stream = stub->SubmitBenchmarks(&context, &response);
      std::vector<v1::BenchmarkResult> sent;
      bool written = true;
      for (int c = 0; c < kChunks && written; ++c) {
        v1::SubmitBenchmarksRequest chunk;
        for (int i = 0; i < kResultsPerChunk; ++i) {
          sent.push_back(UniqueResult(absl::StrCat("stream-", s, "-", c), 1 + i));
          *chunk.add_results() = sent.back();
        }
        written = stream->Write(chunk);
        mid_stream = true;
      }
      stream->WritesDone();
      const grpc::Status status = stream->Finish();
      mid_stream = false;
      if (!status.ok()) return;  // the server died under us: nothing of this stream is acked
      EXPECT_EQ(response.accepted_count(), static_cast<int64_t>(sent.size()));
      absl::MutexLock lock(&mutex);
      acknowledged.insert(acknowledged.end(), sent.begin(), sent.end());
      ++streams_acknowledged;
    }
  });
  ASSERT_TRUE(WaitFor([&] { return streams_acknowledged >= 5 && mid_stream; }, absl::Seconds(60)));
  child->Signal(SIGKILL);
  submitter.join();
  const std::optional<int> killed = child->WaitExit(absl::Seconds(10));
  ASSERT_TRUE(killed.has_value());
  EXPECT_TRUE(WIFSIGNALED(*killed));

  child = ChildServer::Start(kServerBinary, ServerArgs(dir.path(), ""), dir.path() + "/second.log");
  ASSERT_NE(child, nullptr);
  stub = v1::ModelService::NewStub(Connect(child->port()));
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::SubmitBenchmarksResponse again;
  auto stream = stub->SubmitBenchmarks(&context, &again);
  v1::SubmitBenchmarksRequest chunk;
  for (const v1::BenchmarkResult& r : acknowledged) *chunk.add_results() = r;
  ASSERT_TRUE(stream->Write(chunk));
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());

  // Every acknowledged result was already stored: all duplicates, none new.
  EXPECT_EQ(again.duplicate_count(), static_cast<int64_t>(acknowledged.size()));
  EXPECT_EQ(again.accepted_count(), 0);
  child->Signal(SIGTERM);
  ASSERT_TRUE(child->WaitExit(absl::Seconds(30)).has_value());
}

// The per-caller limits are opt-in: a bulk import well past what the old default of 1000 results
// per second (bursts of 10,000) allowed is stored whole by a server started without them.
TEST(ServerProcessTest, BulkImportIsNotRateLimitedByDefault) {
  TempDir dir;
  std::unique_ptr<ChildServer> child =
      ChildServer::Start(kServerBinary, ServerArgs(dir.path(), ""), dir.path() + "/server.log");
  ASSERT_NE(child, nullptr);
  auto stub = v1::ModelService::NewStub(Connect(child->port()));
  constexpr int kSources = 300;
  constexpr int kBatchesPerSource = 50;
  grpc::ClientContext context;
  SetDeadline(&context, 120);
  v1::SubmitBenchmarksResponse response;
  auto stream = stub->SubmitBenchmarks(&context, &response);
  for (int s = 0; s < kSources; s += 10) {
    v1::SubmitBenchmarksRequest chunk;
    for (int source = s; source < s + 10; ++source) {
      for (int b = 1; b <= kBatchesPerSource; ++b) {
        *chunk.add_results() = UniqueResult(absl::StrCat("bulk-", source), b);
      }
    }
    if (!stream->Write(chunk)) break;  // the server ended the stream: Finish says why
  }
  stream->WritesDone();
  const grpc::Status finished = stream->Finish();

  ASSERT_TRUE(finished.ok()) << finished.error_code() << ": " << finished.error_message();
  EXPECT_EQ(response.accepted_count(), kSources * kBatchesPerSource);
  child->Signal(SIGTERM);
  ASSERT_TRUE(child->WaitExit(absl::Seconds(30)).has_value());
}

TEST(ServerProcessTest, SigtermDrainsInFlightStreamCommitsAndExitsZero) {
  TempDir dir;
  const std::string seed = WriteSeedCsv(dir.path(), TestRecords(4));
  std::unique_ptr<ChildServer> child =
      ChildServer::Start(kServerBinary, ServerArgs(dir.path(), seed), dir.path() + "/server.log");
  ASSERT_NE(child, nullptr);
  std::shared_ptr<grpc::Channel> channel = Connect(child->port());
  ASSERT_TRUE(WaitFor(
      [&] { return HealthCheck(channel, "perfcast.v1.PredictionService").value_or(0) == 1; },
      absl::Seconds(30)));
  auto stub = v1::ModelService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::SubmitBenchmarksResponse response;
  auto stream = stub->SubmitBenchmarks(&context, &response);
  v1::SubmitBenchmarksRequest chunk;
  for (int i = 0; i < 10; ++i) *chunk.add_results() = UniqueResult("before-sigterm", 200 + i);
  ASSERT_TRUE(stream->Write(chunk));
  // A written message may still sit in a buffer; the stream is in flight once the server has
  // received it, and only then must a drain let it finish.
  const std::string log = child->Log();
  const size_t metrics_at = log.find("metrics_port=");
  ASSERT_NE(metrics_at, std::string::npos) << log;
  const int metrics_port = std::atoi(log.c_str() + metrics_at + std::strlen("metrics_port="));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::istringstream lines(testing::HttpGet(metrics_port, "/metrics"));
        for (std::string line; std::getline(lines, line);) {
          if (line.rfind("grpc_server_msg_received_total{", 0) == 0 &&
              line.find("grpc_method=\"SubmitBenchmarks\"") != std::string::npos) {
            return std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr) >= 1;
          }
        }
        return false;
      },
      absl::Seconds(10)));

  child->Signal(SIGTERM);
  ASSERT_TRUE(
      WaitFor([&] { return child->Log().find("event=shutdown_started") != std::string::npos; },
              absl::Seconds(10)));
  // Draining: new calls are turned away while the stream that was in flight goes on.
  auto predictions = v1::PredictionService::NewStub(Connect(child->port()));
  v1::PredictRequest request;
  *request.add_queries() = TestQuery(0, 128, 128, {1});
  EXPECT_TRUE(WaitFor(
      [&] {
        v1::PredictResponse predicted;
        grpc::ClientContext late;
        SetDeadline(&late, 5);
        return predictions->Predict(&late, request, &predicted).error_code() ==
               grpc::StatusCode::UNAVAILABLE;
      },
      absl::Seconds(5)));
  chunk.clear_results();
  for (int i = 0; i < 10; ++i) *chunk.add_results() = UniqueResult("after-sigterm", 200 + i);
  ASSERT_TRUE(stream->Write(chunk));
  stream->WritesDone();
  const grpc::Status finished = stream->Finish();

  ASSERT_TRUE(finished.ok()) << finished.error_message();
  EXPECT_EQ(response.accepted_count(), 20);
  const std::optional<int> exit_status = child->WaitExit(absl::Seconds(30));
  ASSERT_TRUE(exit_status.has_value());
  ASSERT_TRUE(WIFEXITED(*exit_status));
  EXPECT_EQ(WEXITSTATUS(*exit_status), 0);
  const std::string final_log = child->Log();
  EXPECT_THAT(final_log, HasSubstr("event=signal_received signal=15"));
  EXPECT_THAT(final_log, HasSubstr("event=rpcs_drained"));
  EXPECT_THAT(final_log, HasSubstr("event=store_writes_flushed results=84"));
  EXPECT_THAT(final_log, HasSubstr("event=shutdown_done"));
  absl::StatusOr<std::unique_ptr<SqliteBenchmarkStore>> store =
      SqliteBenchmarkStore::Open(dir.path() + "/data/benchmarks.sqlite3");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->count(), 64 + 20);
}

}  // namespace
}  // namespace perfcast::server
