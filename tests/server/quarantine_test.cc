// The quarantine (server/rpc/quarantine_gate.h) through the gRPC API of an in-process server
// seeded with a small synthetic data set: results far from what the serving model predicts for
// their already-measured configuration and campaign are stored but never trained on, listed with
// their reason and submitter, released or dropped by an admin only, and kept across a restart.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/perfcast_server.h"
#include "server/rpc/authorization.h"
#include "tests/server/generic_grpc_calls.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using ::perfcast::server::testing::Connect;
using ::perfcast::server::testing::HttpGet;
using ::perfcast::server::testing::kAdmin;
using ::perfcast::server::testing::kReader;
using ::perfcast::server::testing::kWriter;
using ::perfcast::server::testing::RawClientStreamCall;
using ::perfcast::server::testing::RawUnaryCall;
using ::perfcast::server::testing::SeededServerOptions;
using ::perfcast::server::testing::StartServer;
using ::perfcast::server::testing::TempDir;
using ::perfcast::server::testing::TestRecords;
using ::perfcast::server::testing::ThreeRoleAuthorizer;
using ::perfcast::server::testing::ToProto;
using ::testing::HasSubstr;

constexpr int kSeedConfigurations = 4;
constexpr int kSeedResults = kSeedConfigurations * 2 * 8;
constexpr char kSubmitBenchmark[] = "/perfcast.v1.ModelService/SubmitBenchmark";
constexpr char kSubmitBenchmarks[] = "/perfcast.v1.ModelService/SubmitBenchmarks";
constexpr char kRefit[] = "/perfcast.v1.ModelService/Refit";
constexpr char kGetModelStatus[] = "/perfcast.v1.ModelService/GetModelStatus";
constexpr char kListQuarantined[] = "/perfcast.v1.ModelService/ListQuarantined";
constexpr char kReleaseQuarantined[] = "/perfcast.v1.ModelService/ReleaseQuarantined";
constexpr char kDropQuarantined[] = "/perfcast.v1.ModelService/DropQuarantined";

// A seeded result (configuration 0, 128/128, batch 16) at `factor` times its measured value, under
// a source id of its own; `campaign` "" is the seed's (unnamed) campaign.
BenchmarkRecord Scaled(double factor, const std::string& source, const std::string& campaign = "") {
  BenchmarkRecord r = TestRecords(1)[4];
  r.throughput_tokens_per_s *= factor;
  r.source = source;
  r.configuration.campaign = campaign;
  return r;
}

class QuarantineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = SeededServerOptions(dir_.path(), kSeedConfigurations);
    options_.authorizer = ThreeRoleAuthorizer();
    ASSERT_NE(options_.authorizer, nullptr);
    Start();
  }

  void Start() {
    std::string error;
    server_ = StartServer(options_, &error);
    ASSERT_NE(server_, nullptr) << error;
    channel_ = Connect(server_->port());
  }

  v1::SubmitBenchmarkResponse Submit(const BenchmarkRecord& record) {
    v1::SubmitBenchmarkRequest request;
    *request.mutable_result() = ToProto(record);
    std::string bytes;
    const grpc::Status status =
        RawUnaryCall(channel_, kSubmitBenchmark, request.SerializeAsString(), &bytes, kWriter);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::SubmitBenchmarkResponse response;
    EXPECT_TRUE(response.ParseFromString(bytes));
    return response;
  }

  v1::ListQuarantinedResponse List() {
    std::string bytes;
    const grpc::Status status = RawUnaryCall(channel_, kListQuarantined, "", &bytes, kAdmin);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::ListQuarantinedResponse response;
    EXPECT_TRUE(response.ParseFromString(bytes));
    return response;
  }

  v1::GetModelStatusResponse Status() {
    std::string bytes;
    const grpc::Status status = RawUnaryCall(channel_, kGetModelStatus, "", &bytes, kReader);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::GetModelStatusResponse response;
    EXPECT_TRUE(response.ParseFromString(bytes));
    return response;
  }

  // Refits and returns how many points the new model was trained on.
  int64_t RefitAndCountTrainingPoints() {
    v1::RefitRequest request;
    request.set_wait(true);
    std::string bytes;
    const grpc::Status status =
        RawUnaryCall(channel_, kRefit, request.SerializeAsString(), &bytes, kAdmin);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::RefitResponse refit;
    EXPECT_TRUE(refit.ParseFromString(bytes));
    const v1::GetModelStatusResponse versions = Status();
    for (const v1::ModelVersionStatus& v : versions.model_version_statuses()) {
      if (v.version() == refit.model_version()) return v.training_point_count();
    }
    ADD_FAILURE() << "version " << refit.model_version() << " not listed";
    return -1;
  }

  TempDir dir_;
  ServerOptions options_;
  std::unique_ptr<PerfcastServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(QuarantineTest, AResultFarFromItsMeasuredCurveIsStoredButNotTrainedOn) {
  const v1::SubmitBenchmarkResponse submitted = Submit(Scaled(100, "mallory-1"));

  EXPECT_TRUE(submitted.quarantined());
  EXPECT_THAT(submitted.quarantine_reason(), HasSubstr("prediction"));
  EXPECT_EQ(Status().stored_result_count(), kSeedResults);
  EXPECT_EQ(Status().results_since_refit_count(), 0);
  EXPECT_EQ(RefitAndCountTrainingPoints(), kSeedResults);
}

TEST_F(QuarantineTest, AQuarantinedResultIsListedWithItsReasonSubmitterAndTime) {
  const absl::Time before = absl::Now() - absl::Seconds(1);
  Submit(Scaled(100, "mallory-1"));

  const v1::ListQuarantinedResponse listed = List();

  ASSERT_EQ(listed.results_size(), 1);
  EXPECT_EQ(listed.total_count(), 1);
  const v1::QuarantinedResult& q = listed.results(0);
  EXPECT_GT(q.id(), 0);
  EXPECT_THAT(q.reason(), HasSubstr("100x the serving model's prediction"));
  EXPECT_THAT(q.reason(), HasSubstr("interval"));
  EXPECT_EQ(q.submitted_by(), "pipeline");
  EXPECT_GE(q.submit_time().seconds(), absl::ToUnixSeconds(before));
  EXPECT_EQ(q.result().source_id(), "mallory-1");
  EXPECT_DOUBLE_EQ(q.result().throughput_tokens_per_second(),
                   Scaled(100, "x").throughput_tokens_per_s);
}

TEST_F(QuarantineTest, ReleasedResultsAreTrainedOnAtTheNextRefit) {
  Submit(Scaled(100, "mallory-1"));
  const int64_t id = List().results(0).id();
  v1::ReleaseQuarantinedRequest request;
  request.add_ids(id);
  request.add_ids(id + 100);
  std::string bytes;

  const grpc::Status status =
      RawUnaryCall(channel_, kReleaseQuarantined, request.SerializeAsString(), &bytes, kAdmin);

  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::ReleaseQuarantinedResponse released;
  ASSERT_TRUE(released.ParseFromString(bytes));
  EXPECT_EQ(released.released_count(), 1);
  ASSERT_EQ(released.not_found_ids_size(), 1);
  EXPECT_EQ(released.not_found_ids(0), id + 100);
  EXPECT_EQ(List().results_size(), 0);
  EXPECT_EQ(Status().stored_result_count(), kSeedResults + 1);
  EXPECT_EQ(Status().results_since_refit_count(), 1) << "a released result is new work";
  EXPECT_EQ(RefitAndCountTrainingPoints(), kSeedResults + 1);
}

TEST_F(QuarantineTest, DroppedResultsAreDeleted) {
  Submit(Scaled(100, "mallory-1"));
  Submit(Scaled(0.01, "mallory-2"));
  const v1::ListQuarantinedResponse listed = List();
  ASSERT_EQ(listed.results_size(), 2);
  v1::DropQuarantinedRequest request;
  request.add_ids(listed.results(0).id());
  std::string bytes;

  const grpc::Status status =
      RawUnaryCall(channel_, kDropQuarantined, request.SerializeAsString(), &bytes, kAdmin);

  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::DropQuarantinedResponse dropped;
  ASSERT_TRUE(dropped.ParseFromString(bytes));
  EXPECT_EQ(dropped.dropped_count(), 1);
  const v1::ListQuarantinedResponse left = List();
  ASSERT_EQ(left.results_size(), 1);
  EXPECT_EQ(left.results(0).result().source_id(), "mallory-2");
  EXPECT_EQ(Status().stored_result_count(), kSeedResults);
  // Its key is free again: the same result is quarantined anew, not a duplicate.
  const v1::SubmitBenchmarkResponse again = Submit(Scaled(100, "mallory-1"));
  EXPECT_FALSE(again.duplicate());
  EXPECT_TRUE(again.quarantined());
}

TEST_F(QuarantineTest, ANewCampaignIsHeldBackOnlyBeyondWhatHarnessesExplain) {
  const v1::SubmitBenchmarkResponse three = Submit(Scaled(3, "lab-b-1", "lab-b"));
  const v1::SubmitBenchmarkResponse eight = Submit(Scaled(8, "lab-c-1", "lab-c"));
  // A new campaign at 100x the population's answer for a measured system: no harness does that.
  const v1::SubmitBenchmarkResponse hundred = Submit(Scaled(100, "lab-d-1", "lab-d"));
  // Without a campaign a result is checked the same way: a query without one asks for the
  // population, not for the submitters' unnamed campaign.
  const v1::SubmitBenchmarkResponse unnamed = Submit(Scaled(20, "own-1"));

  EXPECT_FALSE(three.quarantined()) << three.quarantine_reason();
  EXPECT_FALSE(eight.quarantined()) << eight.quarantine_reason();
  EXPECT_TRUE(hundred.quarantined());
  EXPECT_THAT(hundred.quarantine_reason(), ::testing::HasSubstr("this system over all campaigns"));
  EXPECT_TRUE(unnamed.quarantined());
  EXPECT_THAT(unnamed.quarantine_reason(), ::testing::HasSubstr("this system over all campaigns"));
  EXPECT_EQ(Status().stored_result_count(), kSeedResults + 2);
  EXPECT_EQ(List().results_size(), 2);
}

TEST_F(QuarantineTest, AResultCloseToItsCurveIsAccepted) {
  const v1::SubmitBenchmarkResponse close = Submit(Scaled(1.1, "honest-1"));

  EXPECT_FALSE(close.quarantined()) << close.quarantine_reason();
  EXPECT_EQ(Status().stored_result_count(), kSeedResults + 1);
}

TEST_F(QuarantineTest, AStreamCountsItsQuarantinedResultsApart) {
  v1::SubmitBenchmarksRequest chunk;
  *chunk.add_results() = ToProto(Scaled(100, "mallory-1"));
  *chunk.add_results() = ToProto(Scaled(1.05, "honest-1"));
  *chunk.add_results() = ToProto(Scaled(100, "mallory-2"));
  std::string bytes;

  const grpc::Status status = RawClientStreamCall(channel_, kSubmitBenchmarks,
                                                  {chunk.SerializeAsString()}, kWriter, &bytes);

  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::SubmitBenchmarksResponse response;
  ASSERT_TRUE(response.ParseFromString(bytes));
  EXPECT_EQ(response.accepted_count(), 1);
  EXPECT_EQ(response.quarantined_count(), 2);
  EXPECT_EQ(List().total_count(), 2);
  EXPECT_THAT(HttpGet(server_->metrics_port(), "/metrics"),
              HasSubstr("perfcast_benchmark_results_total{outcome=\"quarantined\"} 2"));
}

TEST_F(QuarantineTest, OnlyAnAdminMaySeeReleaseOrDropTheQuarantine) {
  Submit(Scaled(100, "mallory-1"));
  v1::ReleaseQuarantinedRequest ids;
  ids.add_ids(List().results(0).id());
  for (const char* method : {kListQuarantined, kReleaseQuarantined, kDropQuarantined}) {
    for (const char* token : {kReader, kWriter}) {
      const grpc::Status status =
          RawUnaryCall(channel_, method, ids.SerializeAsString(), nullptr, token);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << method << " " << token << ": " << status.error_message();
    }
    const grpc::Status anonymous = RawUnaryCall(channel_, method, ids.SerializeAsString());
    EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
  }
  EXPECT_EQ(List().results_size(), 1) << "a refused call changed the quarantine";
}

TEST_F(QuarantineTest, ReleaseWithoutIdsIsInvalid) {
  const grpc::Status status = RawUnaryCall(channel_, kReleaseQuarantined, "", nullptr, kAdmin);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("ids"));
}

TEST_F(QuarantineTest, TheQuarantineSurvivesARestart) {
  Submit(Scaled(100, "mallory-1"));
  const int64_t id = List().results(0).id();
  server_->Shutdown(absl::ZeroDuration());
  server_.reset();

  Start();

  const v1::ListQuarantinedResponse listed = List();
  ASSERT_EQ(listed.results_size(), 1);
  EXPECT_EQ(listed.results(0).id(), id);
  EXPECT_EQ(listed.results(0).submitted_by(), "pipeline");
  EXPECT_THAT(listed.results(0).reason(), HasSubstr("prediction"));
  EXPECT_EQ(Status().stored_result_count(), kSeedResults);
  EXPECT_EQ(Status().results_since_refit_count(), 0);
}

TEST_F(QuarantineTest, ListingPagesThroughEveryResult) {
  for (int i = 0; i < 5; ++i) Submit(Scaled(100, "mallory-" + std::to_string(i)));
  v1::ListQuarantinedRequest request;
  request.set_page_size(2);
  std::vector<int64_t> ids;
  do {
    std::string bytes;
    const grpc::Status status =
        RawUnaryCall(channel_, kListQuarantined, request.SerializeAsString(), &bytes, kAdmin);
    ASSERT_TRUE(status.ok()) << status.error_message();
    v1::ListQuarantinedResponse page;
    ASSERT_TRUE(page.ParseFromString(bytes));
    ASSERT_LE(page.results_size(), 2);
    for (const v1::QuarantinedResult& q : page.results()) ids.push_back(q.id());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());

  EXPECT_EQ(ids.size(), 5u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
}

// Without --auth-tokens nobody is named: the peer host is no lasting identity.
TEST(OpenServerQuarantineTest, SubmittedByIsEmptyWithoutAuthentication) {
  TempDir dir;
  std::string error;
  std::unique_ptr<PerfcastServer> server =
      StartServer(SeededServerOptions(dir.path(), kSeedConfigurations), &error);
  ASSERT_NE(server, nullptr) << error;
  std::shared_ptr<grpc::Channel> channel = Connect(server->port());
  v1::SubmitBenchmarkRequest submit;
  *submit.mutable_result() = ToProto(Scaled(100, "anonymous-1"));
  ASSERT_TRUE(RawUnaryCall(channel, kSubmitBenchmark, submit.SerializeAsString()).ok());
  std::string bytes;

  ASSERT_TRUE(RawUnaryCall(channel, kListQuarantined, "", &bytes).ok());

  v1::ListQuarantinedResponse listed;
  ASSERT_TRUE(listed.ParseFromString(bytes));
  ASSERT_EQ(listed.results_size(), 1);
  EXPECT_EQ(listed.results(0).submitted_by(), "");
}

}  // namespace
}  // namespace perfcast::server
