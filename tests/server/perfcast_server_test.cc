// Every RPC of perfcast.v1 against an in-process server on 127.0.0.1 with a free port, temporary
// directories and a small synthetic data set (4 configurations x 2 shapes x 8 batch sizes).
#include "server/perfcast_server.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/catalogue/catalogue.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/generic_grpc_calls.h"
#include "tests/server/server_test_util.h"

namespace perfcast::server {
namespace {

using ::perfcast::server::testing::Connect;
using ::perfcast::server::testing::HealthCheck;
using ::perfcast::server::testing::HttpGet;
using ::perfcast::server::testing::MetricValue;
using ::perfcast::server::testing::ReflectionListServices;
using ::perfcast::server::testing::SeededServerOptions;
using ::perfcast::server::testing::SeededServerTest;
using ::perfcast::server::testing::SetDeadline;
using ::perfcast::server::testing::StartServer;
using ::perfcast::server::testing::TempDir;
using ::perfcast::server::testing::TestConfiguration;
using ::perfcast::server::testing::TestQuery;
using ::perfcast::server::testing::TestRecords;
using ::perfcast::server::testing::TestServerOptions;
using ::perfcast::server::testing::ToProto;
using ::perfcast::server::testing::WaitFor;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr int kSeedConfigurations = 4;
constexpr int kSeedRecords = kSeedConfigurations * 2 * 8;

// A started server seeded with the synthetic data and trained once (version 1).
class PerfcastServerTest : public SeededServerTest {
 protected:
  PerfcastServerTest() : SeededServerTest(kSeedConfigurations) {}

  grpc::Status Predict(const v1::PredictRequest& request, v1::PredictResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return predictions_->Predict(&context, request, response);
  }

  // One SubmitBenchmarks stream carrying `chunk` alone; Write's result is left to Finish's.
  grpc::Status SubmitOneChunk(const v1::SubmitBenchmarksRequest& chunk,
                              v1::SubmitBenchmarksResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    auto stream = models_->SubmitBenchmarks(&context, response);
    stream->Write(chunk);
    stream->WritesDone();
    return stream->Finish();
  }

  grpc::Status ListFirstPage(v1::ListConfigurationsResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return models_->ListConfigurations(&context, v1::ListConfigurationsRequest(), response);
  }

  grpc::Status PredictOne(const v1::Query& query, v1::PredictResponse* response) {
    v1::PredictRequest request;
    *request.add_queries() = query;
    return Predict(request, response);
  }

  grpc::Status Submit(const v1::BenchmarkResult& result, v1::SubmitBenchmarkResponse* response) {
    v1::SubmitBenchmarkRequest request;
    *request.mutable_result() = result;
    grpc::ClientContext context;
    SetDeadline(&context);
    return models_->SubmitBenchmark(&context, request, response);
  }

  grpc::Status Refit(bool wait, v1::RefitResponse* response) {
    v1::RefitRequest request;
    request.set_wait(wait);
    request.set_reason("test");
    grpc::ClientContext context;
    SetDeadline(&context);
    return models_->Refit(&context, request, response);
  }

  std::string Metrics() { return HttpGet(server_->metrics_port(), "/metrics"); }
};

v1::BenchmarkResult NewResult(const std::string& source, int batch, double throughput) {
  BenchmarkRecord record = TestRecords(1, source).front();
  record.batch_size = batch;
  record.throughput_tokens_per_s = throughput;
  return ToProto(record);
}

TEST_F(PerfcastServerTest, PredictAnswersEveryQueryInOrderFromOneVersion) {
  v1::PredictRequest request;
  *request.add_queries() = TestQuery(0, 128, 128, {1, 16, 100});
  *request.add_queries() = TestQuery(9, 256, 64, {8});  // configuration never benchmarked
  v1::PredictResponse response;
  const grpc::Status status = Predict(request, &response);

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model_version(), 1);
  ASSERT_EQ(response.predictions_size(), 2);
  const v1::Prediction& measured = response.predictions(0);
  ASSERT_EQ(measured.points_size(), 3);
  EXPECT_DOUBLE_EQ(measured.confidence_level(), 0.9);
  EXPECT_EQ(measured.points(1).batch_size(), 16);
  EXPECT_EQ(measured.points(1).prediction_case(), v1::PREDICTION_CASE_MEASURED);
  EXPECT_EQ(measured.points(2).prediction_case(), v1::PREDICTION_CASE_INTERPOLATED);
  for (const v1::CurvePoint& p : measured.points()) {
    EXPECT_GT(p.throughput_tokens_per_second(), 0);
    EXPECT_LE(p.throughput_lower_tokens_per_second(), p.throughput_tokens_per_second());
    EXPECT_GE(p.throughput_upper_tokens_per_second(), p.throughput_tokens_per_second());
    EXPECT_NEAR(p.batch_latency_seconds(),
                128.0 * p.batch_size() / p.throughput_tokens_per_second(), 1e-9);
  }
  // Within ~20 % of the synthetic truth at a measured point.
  EXPECT_NEAR(measured.points(1).throughput_tokens_per_second(),
              testing::TestThroughput(0, 128, 128, 16),
              0.2 * testing::TestThroughput(0, 128, 128, 16));
  EXPECT_EQ(response.predictions(1).prediction_case(), v1::PREDICTION_CASE_NEW_CONFIGURATION);
}

TEST_F(PerfcastServerTest, UncertaintyRanksMeasuredAboveUnseen) {
  auto ask = [&](const v1::Query& query, v1::UncertaintyResponse* response) {
    v1::UncertaintyRequest request;
    *request.mutable_query() = query;
    request.set_neighbor_count(3);
    grpc::ClientContext context;
    SetDeadline(&context);
    return predictions_->Uncertainty(&context, request, response);
  };
  v1::UncertaintyResponse measured;
  v1::UncertaintyResponse unseen;
  ASSERT_TRUE(ask(TestQuery(0, 128, 128, {16}), &measured).ok());
  ASSERT_TRUE(ask(TestQuery(9, 4096, 64, {16}), &unseen).ok());

  EXPECT_EQ(measured.model_version(), 1);
  EXPECT_EQ(measured.prediction_case(), v1::PREDICTION_CASE_MEASURED);
  EXPECT_EQ(unseen.prediction_case(), v1::PREDICTION_CASE_NEW_CONFIGURATION);
  EXPECT_GT(measured.similarity_score(), unseen.similarity_score());
  EXPECT_LE(measured.expected_relative_error(), unseen.expected_relative_error());
  ASSERT_GE(measured.nearest_curves_size(), 1);
  EXPECT_LE(measured.nearest_curves_size(), 3);
  EXPECT_DOUBLE_EQ(measured.nearest_curves(0).distance(), 0);
  EXPECT_EQ(measured.nearest_curves(0).configuration().hardware(), TestConfiguration(0).hardware);
}

TEST_F(PerfcastServerTest, SubmitBenchmarkStoresOnceThenReportsDuplicate) {
  const v1::BenchmarkResult result = NewResult("run-1", 24, 5000);
  v1::SubmitBenchmarkResponse first;
  v1::SubmitBenchmarkResponse second;

  ASSERT_TRUE(Submit(result, &first).ok());
  ASSERT_TRUE(Submit(result, &second).ok());

  EXPECT_FALSE(first.duplicate());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(Status().stored_result_count(), kSeedRecords + 1);
}

TEST_F(PerfcastServerTest, SubmitBenchmarksCountsAcceptedDuplicateAndRejected) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::SubmitBenchmarksResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::SubmitBenchmarksRequest>> stream =
      models_->SubmitBenchmarks(&context, &response);
  v1::SubmitBenchmarksRequest chunk;
  for (int b = 0; b < 10; ++b) *chunk.add_results() = NewResult("stream", 200 + b, 9000 + b);
  ASSERT_TRUE(stream->Write(chunk));
  chunk.clear_results();
  for (int b = 0; b < 3; ++b) *chunk.add_results() = NewResult("stream", 200 + b, 9000 + b);
  *chunk.add_results() = NewResult("stream", 300, std::numeric_limits<double>::quiet_NaN());
  ASSERT_TRUE(stream->Write(chunk));
  ASSERT_TRUE(stream->WritesDone());
  const grpc::Status status = stream->Finish();

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted_count(), 10);
  EXPECT_EQ(response.duplicate_count(), 3);
  EXPECT_EQ(response.rejected_count(), 1);
  ASSERT_EQ(response.rejections_size(), 1);
  EXPECT_EQ(response.rejections(0).index(), 13);
  EXPECT_EQ(response.rejections(0).source_id(), "stream");
  EXPECT_EQ(response.rejections(0).field(), "throughput_tokens_per_second");
  EXPECT_THAT(response.rejections(0).reason(),
              HasSubstr("results[13].throughput_tokens_per_second=nan"));
  EXPECT_EQ(Status().stored_result_count(), kSeedRecords + 10);
}

TEST_F(PerfcastServerTest, RefitWithWaitReturnsTheNewVersionWhichThenServes) {
  v1::RefitResponse refit;
  const grpc::Status status = Refit(/*wait=*/true, &refit);

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(refit.model_version(), 2);
  EXPECT_GT(refit.refit_id(), 0);
  EXPECT_TRUE(refit.training_duration().seconds() > 0 || refit.training_duration().nanos() > 0);
  v1::PredictResponse predicted;
  ASSERT_TRUE(PredictOne(TestQuery(0, 128, 128, {4}), &predicted).ok());
  EXPECT_EQ(predicted.model_version(), 2);
  const v1::GetModelStatusResponse status_now = Status();
  ASSERT_EQ(status_now.model_version_statuses_size(), 2);
  EXPECT_EQ(status_now.model_version_statuses(0).version(), 2);
  EXPECT_EQ(status_now.model_version_statuses(0).state(), v1::ModelVersionStatus::STATE_AVAILABLE);
  EXPECT_THAT(status_now.model_version_statuses(0).version_labels(), Contains("latest"));
  EXPECT_EQ(status_now.model_version_statuses(1).state(), v1::ModelVersionStatus::STATE_END);
  EXPECT_EQ(status_now.last_refit().trigger(), "rpc");
  EXPECT_EQ(status_now.last_refit().outcome(), v1::RefitStatus::OUTCOME_SUCCEEDED);
}

TEST_F(PerfcastServerTest, RefitWithoutWaitAnswersAtOnceAndTheVersionGrows) {
  v1::RefitResponse refit;
  const grpc::Status status = Refit(/*wait=*/false, &refit);

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(refit.refit_id(), 0);
  EXPECT_EQ(refit.model_version(), 1);  // still the serving one
  EXPECT_TRUE(WaitFor(
      [&] {
        v1::PredictResponse predicted;
        return PredictOne(TestQuery(0, 128, 128, {4}), &predicted).ok() &&
               predicted.model_version() == 2;
      },
      absl::Seconds(30)));
  EXPECT_EQ(Status().last_refit().refit_id(), refit.refit_id());
}

TEST_F(PerfcastServerTest, GetModelStatusDescribesTheServingVersion) {
  const v1::GetModelStatusResponse response = Status();

  ASSERT_EQ(response.model_version_statuses_size(), 1);
  const v1::ModelVersionStatus& v = response.model_version_statuses(0);
  EXPECT_EQ(v.version(), 1);
  EXPECT_EQ(v.state(), v1::ModelVersionStatus::STATE_AVAILABLE);
  EXPECT_EQ(v.training_point_count(), kSeedRecords);
  EXPECT_EQ(v.configuration_count(), kSeedConfigurations);
  EXPECT_EQ(v.curve_count(), kSeedConfigurations * 2);
  EXPECT_GT(v.train_time().seconds(), 0);
  EXPECT_EQ(response.stored_result_count(), kSeedRecords);
  EXPECT_EQ(response.last_refit().trigger(), "seed");
  v1::ModelSpec pinned;
  pinned.set_version(1);
  EXPECT_EQ(Status(pinned).model_version_statuses_size(), 1);

  pinned.set_version(7);
  v1::GetModelStatusRequest request;
  *request.mutable_model_spec() = pinned;
  v1::GetModelStatusResponse missing;
  grpc::ClientContext context;
  SetDeadline(&context);
  EXPECT_EQ(models_->GetModelStatus(&context, request, &missing).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(PerfcastServerTest, ListModelsNamesTheDefaultModel) {
  v1::ListModelsRequest request;
  v1::ListModelsResponse response;
  grpc::ClientContext context;
  SetDeadline(&context);
  ASSERT_TRUE(models_->ListModels(&context, request, &response).ok());
  ASSERT_EQ(response.model_names_size(), 1);
  EXPECT_EQ(response.model_names(0), "");
  EXPECT_EQ(response.next_page_token(), "");
}

TEST_F(PerfcastServerTest, ListConfigurationsPaginatesWithinOneVersion) {
  auto list = [&](int page_size, const std::string& token, v1::ListConfigurationsResponse* out) {
    v1::ListConfigurationsRequest request;
    request.set_page_size(page_size);
    request.set_page_token(token);
    grpc::ClientContext context;
    SetDeadline(&context);
    return models_->ListConfigurations(&context, request, out);
  };
  v1::ListConfigurationsResponse first;
  v1::ListConfigurationsResponse second;
  ASSERT_TRUE(list(3, "", &first).ok());
  ASSERT_TRUE(list(3, first.next_page_token(), &second).ok());

  EXPECT_EQ(first.configurations_size(), 3);
  EXPECT_NE(first.next_page_token(), "");
  EXPECT_EQ(second.configurations_size(), 1);
  EXPECT_EQ(second.next_page_token(), "");
  EXPECT_EQ(first.model_version(), 1);
  std::set<std::string> seen;
  for (const auto* page : {&first, &second}) {
    for (const v1::Configuration& c : page->configurations()) {
      seen.insert(c.hardware() + "/" + std::to_string(c.gpu_count()));
    }
  }
  EXPECT_EQ(seen.size(), 4u);

  v1::ListConfigurationsResponse bad;
  const grpc::Status bad_token = list(3, "garbage", &bad);
  EXPECT_EQ(bad_token.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_token.error_message(), HasSubstr("page_token='garbage'"));
  EXPECT_EQ(list(5000, "", &bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// A catalogue that knows the test configurations' names, so that the model learns from it.
std::shared_ptr<const Catalogue> TestCatalogue() {
  const std::string accelerators =
      "name,memory_gib,memory_bandwidth_gb_per_s,bf16_dense_tflops,fp8_dense_tflops,"
      "interconnect_gb_per_s,source\n"
      "NVIDIA H100 SXM 80GB,80,3350,989.5,1979,900,https://example.com/h100\n"
      "NVIDIA A100 SXM4 80GB,80,2039,312,,600,https://example.com/a100\n";
  const std::string models =
      "name,parameters,active_parameters,layers,hidden_size,attention_heads,kv_heads,head_dim,"
      "kv_cache_elements_per_token_per_layer,experts,experts_per_token,vocabulary,source\n"
      "meta-llama/Llama-3.1-8B-Instruct,8030261248,,32,4096,32,8,,,,,128256,"
      "https://example.com/m\n";
  const std::string precisions =
      "name,weight_bytes_per_parameter,kv_cache_bytes_per_element,math,source\n"
      "fp16,2,2,bf16,https://example.com/p\n";
  const std::string aliases =
      "kind,alias,entry\n"
      "accelerator,H100-SXM-80GB,NVIDIA H100 SXM 80GB\n"
      "accelerator,A100-SXM-80GB,NVIDIA A100 SXM4 80GB\n";
  absl::StatusOr<Catalogue> catalogue =
      Catalogue::Parse({accelerators, models, precisions, aliases, ""}, "test");
  EXPECT_TRUE(catalogue.ok()) << catalogue.status();
  return std::make_shared<const Catalogue>(*std::move(catalogue));
}

// A server of its own: the fixture's directory already holds a model trained without one.
ServerOptions CatalogueServerOptions(const std::string& parent) {
  const std::string dir = parent + "/with-catalogue";
  std::filesystem::create_directories(dir);
  ServerOptions options = SeededServerOptions(dir, kSeedConfigurations);
  options.retrain.train.catalogue = TestCatalogue();
  return options;
}

TEST_F(PerfcastServerTest, WithACatalogueEveryConfigurationListsTheEntriesItReliesOn) {
  Restart(CatalogueServerOptions(dir_.path()));
  v1::ListConfigurationsResponse response;
  ASSERT_TRUE(ListFirstPage(&response).ok());
  ASSERT_EQ(response.catalogue_entries_size(), response.configurations_size());
  for (int i = 0; i < response.configurations_size(); ++i) {
    const v1::CatalogueEntries& entries = response.catalogue_entries(i);
    EXPECT_EQ(entries.accelerator(), response.configurations(i).hardware() == "H100-SXM-80GB"
                                         ? "NVIDIA H100 SXM 80GB"
                                         : "NVIDIA A100 SXM4 80GB");
    EXPECT_EQ(entries.model(), "meta-llama/Llama-3.1-8B-Instruct");
    EXPECT_EQ(entries.precision(), "fp16");
  }

  v1::UncertaintyRequest uncertainty;
  *uncertainty.mutable_query() = TestQuery(0, 300, 300, {4});
  v1::UncertaintyResponse explained;
  grpc::ClientContext explain_context;
  SetDeadline(&explain_context);
  ASSERT_TRUE(predictions_->Uncertainty(&explain_context, uncertainty, &explained).ok());
  EXPECT_EQ(explained.catalogue_entries().accelerator(), "NVIDIA H100 SXM 80GB");
}

// Llama-3.1-8B in fp16 on one 80 GB H100: 15.0 GiB of weights leave 57 GiB of the 72 usable,
// about 467,000 tokens of KV cache. A 300,000 + 300,000-token shape does not fit at batch 1: it is
// answered, with no throughput and the reason, not withheld as unusable.
TEST_F(PerfcastServerTest, WithACatalogueAShapeBeyondMemoryIsAnsweredAsNotFitting) {
  Restart(CatalogueServerOptions(dir_.path()));
  v1::PredictResponse fits;
  v1::PredictResponse too_long;

  ASSERT_TRUE(PredictOne(TestQuery(0, 1024, 1024, {1, 64}), &fits).ok());
  const grpc::Status status = PredictOne(TestQuery(0, 300000, 300000, {1}), &too_long);

  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::Prediction& answered = too_long.predictions(0);
  EXPECT_EQ(answered.points(0).memory_fit(), v1::MEMORY_FIT_DOES_NOT_FIT);
  EXPECT_EQ(answered.points(0).throughput_tokens_per_second(), 0);
  EXPECT_THAT(answered.points(0).memory_fit_reason(),
              HasSubstr("> 72.0 GiB usable of one NVIDIA H100 SXM 80GB"));
  EXPECT_EQ(answered.largest_fitting_batch_size(), 0);
  for (const v1::CurvePoint& point : fits.predictions(0).points()) {
    EXPECT_EQ(point.memory_fit(), v1::MEMORY_FIT_FITS);
    EXPECT_GT(point.throughput_tokens_per_second(), 0);
    EXPECT_DOUBLE_EQ(point.memory_available_gib_per_gpu(), 72.0);
  }
  // (72 - 14.96) GiB / (2,048 tokens x 128 KiB) = 228.2 sequences.
  EXPECT_EQ(fits.predictions(0).largest_fitting_batch_size(), 228);
}

TEST_F(PerfcastServerTest, WithACatalogueUnknownHardwareIsNotFoundNamingIt) {
  Restart(CatalogueServerOptions(dir_.path()));
  v1::Query query = TestQuery(0, 128, 128, {1});
  query.mutable_configuration()->set_hardware("TPU-v9");
  v1::PredictResponse response;
  const grpc::Status status = PredictOne(query, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("queries[0].configuration"));
  EXPECT_THAT(status.error_message(), HasSubstr("TPU-v9"));
}

TEST_F(PerfcastServerTest, WithoutACatalogueTheEntriesAreEmpty) {
  v1::ListConfigurationsResponse response;
  ASSERT_TRUE(ListFirstPage(&response).ok());
  ASSERT_EQ(response.catalogue_entries_size(), response.configurations_size());
  EXPECT_EQ(response.catalogue_entries(0).accelerator(), "");
}

TEST_F(PerfcastServerTest, HealthIsServingForTheServerAndBothServices) {
  for (const std::string service :
       {"", "perfcast.v1.PredictionService", "perfcast.v1.ModelService"}) {
    absl::StatusOr<int> serving = HealthCheck(channel_, service);
    ASSERT_TRUE(serving.ok()) << service << ": " << serving.status();
    EXPECT_EQ(*serving, 1) << service;  // SERVING
  }
  EXPECT_EQ(HealthCheck(channel_, "no.such.Service").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PerfcastServerTest, ReflectionListsTheServices) {
  absl::StatusOr<std::vector<std::string>> services = ReflectionListServices(channel_);

  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services, Contains("perfcast.v1.PredictionService"));
  EXPECT_THAT(*services, Contains("perfcast.v1.ModelService"));
  EXPECT_THAT(*services, Contains("grpc.health.v1.Health"));
}

TEST_F(PerfcastServerTest, SubmittedResultIsScoredPrequentiallyBeforeItIsAbsorbed) {
  const std::string checks = "perfcast_interval_checks_total{confidence_level=\"0.9\"}";
  EXPECT_EQ(MetricValue(Metrics(), checks), 0);
  v1::PredictResponse predicted;
  ASSERT_TRUE(PredictOne(TestQuery(0, 128, 128, {24}), &predicted).ok());
  const v1::CurvePoint& point = predicted.predictions(0).points(0);
  const double observed = 2 * point.throughput_tokens_per_second();
  v1::SubmitBenchmarkResponse submitted;

  ASSERT_TRUE(Submit(NewResult("prequential", 24, observed), &submitted).ok());

  // Scoring runs right after the commit that acknowledged the result.
  ASSERT_TRUE(
      WaitFor([&] { return Status().model_version_statuses(0).prequential_result_count() == 1; },
              absl::Seconds(10)));
  const v1::ModelVersionStatus version = Status().model_version_statuses(0);
  EXPECT_NEAR(version.holdout_median_relative_error(), 0.5, 1e-9);
  const bool inside = observed <= point.throughput_upper_tokens_per_second();
  EXPECT_DOUBLE_EQ(version.interval_coverage(), inside ? 1.0 : 0.0);
  const std::string metrics = Metrics();
  EXPECT_EQ(MetricValue(metrics, checks), 1);
  EXPECT_EQ(MetricValue(metrics, "perfcast_prequential_relative_error_ratio_count"), 1);
  EXPECT_EQ(MetricValue(metrics, "perfcast_results_since_refit"), 1);
}

TEST_F(PerfcastServerTest, MetricsCountRpcsByMethodAndCodeFromTheFirstScrape) {
  const std::string ok_series =
      "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Predict\",grpc_service="
      "\"perfcast.v1.PredictionService\",grpc_type=\"unary\"}";
  const std::string invalid_series =
      "grpc_server_handled_total{grpc_code=\"InvalidArgument\",grpc_method=\"Predict\","
      "grpc_service=\"perfcast.v1.PredictionService\",grpc_type=\"unary\"}";
  const std::string before = Metrics();
  EXPECT_THAT(before, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_EQ(MetricValue(before, ok_series), 0);
  EXPECT_EQ(MetricValue(before, invalid_series), 0);
  EXPECT_EQ(MetricValue(before, "perfcast_model_version"), 1);
  EXPECT_EQ(MetricValue(before, "perfcast_store_results"), kSeedRecords);
  EXPECT_GT(MetricValue(before, "process_resident_memory_bytes"), 0);

  v1::PredictResponse response;
  ASSERT_TRUE(PredictOne(TestQuery(0, 128, 128, {4}), &response).ok());
  ASSERT_FALSE(PredictOne(TestQuery(0, -1, 128, {4}), &response).ok());

  const std::string after = Metrics();
  EXPECT_EQ(MetricValue(after, ok_series), 1);
  EXPECT_EQ(MetricValue(after, invalid_series), 1);
  EXPECT_THAT(HttpGet(server_->metrics_port(), "/other"), HasSubstr("404 Not Found"));
}

// A bundle damaged on disk is skipped on start: the previous valid version serves, and the
// damaged one is listed as FAILED with the reason. New versions still count past it.
TEST_F(PerfcastServerTest, CorruptModelOnDiskIsSkippedAndReportedFailed) {
  v1::RefitResponse refit;
  ASSERT_TRUE(Refit(/*wait=*/true, &refit).ok());
  ASSERT_EQ(refit.model_version(), 2);
  server_->Shutdown(absl::Seconds(1));
  const std::string bundle = dir_.path() + "/models/2/model.perfcast";
  const auto size = std::filesystem::file_size(bundle);
  {
    std::fstream file(bundle, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size / 2));
    file.write("CORRUPTED", 9);
  }

  Restart(SeededServerOptions(dir_.path(), kSeedConfigurations));

  v1::PredictResponse predicted;
  ASSERT_TRUE(PredictOne(TestQuery(0, 128, 128, {4}), &predicted).ok());
  EXPECT_EQ(predicted.model_version(), 1);
  const v1::GetModelStatusResponse status = Status();
  ASSERT_EQ(status.model_version_statuses_size(), 2);
  EXPECT_EQ(status.model_version_statuses(0).version(), 2);
  EXPECT_EQ(status.model_version_statuses(0).state(), v1::ModelVersionStatus::STATE_FAILED);
  EXPECT_NE(status.model_version_statuses(0).error_message(), "");
  EXPECT_EQ(status.model_version_statuses(1).state(), v1::ModelVersionStatus::STATE_AVAILABLE);
  EXPECT_EQ(MetricValue(Metrics(), "perfcast_model_load_failures_total{reason=\"checksum\"}"), 1);
  ASSERT_TRUE(Refit(/*wait=*/true, &refit).ok());
  EXPECT_EQ(refit.model_version(), 3);
}

// --- Bad requests -------------------------------------------------------------------------

void ExpectInvalid(const grpc::Status& status, const std::string& names) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr(names));
}

TEST_F(PerfcastServerTest, NegativeTokensAreInvalidAndNamed) {
  v1::PredictResponse response;
  ExpectInvalid(PredictOne(TestQuery(0, -5, 128, {1}), &response),
                "queries[0].input_tokens=-5: must be > 0");
}

TEST_F(PerfcastServerTest, NanThroughputIsInvalidAndNamed) {
  v1::SubmitBenchmarkResponse response;
  ExpectInvalid(Submit(NewResult("nan", 4, std::nan("")), &response),
                "result.throughput_tokens_per_second=nan");
  EXPECT_EQ(Status().stored_result_count(), kSeedRecords);
}

TEST_F(PerfcastServerTest, EmptyConfigurationFieldIsInvalidAndNamed) {
  v1::Query query = TestQuery(0, 128, 128, {1});
  query.mutable_configuration()->set_precision("");
  v1::PredictResponse response;
  ExpectInvalid(PredictOne(query, &response),
                "queries[0].configuration.precision='': must not be empty");
  query.clear_configuration();
  ExpectInvalid(PredictOne(query, &response), "queries[0].configuration: must be set");
}

TEST_F(PerfcastServerTest, TooManyBatchSizesIsInvalidAndNamed) {
  std::vector<int> batches(65);
  for (int i = 0; i < 65; ++i) batches[static_cast<size_t>(i)] = i + 1;
  v1::PredictResponse response;
  ExpectInvalid(PredictOne(TestQuery(0, 128, 128, batches), &response),
                "queries[0].batch_sizes: 65 entries, at most 64");
  ExpectInvalid(PredictOne(TestQuery(0, 128, 128, {1, 70000}), &response),
                "queries[0].batch_sizes[1]=70000: must be <= 65536");
}

TEST_F(PerfcastServerTest, ConfidenceOutOfRangeIsInvalidAndNamed) {
  v1::Query query = TestQuery(0, 128, 128, {1});
  query.set_confidence_level(1.5);
  v1::PredictResponse response;
  ExpectInvalid(PredictOne(query, &response), "queries[0].confidence_level=1.5: must be in (0, 1)");
}

TEST_F(PerfcastServerTest, TooManyQueriesIsResourceExhausted) {
  v1::PredictRequest request;
  for (int i = 0; i < 101; ++i) *request.add_queries() = TestQuery(0, 128, 128, {1});
  v1::PredictResponse response;
  const grpc::Status status = Predict(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("101 queries in one request, at most 100"));
}

TEST_F(PerfcastServerTest, StreamOverTheResultLimitIsResourceExhausted) {
  ServerOptions options = SeededServerOptions(dir_.path(), kSeedConfigurations);
  options.max_stream_results = 10;
  Restart(options);
  v1::SubmitBenchmarksRequest chunk;
  for (int b = 0; b < 11; ++b) *chunk.add_results() = NewResult("limit", 200 + b, 1000);
  v1::SubmitBenchmarksResponse response;
  const grpc::Status status = SubmitOneChunk(chunk, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("more than 10 results"));
  // The ten within the limit, sent in the same message as the eleventh, were stored.
  EXPECT_THAT(status.error_message(), HasSubstr("before index 10 were processed (10 accepted"));
  EXPECT_EQ(Status().stored_result_count(), kSeedRecords + 10);
}

TEST_F(PerfcastServerTest, MessageOverTheSizeLimitIsResourceExhaustedAndTheServerGoesOn) {
  ServerOptions options = SeededServerOptions(dir_.path(), kSeedConfigurations);
  options.max_receive_message_bytes = 16 * 1024;
  Restart(options);
  v1::SubmitBenchmarksRequest chunk;
  for (int b = 0; b < 400; ++b) *chunk.add_results() = NewResult("big-chunk", 1 + b, 1000);
  ASSERT_GT(chunk.ByteSizeLong(), 16u * 1024);
  v1::SubmitBenchmarksResponse response;
  const grpc::Status status = SubmitOneChunk(chunk, &response);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Status().stored_result_count(), kSeedRecords);
  v1::PredictResponse predicted;
  EXPECT_TRUE(PredictOne(TestQuery(0, 128, 128, {1}), &predicted).ok());
}

TEST_F(PerfcastServerTest, UnknownVersionIsNotFound) {
  v1::PredictRequest request;
  *request.add_queries() = TestQuery(0, 128, 128, {1});
  request.mutable_model_spec()->set_version(99);
  v1::PredictResponse response;
  const grpc::Status status = Predict(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("model_spec.version=99"));
}

// Refit(wait) past its deadline: the client gets DEADLINE_EXCEEDED in time, and the server ends
// the call as cancelled instead of holding it until training ends; the refit itself goes on.
TEST_F(PerfcastServerTest, RefitWaitHonoursTheDeadline) {
  // Refits that grow their cross-fit: one that reuses it trains these few results about as fast
  // as the deadline, and could answer before it.
  ServerOptions options = SeededServerOptions(dir_.path(), configs_);
  options.retrain.reuse_cross_fit = false;
  Restart(options);
  // A refit is queued already, so the waited-for one runs after it (or joins it): at least one
  // training, several times the deadline, before it could answer.
  v1::RefitResponse first;
  ASSERT_TRUE(Refit(/*wait=*/false, &first).ok());
  v1::RefitRequest request;
  request.set_wait(true);
  v1::RefitResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status status = models_->Refit(&context, request, &response);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  const std::string started =
      "grpc_server_started_total{grpc_method=\"Refit\",grpc_service=\"perfcast.v1.ModelService\","
      "grpc_type=\"unary\"}";
  const std::string cancelled =
      "grpc_server_handled_total{grpc_code=\"Canceled\",grpc_method=\"Refit\",grpc_service="
      "\"perfcast.v1.ModelService\",grpc_type=\"unary\"}";
  EXPECT_TRUE(WaitFor([&] { return MetricValue(Metrics(), started) == 2; }, absl::Seconds(5)));
  EXPECT_TRUE(WaitFor([&] { return MetricValue(Metrics(), cancelled) == 1; }, absl::Seconds(5)));
  // The refits still run to the end (the second one may have joined the first while queued).
  EXPECT_TRUE(WaitFor(
      [&] {
        const v1::GetModelStatusResponse now = Status();
        return now.model_version_statuses(0).version() >= 2 &&
               now.last_refit().outcome() == v1::RefitStatus::OUTCOME_SUCCEEDED &&
               now.last_refit().refit_id() >= first.refit_id();
      },
      absl::Seconds(60)));
}

// Start() returns once the port is bound; until the first model is trained, reads say so and the
// read path's health key is NOT_SERVING, so probes keep traffic away.
TEST(PerfcastServerStartupTest, ReadsAreUnavailableUntilTheFirstModelServes) {
  TempDir dir;
  PerfcastServer server(SeededServerOptions(dir.path(), /*configs=*/16));
  ASSERT_TRUE(server.Start().ok());
  std::shared_ptr<grpc::Channel> channel = Connect(server.port());
  auto stub = v1::PredictionService::NewStub(channel);
  v1::PredictRequest request;
  *request.add_queries() = TestQuery(0, 128, 128, {1});
  auto predict = [&] {
    v1::PredictResponse response;
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub->Predict(&context, request, &response);
  };

  const grpc::Status while_training = predict();
  const absl::StatusOr<int> health_while_training =
      HealthCheck(channel, "perfcast.v1.PredictionService");
  server.WaitUntilStarted();

  EXPECT_EQ(while_training.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(while_training.error_message(), HasSubstr("still loading"));
  EXPECT_EQ(health_while_training.value_or(-1), 2);  // NOT_SERVING
  EXPECT_TRUE(predict().ok());
  EXPECT_EQ(HealthCheck(channel, "perfcast.v1.PredictionService").value_or(-1), 1);
}

TEST(PerfcastServerEmptyTest, EmptyStoreWithoutSeedIsFailedPrecondition) {
  TempDir dir;
  std::unique_ptr<PerfcastServer> server = StartServer(TestServerOptions(dir.path()));
  ASSERT_NE(server, nullptr);
  auto stub = v1::PredictionService::NewStub(Connect(server->port()));
  v1::PredictRequest request;
  *request.add_queries() = TestQuery(0, 128, 128, {1});
  v1::PredictResponse response;
  grpc::ClientContext context;
  SetDeadline(&context);
  const grpc::Status status = stub->Predict(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("no benchmark data yet"));
  EXPECT_EQ(HealthCheck(Connect(server->port()), "perfcast.v1.PredictionService").value_or(-1),
            2);  // NOT_SERVING
}

}  // namespace
}  // namespace perfcast::server
