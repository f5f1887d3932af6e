// The issue "Trust": what the server does with bytes that are not a request, with a stream chunk
// that does not parse, with results not yet trained on across a restart, with a prediction that
// is not a usable number, and with a physically impossible result. Requests that a generated stub
// cannot send go through GenericStub (tests/server/generic_grpc_calls.h).
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/catalogue/catalogue.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/perfcast_server.h"
#include "tests/server/generic_grpc_calls.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using ::perfcast::server::testing::Connect;
using ::perfcast::server::testing::HttpGet;
using ::perfcast::server::testing::MetricValue;
using ::perfcast::server::testing::RawClientStreamCall;
using ::perfcast::server::testing::RawUnaryCall;
using ::perfcast::server::testing::SeededServerOptions;
using ::perfcast::server::testing::SeededServerTest;
using ::perfcast::server::testing::SetDeadline;
using ::perfcast::server::testing::StartServer;
using ::perfcast::server::testing::TempDir;
using ::perfcast::server::testing::TestQuery;
using ::perfcast::server::testing::TestRecords;
using ::perfcast::server::testing::ToProto;
using ::perfcast::server::testing::WaitFor;
using ::testing::HasSubstr;

constexpr int kSeedConfigurations = 4;
constexpr int kSeedRecords = kSeedConfigurations * 2 * 8;
constexpr char kSubmitBenchmarks[] = "/perfcast.v1.ModelService/SubmitBenchmarks";

// `message` serialized with every occurrence of `placeholder` replaced by as many 0xff bytes: a
// string field that is not UTF-8, in an otherwise well-formed message.
std::string WithBadBytes(const google::protobuf::Message& message, const std::string& placeholder) {
  std::string bytes = message.SerializeAsString();
  for (size_t at = bytes.find(placeholder); at != std::string::npos;
       at = bytes.find(placeholder, at)) {
    bytes.replace(at, placeholder.size(), std::string(placeholder.size(), '\xff'));
  }
  return bytes;
}

// A chunk of `count` new results (batch sizes beyond the seed's, under source `source`).
v1::SubmitBenchmarksRequest NewChunk(const std::string& source, int count) {
  v1::SubmitBenchmarksRequest chunk;
  std::vector<BenchmarkRecord> records = TestRecords(kSeedConfigurations, source);
  for (int i = 0; i < count; ++i) *chunk.add_results() = ToProto(records[static_cast<size_t>(i)]);
  return chunk;
}

class IntegrityTest : public SeededServerTest {
 protected:
  IntegrityTest() : SeededServerTest(kSeedConfigurations) {}

  int64_t ServingVersion() {
    const v1::GetModelStatusResponse status = Status();
    for (const v1::ModelVersionStatus& s : status.model_version_statuses()) {
      if (s.state() == v1::ModelVersionStatus::STATE_AVAILABLE) return s.version();
    }
    return 0;
  }
};

// [10 valid results, 50 bytes of 0xff, 10 valid]: the stream must not end OK as if it had been
// the whole of it.
TEST_F(IntegrityTest, AChunkThatDoesNotParseEndsTheStreamSayingWhatWasStored) {
  const grpc::Status status =
      RawClientStreamCall(channel_, kSubmitBenchmarks,
                          {NewChunk("first", 10).SerializeAsString(), std::string(50, '\xff'),
                           NewChunk("third", 10).SerializeAsString()});

  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("chunks[1]"));
  EXPECT_THAT(status.error_message(), HasSubstr("10 accepted and durable"));
  EXPECT_THAT(status.error_message(), HasSubstr("resend from chunk 1"));
  EXPECT_EQ(Status().stored_result_count(), kSeedRecords + 10);
}

TEST_F(IntegrityTest, AChunkWithAStringThatIsNotUtf8NamesTheResultAndField) {
  v1::SubmitBenchmarksRequest bad = NewChunk("second", 3);
  bad.mutable_results(2)->set_source_id("BADBYTES");
  const grpc::Status status = RawClientStreamCall(
      channel_, kSubmitBenchmarks,
      {NewChunk("first", 10).SerializeAsString(), WithBadBytes(bad, "BADBYTES")});

  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("chunks[1].results[2].source_id="));
  EXPECT_THAT(status.error_message(), HasSubstr("not valid UTF-8"));
}

TEST_F(IntegrityTest, AStringThatIsNotUtf8IsInvalidArgumentNamingTheField) {
  v1::SubmitBenchmarkRequest submit;
  *submit.mutable_result() = NewChunk("one", 1).results(0);
  submit.mutable_result()->mutable_configuration()->set_model("BADBYTES");
  const grpc::Status submitted = RawUnaryCall(channel_, "/perfcast.v1.ModelService/SubmitBenchmark",
                                              WithBadBytes(submit, "BADBYTES"));
  EXPECT_EQ(submitted.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(submitted.error_message(), HasSubstr("result.configuration.model="));

  v1::PredictRequest predict;
  *predict.add_queries() = TestQuery(0, 128, 128, {1});
  predict.mutable_queries(0)->mutable_configuration()->set_hardware("BADBYTES");
  const grpc::Status predicted = RawUnaryCall(channel_, "/perfcast.v1.PredictionService/Predict",
                                              WithBadBytes(predict, "BADBYTES"));
  EXPECT_EQ(predicted.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(predicted.error_message(), HasSubstr("queries[0].configuration.hardware="));
  EXPECT_EQ(Status().stored_result_count(), kSeedRecords);
}

TEST_F(IntegrityTest, ABodyThatDoesNotParseIsInvalidArgumentWithAMessage) {
  for (const char* method :
       {"/perfcast.v1.PredictionService/Predict", "/perfcast.v1.PredictionService/Uncertainty",
        "/perfcast.v1.ModelService/SubmitBenchmark", "/perfcast.v1.ModelService/GetModelStatus",
        "/perfcast.v1.ModelService/ListModels", "/perfcast.v1.ModelService/ListConfigurations",
        "/perfcast.v1.ModelService/Refit"}) {
    const grpc::Status status = RawUnaryCall(channel_, method, std::string(50, '\xff'));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_THAT(status.error_message(), HasSubstr("not a perfcast.v1.")) << method;
  }
}

TEST_F(IntegrityTest, ARefitBodyThatIsNotARefitRequestStartsNoRefit) {
  // Parses as protobuf (field 9, a string), but RefitRequest has no field 9.
  const std::string body = testing::LengthDelimited(9, "garbage");
  const grpc::Status status = RawUnaryCall(channel_, "/perfcast.v1.ModelService/Refit", body);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("no refit was started"));
  absl::SleepFor(absl::Milliseconds(300));
  // The startup training is the only refit this server ran.
  const v1::GetModelStatusResponse after = Status();
  EXPECT_EQ(after.last_refit().refit_id(), 1);
  EXPECT_EQ(ServingVersion(), 1);
}

TEST_F(IntegrityTest, AnEmptyRefitBodyIsStillAValidRequest) {
  // What an old client sends for Refit{} : zero bytes.
  const grpc::Status status = RawUnaryCall(channel_, "/perfcast.v1.ModelService/Refit", "");
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// Results not yet trained on are counted again at start: a restart must not forget them.
TEST_F(IntegrityTest, ResultsNotYetTrainedOnAreRetrainedAfterARestart) {
  v1::SubmitBenchmarksResponse response;
  {
    grpc::ClientContext context;
    SetDeadline(&context);
    auto stream = models_->SubmitBenchmarks(&context, &response);
    ASSERT_TRUE(stream->Write(NewChunk("after-training", 30)));
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
  }
  ASSERT_EQ(response.accepted_count(), 30);
  ASSERT_EQ(ServingVersion(), 1);  // the fixture's options never retrain by count

  ServerOptions options = SeededServerOptions(dir_.path(), kSeedConfigurations);
  options.retrain.retrain_after_results = 25;
  Restart(options);

  EXPECT_TRUE(WaitFor([&] { return ServingVersion() >= 2; }, absl::Seconds(120)))
      << "no retrain after the restart";
  EXPECT_EQ(Status().last_refit().trigger(), "count");
  // The new version recorded what it was trained on: a further restart owes nothing.
  Restart(options);
  EXPECT_EQ(Status().results_since_refit_count(), 0);
}

// What a submitter was told is stored is counted by then: a status read right after the
// acknowledgement sees it among the results not yet trained on.
TEST_F(IntegrityTest, AcknowledgedResultsAreCountedWhenTheAcknowledgementArrives) {
  for (int round = 1; round <= 5; ++round) {
    v1::SubmitBenchmarksResponse response;
    grpc::ClientContext context;
    SetDeadline(&context);
    auto stream = models_->SubmitBenchmarks(&context, &response);
    ASSERT_TRUE(stream->Write(NewChunk(absl::StrCat("counted-", round), 7)));
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
    ASSERT_EQ(response.accepted_count(), 7);
    EXPECT_EQ(Status().results_since_refit_count(), 7 * round) << "round " << round;
  }
}

// A curve at the largest double for a configuration the catalogue does not bound is stored; the
// model trained on it must not hand a client an infinite throughput or bound, or a zero latency.
TEST_F(IntegrityTest, PredictNeverAnswersANonFiniteThroughputOrAZeroLatency) {
  v1::SubmitBenchmarksRequest chunk;
  for (int batch : {1, 2, 4, 8, 16, 32, 64, 128}) {
    v1::BenchmarkResult* result = chunk.add_results();
    *result = NewChunk("huge", 1).results(0);
    result->mutable_configuration()->set_hardware("Mystery-Accelerator");
    result->set_batch_size(batch);
    result->set_throughput_tokens_per_second(std::numeric_limits<double>::max());
  }
  v1::SubmitBenchmarksResponse submitted;
  {
    grpc::ClientContext context;
    SetDeadline(&context);
    auto stream = models_->SubmitBenchmarks(&context, &submitted);
    ASSERT_TRUE(stream->Write(chunk));
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
  }
  {
    v1::RefitRequest request;
    request.set_wait(true);
    v1::RefitResponse refit;
    grpc::ClientContext context;
    SetDeadline(&context, 120);
    ASSERT_TRUE(models_->Refit(&context, request, &refit).ok());
  }

  v1::PredictRequest request;
  *request.add_queries() = TestQuery(0, 128, 128, {1, 8, 128});
  request.mutable_queries(0)->mutable_configuration()->set_hardware("Mystery-Accelerator");
  *request.add_queries() = TestQuery(0, 700, 300, {3, 300});
  request.mutable_queries(1)->mutable_configuration()->set_hardware("Mystery-Accelerator");
  v1::PredictResponse response;
  grpc::ClientContext context;
  SetDeadline(&context);
  const grpc::Status status = predictions_->Predict(&context, request, &response);
  if (!status.ok()) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
    EXPECT_THAT(status.error_message(), HasSubstr("queries[0].batch_sizes[0]=1"));
    EXPECT_THAT(status.error_message(), HasSubstr("not a usable prediction"));
    return;
  }
  ADD_FAILURE() << "answered " << response.ShortDebugString();
  for (const v1::Prediction& prediction : response.predictions()) {
    for (const v1::CurvePoint& point : prediction.points()) {
      EXPECT_TRUE(std::isfinite(point.throughput_tokens_per_second()));
      EXPECT_GT(point.throughput_tokens_per_second(), 0);
      EXPECT_TRUE(std::isfinite(point.throughput_upper_tokens_per_second()));
      EXPECT_TRUE(std::isfinite(point.batch_latency_seconds()));
      EXPECT_GT(point.batch_latency_seconds(), 0);
    }
  }
}

// A throughput far above what the hardware can do is refused with its own reason.
TEST_F(IntegrityTest, APhysicallyImpossibleThroughputIsRejectedAsImplausible) {
  const std::string dir = dir_.path() + "/catalogue";
  std::filesystem::create_directories(dir);
  ServerOptions options = SeededServerOptions(dir, kSeedConfigurations);
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(PERFCAST_SOURCE_DIR "/data/catalogue");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  options.retrain.train.catalogue = std::make_shared<const Catalogue>(*std::move(catalogue));
  Restart(options);

  v1::SubmitBenchmarkRequest request;
  *request.mutable_result() = NewChunk("wild", 1).results(0);
  v1::Configuration* configuration = request.mutable_result()->mutable_configuration();
  configuration->set_hardware("NVIDIA H100");
  configuration->set_model("meta-llama/Meta-Llama-3-8B");
  request.mutable_result()->set_throughput_tokens_per_second(1.797e308);
  v1::SubmitBenchmarkResponse response;
  grpc::ClientContext context;
  SetDeadline(&context);
  const grpc::Status status = models_->SubmitBenchmark(&context, request, &response);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("result.throughput_tokens_per_second=1.797e+308"));
  EXPECT_THAT(status.error_message(), HasSubstr("implausible"));
  EXPECT_EQ(MetricValue(HttpGet(server_->metrics_port(), "/metrics"),
                        "perfcast_benchmark_rejections_total{reason=\"implausible\"}"),
            1);
}

}  // namespace
}  // namespace perfcast::server
