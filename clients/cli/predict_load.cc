#include "clients/cli/predict_load.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "perfcast/v1/perfcast.grpc.pb.h"

namespace perfcast {
namespace {

using Clock = std::chrono::steady_clock;

// Shared by the calls in flight. Each slot runs one call at a time, so a slot's figures are
// written by one callback after another, never concurrently, and need no lock: a lock shared by
// every completion would be the load generator's own bottleneck.
struct LoadState {
  std::vector<std::unique_ptr<v1::PredictionService::Stub>> stubs;
  std::vector<v1::PredictRequest> requests;  // one per batch size
  Clock::time_point measure_start;
  Clock::time_point measure_end;
  absl::Duration timeout;

  absl::Mutex mutex;
  int active_slots ABSL_GUARDED_BY(mutex) = 0;
};

class Slot {
 public:
  Slot(LoadState* state, int index) : state_(state), index_(index) {}

  void StartCall() {
    const Clock::time_point now = Clock::now();
    if (now >= state_->measure_end) {
      absl::MutexLock lock(&state_->mutex);
      --state_->active_slots;
      return;
    }
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() +
                           absl::ToChronoMilliseconds(state_->timeout));
    response_.Clear();
    start_ = now;
    const v1::PredictRequest& request =
        state_->requests[static_cast<size_t>(calls_++) % state_->requests.size()];
    v1::PredictionService::Stub& stub =
        *state_->stubs[static_cast<size_t>(index_) % state_->stubs.size()];
    stub.async()->Predict(context_.get(), &request, &response_,
                          [this](grpc::Status status) { Done(status); });
  }

  const std::vector<double>& latencies() const { return latencies_; }
  int64_t errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }
  Clock::time_point last_completion() const { return last_completion_; }

 private:
  void Done(const grpc::Status& status) {
    const Clock::time_point end = Clock::now();
    const bool measured = start_ >= state_->measure_start;
    if (measured) latencies_.push_back(std::chrono::duration<double>(end - start_).count());
    if (!status.ok() && measured && errors_++ == 0) {
      first_error_ = absl::StrCat(status.error_code(), ": ", status.error_message());
    }
    last_completion_ = std::max(last_completion_, end);
    StartCall();
  }

  LoadState* const state_;
  const int index_;
  int64_t calls_ = 0;
  std::unique_ptr<grpc::ClientContext> context_;
  v1::PredictResponse response_;
  Clock::time_point start_;
  std::vector<double> latencies_;
  int64_t errors_ = 0;
  std::string first_error_;
  Clock::time_point last_completion_;
};

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

absl::StatusOr<Configuration> FirstConfiguration(const std::shared_ptr<grpc::Channel>& channel,
                                                 absl::Duration timeout) {
  auto models = v1::ModelService::NewStub(channel);
  v1::ListConfigurationsRequest request;
  request.set_page_size(1);
  v1::ListConfigurationsResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  const grpc::Status status = models->ListConfigurations(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("listing configurations: ", status.error_message()));
  }
  if (response.configurations_size() == 0) {
    return absl::FailedPreconditionError("the server knows no configuration; pass --hardware ...");
  }
  const v1::Configuration& c = response.configurations(0);
  return Configuration{c.hardware(), c.gpu_count(), c.framework(), c.model(), c.precision()};
}

}  // namespace

absl::StatusOr<PredictLoadResult> RunPredictLoad(const PredictLoadOptions& options) {
  if (options.concurrency < 1 || options.channels < 1 || options.batch_sizes.empty() ||
      options.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--concurrency and --channels must be >= 1, --duration > 0, --batch-sizes non-empty");
  }
  LoadState state;
  state.timeout = options.timeout;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < options.channels; ++i) {
    // A distinct argument per channel gives each its own connection.
    grpc::ChannelArguments arguments;
    arguments.SetInt("perfcast.bench_channel", i);
    channels.push_back(
        grpc::CreateCustomChannel(options.address, grpc::InsecureChannelCredentials(), arguments));
    state.stubs.push_back(v1::PredictionService::NewStub(channels.back()));
  }
  Configuration configuration;
  if (options.configuration.has_value()) {
    configuration = *options.configuration;
  } else {
    absl::StatusOr<Configuration> first = FirstConfiguration(channels[0], options.timeout);
    if (!first.ok()) return first.status();
    configuration = *first;
  }
  for (int batch : options.batch_sizes) {
    v1::PredictRequest request;
    v1::Query* q = request.add_queries();
    v1::Configuration* c = q->mutable_configuration();
    c->set_hardware(configuration.hardware);
    c->set_gpu_count(configuration.num_gpus);
    c->set_framework(configuration.framework);
    c->set_model(configuration.model);
    c->set_precision(configuration.precision);
    q->set_input_tokens(options.input_tokens);
    q->set_output_tokens(options.output_tokens);
    q->add_batch_sizes(batch);
    state.requests.push_back(std::move(request));
  }

  const Clock::time_point start = Clock::now();
  state.measure_start = start + absl::ToChronoNanoseconds(options.warmup);
  state.measure_end = state.measure_start + absl::ToChronoNanoseconds(options.duration);
  std::vector<std::unique_ptr<Slot>> slots;
  {
    absl::MutexLock lock(&state.mutex);
    state.active_slots = options.concurrency;
  }
  for (int i = 0; i < options.concurrency; ++i) {
    slots.push_back(std::make_unique<Slot>(&state, i));
  }
  for (auto& slot : slots) slot->StartCall();

  PredictLoadResult result;
  {
    absl::MutexLock lock(&state.mutex);
    auto all_done = [&state]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mutex) {
      return state.active_slots == 0;
    };
    state.mutex.Await(absl::Condition(&all_done));
  }
  Clock::time_point last_completion = state.measure_start;
  std::vector<double> latencies;
  for (const auto& slot : slots) {
    latencies.insert(latencies.end(), slot->latencies().begin(), slot->latencies().end());
    if (result.errors == 0) result.first_error = slot->first_error();
    result.errors += slot->errors();
    last_completion = std::max(last_completion, slot->last_completion());
  }
  result.seconds = std::chrono::duration<double>(last_completion - state.measure_start).count();
  std::sort(latencies.begin(), latencies.end());
  result.completed = static_cast<int64_t>(latencies.size());
  result.p50_s = Quantile(latencies, 0.50);
  result.p90_s = Quantile(latencies, 0.90);
  result.p99_s = Quantile(latencies, 0.99);
  result.max_s = latencies.empty() ? 0 : latencies.back();
  return result;
}

std::string FormatPredictLoad(const PredictLoadOptions& options, const PredictLoadResult& result,
                              bool json) {
  const std::string batches = absl::StrJoin(options.batch_sizes, ",");
  if (json) {
    return absl::StrFormat(
        "{\"server\":\"%s\",\"concurrency\":%d,\"channels\":%d,\"batch_sizes\":[%s],"
        "\"seconds\":%.3f,\"requests\":%d,\"errors\":%d,\"qps\":%.1f,\"p50_ms\":%.3f,"
        "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
        options.address, options.concurrency, options.channels, batches, result.seconds,
        result.completed, result.errors, result.qps(), 1e3 * result.p50_s, 1e3 * result.p90_s,
        1e3 * result.p99_s, 1e3 * result.max_s);
  }
  std::string text = absl::StrFormat(
      "Predict against %s: concurrency %d over %d channels, batch sizes %s, %.1f s measured\n"
      "%10s %8s %10s %9s %9s %9s %9s\n%10d %8d %10.0f %9.3f %9.3f %9.3f %9.3f\n",
      options.address, options.concurrency, options.channels, batches, result.seconds, "requests",
      "errors", "qps", "p50_ms", "p90_ms", "p99_ms", "max_ms", result.completed, result.errors,
      result.qps(), 1e3 * result.p50_s, 1e3 * result.p90_s, 1e3 * result.p99_s, 1e3 * result.max_s);
  if (result.errors > 0) absl::StrAppend(&text, "first error: ", result.first_error, "\n");
  return text;
}

}  // namespace perfcast
