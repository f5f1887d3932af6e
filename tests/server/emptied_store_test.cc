// The issue "Trust": a benchmark store that was deleted or truncated beside existing model
// versions stops the start unless allowed, and a refit does not replace a model with one trained
// on far fewer points unless a Refit asks for it.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/perfcast_server.h"
#include "server/store/store_seeding.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using ::perfcast::server::testing::Connect;
using ::perfcast::server::testing::SeededServerOptions;
using ::perfcast::server::testing::SetDeadline;
using ::perfcast::server::testing::StartServer;
using ::perfcast::server::testing::TempDir;
using ::perfcast::server::testing::TestRecords;
using ::perfcast::server::testing::TestServerOptions;
using ::perfcast::server::testing::ToProto;
using ::testing::HasSubstr;

constexpr int kSeedConfigurations = 4;

// The SQLite store of a server started with TestServerOptions(`dir`).
std::string StorePath(const std::string& dir) { return dir + "/data/benchmarks.sqlite3"; }

// Runs a server on `dir` once (seeded, trained: version 1) and stops it.
void TrainOnce(const std::string& dir) {
  std::unique_ptr<PerfcastServer> server =
      StartServer(SeededServerOptions(dir, kSeedConfigurations));
  ASSERT_NE(server, nullptr);
  server->Shutdown(absl::ZeroDuration());
}

// Empties the store the way an operator's mistake does: truncated to zero bytes, or deleted.
void Truncate(const std::string& path) {
  std::filesystem::resize_file(path, 0);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}
void Delete(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(EmptiedStoreTest, AnEmptiedStoreBesideModelVersionsStopsTheStart) {
  for (auto empty : {&Truncate, &Delete}) {
    TempDir dir;
    TrainOnce(dir.path());
    empty(StorePath(dir.path()));

    PerfcastServer server(SeededServerOptions(dir.path(), kSeedConfigurations));
    const absl::Status started = server.Start();
    EXPECT_EQ(started.code(), absl::StatusCode::kFailedPrecondition) << started;
    EXPECT_TRUE(IsEmptiedStore(started));
    EXPECT_THAT(started.message(), HasSubstr("holds no results, yet 1 model versions exist"));
  }
}

TEST(EmptiedStoreTest, AllowedOnPurposeTheOldModelKeepsServing) {
  TempDir dir;
  TrainOnce(dir.path());
  Truncate(StorePath(dir.path()));
  ServerOptions options = SeededServerOptions(dir.path(), kSeedConfigurations);
  options.allow_empty_store = true;
  std::unique_ptr<PerfcastServer> server = StartServer(options);
  ASSERT_NE(server, nullptr);
  auto models = v1::ModelService::NewStub(Connect(server->port()));
  v1::GetModelStatusResponse status;
  grpc::ClientContext context;
  SetDeadline(&context);
  ASSERT_TRUE(models->GetModelStatus(&context, v1::GetModelStatusRequest(), &status).ok());
  EXPECT_EQ(status.stored_result_count(), 0);
  ASSERT_GE(status.model_version_statuses_size(), 1);
  EXPECT_EQ(status.model_version_statuses(0).state(), v1::ModelVersionStatus::STATE_AVAILABLE);
}

TEST(EmptiedStoreTest, TheServerBinaryExitsNonZeroNamingTheFlag) {
  TempDir dir;
  TrainOnce(dir.path());
  Truncate(StorePath(dir.path()));
  const std::string command = std::string(PERFCAST_SERVER_BINARY) +
                              " --host=127.0.0.1 --port=0 --metrics-port=-1" +
                              " --catalogue=none --data-dir=" + dir.path() +
                              "/data --model-dir=" + dir.path() + "/models 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << output;
  EXPECT_THAT(output, HasSubstr("event=start_failed"));
  EXPECT_THAT(output, HasSubstr("--allow-empty-store"));
}

class ShrinkTest : public ::testing::Test {
 protected:
  // A server on an emptied store, allowed on purpose, that then took 24 new results: the store
  // now holds fewer than half the 64 points version 1 was trained on.
  void SetUp() override {
    TrainOnce(dir_.path());
    Truncate(StorePath(dir_.path()));
    ServerOptions options = TestServerOptions(dir_.path());
    options.allow_empty_store = true;
    server_ = StartServer(options);
    ASSERT_NE(server_, nullptr);
    models_ = v1::ModelService::NewStub(Connect(server_->port()));
    for (const BenchmarkRecord& record : TestRecords(2, "after-loss")) {
      if (stored_ == 24) break;
      v1::SubmitBenchmarkRequest request;
      *request.mutable_result() = ToProto(record);
      v1::SubmitBenchmarkResponse response;
      grpc::ClientContext context;
      SetDeadline(&context);
      ASSERT_TRUE(models_->SubmitBenchmark(&context, request, &response).ok());
      ++stored_;
    }
  }

  grpc::Status Refit(bool allow_shrink, v1::RefitResponse* response) {
    v1::RefitRequest request;
    request.set_wait(true);
    request.set_allow_shrink(allow_shrink);
    grpc::ClientContext context;
    SetDeadline(&context, 120);
    return models_->Refit(&context, request, response);
  }

  v1::GetModelStatusResponse Status() {
    v1::GetModelStatusResponse response;
    grpc::ClientContext context;
    SetDeadline(&context);
    EXPECT_TRUE(models_->GetModelStatus(&context, v1::GetModelStatusRequest(), &response).ok());
    return response;
  }

  TempDir dir_;
  std::unique_ptr<PerfcastServer> server_;
  std::unique_ptr<v1::ModelService::Stub> models_;
  int stored_ = 0;
};

TEST_F(ShrinkTest, ARefitOnFarFewerPointsKeepsTheServingModelAndSaysWhy) {
  v1::RefitResponse response;
  const grpc::Status status = Refit(/*allow_shrink=*/false, &response);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("allow_shrink"));
  const v1::GetModelStatusResponse after = Status();
  EXPECT_EQ(after.model_version_statuses(0).version(), 1);
  EXPECT_EQ(after.model_version_statuses(0).state(), v1::ModelVersionStatus::STATE_AVAILABLE);
  EXPECT_EQ(after.last_refit().outcome(), v1::RefitStatus::OUTCOME_FAILED);
  EXPECT_THAT(after.last_refit().error_message(), HasSubstr("points of serving version 1"));
}

TEST_F(ShrinkTest, ARefitThatAllowsShrinkingReplacesTheModel) {
  v1::RefitResponse response;
  const grpc::Status status = Refit(/*allow_shrink=*/true, &response);

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model_version(), 2);
  EXPECT_EQ(Status().model_version_statuses(0).training_point_count(), stored_);
}

}  // namespace
}  // namespace perfcast::server
