// Reads never fail or block while results stream in and refits swap the model underneath.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/perfcast_server.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using ::perfcast::server::testing::Connect;
using ::perfcast::server::testing::SeededServerOptions;
using ::perfcast::server::testing::SetDeadline;
using ::perfcast::server::testing::StartServer;
using ::perfcast::server::testing::TempDir;
using ::perfcast::server::testing::TestConfiguration;
using ::perfcast::server::testing::TestQuery;
using ::perfcast::server::testing::TestThroughput;
using ::perfcast::server::testing::ToProto;
using ::perfcast::server::testing::WaitFor;

constexpr int kPredictThreads = 8;
constexpr int kStreamedResults = 1000;
constexpr int kChunkSize = 50;
constexpr int kSeedRecords = 4 * 2 * 8;

// Result i: one of the 4 seeded configurations at a shape the seed lacks, each key distinct.
v1::BenchmarkResult StreamedResult(int i) {
  const int config = i % 4;
  const int batch = 1 + (i / 4) % 250;
  v1::BenchmarkResult result;
  result.set_source_id(absl::StrCat("concurrency-", i / 1000));
  ToProto(TestConfiguration(config), result.mutable_configuration());
  result.set_input_tokens(1024);
  result.set_output_tokens(128 + 128 * (i / 1000));
  result.set_batch_size(batch);
  result.set_throughput_tokens_per_second(TestThroughput(config, 1024, 128, batch));
  return result;
}

// Written by one predictor thread; `last_version` is also read by the main thread.
struct PredictorTally {
  int64_t ok = 0;
  int64_t failed = 0;
  bool versions_never_went_back = true;
  int64_t first_version = 0;
  std::atomic<int64_t> last_version{0};
  std::string first_error;
};

TEST(ServerConcurrencyTest, StreamAndRefitWhilePredictingFromEightThreadsFailsNoPredict) {
  TempDir dir;
  std::unique_ptr<PerfcastServer> server = StartServer(SeededServerOptions(dir.path()));
  ASSERT_NE(server, nullptr);
  std::shared_ptr<grpc::Channel> channel = Connect(server->port());
  auto models = v1::ModelService::NewStub(channel);

  std::atomic<bool> stop{false};
  std::vector<PredictorTally> tallies(kPredictThreads);
  std::vector<std::thread> predictors;
  for (int t = 0; t < kPredictThreads; ++t) {
    predictors.emplace_back([&, t] {
      // One channel per thread, as independent clients would have.
      auto stub = v1::PredictionService::NewStub(Connect(server->port()));
      v1::PredictRequest request;
      *request.add_queries() = TestQuery(t % 4, 128 * (1 + t % 3), 128, {1, 8, 64});
      PredictorTally& tally = tallies[static_cast<size_t>(t)];
      while (!stop) {
        v1::PredictResponse response;
        grpc::ClientContext context;
        SetDeadline(&context);
        const grpc::Status status = stub->Predict(&context, request, &response);
        if (!status.ok()) {
          if (tally.failed++ == 0) tally.first_error = status.error_message();
          continue;
        }
        if (tally.ok++ == 0) tally.first_version = response.model_version();
        if (response.model_version() < tally.last_version) tally.versions_never_went_back = false;
        tally.last_version = response.model_version();
      }
    });
  }

  grpc::ClientContext context;
  SetDeadline(&context, 120);
  v1::SubmitBenchmarksResponse submitted;
  auto stream = models->SubmitBenchmarks(&context, &submitted);
  for (int start = 0; start < kStreamedResults; start += kChunkSize) {
    v1::SubmitBenchmarksRequest chunk;
    for (int i = start; i < start + kChunkSize; ++i) *chunk.add_results() = StreamedResult(i);
    ASSERT_TRUE(stream->Write(chunk));
    if (start == kStreamedResults / 2) {
      // A refit mid-stream swaps the model while reads and writes go on.
      v1::RefitRequest refit;
      v1::RefitResponse refitted;
      grpc::ClientContext refit_context;
      SetDeadline(&refit_context, 120);
      ASSERT_TRUE(models->Refit(&refit_context, refit, &refitted).ok());
    }
  }
  stream->WritesDone();
  const grpc::Status streamed = stream->Finish();
  ASSERT_TRUE(streamed.ok()) << streamed.error_message();
  EXPECT_EQ(submitted.accepted_count(), kStreamedResults);
  v1::RefitRequest refit;
  refit.set_wait(true);
  v1::RefitResponse refitted;
  grpc::ClientContext refit_context;
  SetDeadline(&refit_context, 120);
  const grpc::Status refit_status = models->Refit(&refit_context, refit, &refitted);
  ASSERT_TRUE(refit_status.ok()) << refit_status.error_message();
  // Version 2 came from the refit mid-stream (unless the second request joined it while still
  // queued); either way every reader moves on to the newest version.
  EXPECT_GE(refitted.model_version(), 2);
  const int64_t newest = refitted.model_version();
  EXPECT_TRUE(WaitFor(
      [&] {
        return std::all_of(tallies.begin(), tallies.end(),
                           [&](const PredictorTally& t) { return t.last_version == newest; });
      },
      absl::Seconds(30)));
  stop = true;
  for (std::thread& t : predictors) t.join();

  for (const PredictorTally& tally : tallies) {
    EXPECT_EQ(tally.failed, 0) << tally.first_error;
    EXPECT_GT(tally.ok, 0);
    EXPECT_EQ(tally.first_version, 1);
    EXPECT_TRUE(tally.versions_never_went_back);
  }
  v1::GetModelStatusRequest status_request;
  v1::GetModelStatusResponse status;
  grpc::ClientContext status_context;
  SetDeadline(&status_context);
  ASSERT_TRUE(models->GetModelStatus(&status_context, status_request, &status).ok());
  EXPECT_EQ(status.stored_result_count(), kSeedRecords + kStreamedResults);
  EXPECT_EQ(status.model_version_statuses(0).training_point_count(),
            kSeedRecords + kStreamedResults);
}

}  // namespace
}  // namespace perfcast::server
