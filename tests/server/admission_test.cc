// Admission on the raw services: with tokens required, a call is authorized before its body is
// parsed (a refused caller learns nothing about its bytes, and nothing is stored or started for
// it), the stream is authorized once at its start, and refits are rate limited only once the
// request has parsed (server/rpc/call_admission.h).
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
constexpr char kSubmitBenchmark[] = "/perfcast.v1.ModelService/SubmitBenchmark";
constexpr char kSubmitBenchmarks[] = "/perfcast.v1.ModelService/SubmitBenchmarks";
constexpr char kRefit[] = "/perfcast.v1.ModelService/Refit";
constexpr char kGetModelStatus[] = "/perfcast.v1.ModelService/GetModelStatus";

// Bytes that are no protobuf message at all.
const std::string kGarbage(50, '\xff');

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options = SeededServerOptions(dir_.path(), kSeedConfigurations);
    options.authorizer = ThreeRoleAuthorizer();
    ASSERT_NE(options.authorizer, nullptr);
    options.max_refits_per_minute = 1;
    std::string error;
    server_ = StartServer(options, &error);
    ASSERT_NE(server_, nullptr) << error;
    channel_ = Connect(server_->port());
  }

  int64_t StoredResults() {
    std::string bytes;
    const grpc::Status status = RawUnaryCall(channel_, kGetModelStatus, "", &bytes, kReader);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::GetModelStatusResponse response;
    EXPECT_TRUE(response.ParseFromString(bytes));
    return response.stored_result_count();
  }

  TempDir dir_;
  std::unique_ptr<PerfcastServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

v1::SubmitBenchmarksRequest Chunk(int count) {
  v1::SubmitBenchmarksRequest chunk;
  std::vector<BenchmarkRecord> records = TestRecords(kSeedConfigurations, "admission");
  for (int i = 0; i < count; ++i) *chunk.add_results() = ToProto(records[static_cast<size_t>(i)]);
  return chunk;
}

TEST_F(AdmissionTest, AnUnauthenticatedCallIsRefusedBeforeItsBodyIsParsed) {
  for (const char* method :
       {kSubmitBenchmark, kRefit, kGetModelStatus, "/perfcast.v1.PredictionService/Predict",
        "/perfcast.v1.PredictionService/Uncertainty"}) {
    const grpc::Status status = RawUnaryCall(channel_, method, kGarbage);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method << ": " << status.error_message();
  }
}

TEST_F(AdmissionTest, AnUnauthorizedCallIsRefusedBeforeItsBodyIsParsed) {
  for (const char* method : {kSubmitBenchmark, kRefit}) {
    const grpc::Status status = RawUnaryCall(channel_, method, kGarbage, nullptr, kReader);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method << ": " << status.error_message();
  }
  // With the role, the same bytes reach the parser.
  const grpc::Status parsed = RawUnaryCall(channel_, kSubmitBenchmark, kGarbage, nullptr, kWriter);
  EXPECT_EQ(parsed.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << parsed.error_message();
}

TEST_F(AdmissionTest, ARefusedStreamStoresNothingOfItsChunks) {
  const int64_t before = StoredResults();
  const std::string chunk = Chunk(10).SerializeAsString();

  const grpc::Status anonymous =
      RawClientStreamCall(channel_, kSubmitBenchmarks, {chunk, kGarbage});
  EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED) << anonymous.error_message();
  const grpc::Status reader =
      RawClientStreamCall(channel_, kSubmitBenchmarks, {chunk, kGarbage}, kReader);
  EXPECT_EQ(reader.error_code(), grpc::StatusCode::PERMISSION_DENIED) << reader.error_message();
  EXPECT_EQ(StoredResults(), before);

  const grpc::Status writer = RawClientStreamCall(channel_, kSubmitBenchmarks, {chunk}, kWriter);
  EXPECT_TRUE(writer.ok()) << writer.error_message();
  EXPECT_EQ(StoredResults(), before + 10);
}

TEST_F(AdmissionTest, ARefitThatDoesNotParseSpendsNoRefitBudget) {
  const grpc::Status garbage = RawUnaryCall(channel_, kRefit, kGarbage, nullptr, kAdmin);
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << garbage.error_message();

  // One refit per minute: the well-formed one after the garbage still gets it, the next does not.
  const grpc::Status first = RawUnaryCall(channel_, kRefit, "", nullptr, kAdmin);
  EXPECT_TRUE(first.ok()) << first.error_message();
  const grpc::Status second = RawUnaryCall(channel_, kRefit, "", nullptr, kAdmin);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << second.error_message();
  EXPECT_THAT(second.error_message(), HasSubstr("refits per minute"));
}

}  // namespace
}  // namespace perfcast::server
