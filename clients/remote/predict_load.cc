#include "clients/remote/predict_load.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"
#include "perfcast/v1/perfcast.grpc.pb.h"
#include "proto/convert/configuration_conversion.h"
#include "proto/convert/prediction_conversion.h"

namespace perfcast {
namespace {

using Clock = std::chrono::steady_clock;

struct LoadPlan {
  std::vector<v1::PredictRequest> requests;  // one per batch size
  Clock::time_point measure_start;
  Clock::time_point measure_end;
  const RemoteTarget* target = nullptr;  // its timeout and token go with every call
  // Open loop: each lane sends one call per `send_interval`; zero for a closed loop.
  Clock::duration send_interval{0};
};

// One call in flight at a time. The reader lives in its call's memory, which the context
// releases: a reader must go before its context.
struct Slot {
  int64_t calls = 0;
  Clock::time_point start;
  Clock::time_point freed;                       // when its last call completed
  std::unique_ptr<grpc::ClientContext> context;  // declared first: destroyed after the reader
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::PredictResponse>> reader;
  v1::PredictResponse response;
  grpc::Status status;
};

// A connection and the thread that drives its calls through one completion queue. The thread
// that takes a response starts the next call itself: no hand-off between threads per call.
// gRPC's callback API, which this replaced, woke another thread for each completion and cost
// the client more CPU than the server it measured (bench/README.md).
class Lane {
 public:
  Lane(const LoadPlan* plan, std::shared_ptr<grpc::Channel> channel, int slot_count)
      : plan_(plan), stub_(v1::PredictionService::NewStub(channel)), slots_(slot_count) {}

  void Run() {
    if (plan_->send_interval > Clock::duration::zero()) {
      RunOnSchedule();
    } else {
      RunClosedLoop();
    }
    queue_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  const std::vector<double>& latencies() const { return latencies_; }
  int64_t errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }
  Clock::time_point last_completion() const { return last_completion_; }

 private:
  // Each completion starts its slot's next call until the end.
  void RunClosedLoop() {
    int active = 0;
    for (Slot& slot : slots_) active += Start(slot) ? 1 : 0;
    void* tag = nullptr;
    bool ok = false;
    while (active > 0 && queue_.Next(&tag, &ok)) {
      Slot& slot = *static_cast<Slot*>(tag);
      Record(slot);
      if (!Start(slot)) --active;
    }
  }

  // Sends at the plan's interval from now until the end, each call from a free slot; when none
  // is free the schedule waits, and the calls it owes go out as slots free up.
  void RunOnSchedule() {
    std::deque<Slot*> free;  // oldest freed first
    for (Slot& slot : slots_) free.push_back(&slot);
    Clock::time_point next_send = Clock::now();
    while (true) {
      const Clock::time_point now = Clock::now();
      for (; next_send <= now && next_send < plan_->measure_end && !free.empty();
           next_send += plan_->send_interval) {
        // Counted from its schedule where it waited for the server to free a slot; from now
        // where a slot was free and only this thread's wake-up (a timed wait on the completion
        // queue can return late) delayed it, which is no latency of the server's.
        Slot& slot = *free.front();
        free.pop_front();
        Issue(slot, slot.freed > next_send ? next_send : now);
      }
      const bool sending = next_send < plan_->measure_end;
      if (!sending && free.size() == slots_.size()) break;
      // Wake for the next send unless every slot is busy: then only a completion helps.
      const Clock::time_point wake =
          sending && !free.empty() ? next_send : now + std::chrono::seconds(1);
      void* tag = nullptr;
      bool ok = false;
      const auto status =
          queue_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + (wake - now));
      if (status == grpc::CompletionQueue::SHUTDOWN) break;
      if (status == grpc::CompletionQueue::GOT_EVENT) {
        Slot& slot = *static_cast<Slot*>(tag);
        Record(slot);
        free.push_back(&slot);
      }
    }
  }

  bool Start(Slot& slot) {
    const Clock::time_point now = Clock::now();
    if (now >= plan_->measure_end) return false;
    Issue(slot, now);
    return true;
  }

  // `start`: when the call counts from (its scheduled time in an open loop).
  void Issue(Slot& slot, Clock::time_point start) {
    slot.reader.reset();
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoMilliseconds(plan_->target->timeout));
    AddToken(slot.context.get(), *plan_->target);
    slot.response.Clear();
    slot.start = start;
    const v1::PredictRequest& request =
        plan_->requests[static_cast<size_t>(slot.calls++) % plan_->requests.size()];
    slot.reader = stub_->PrepareAsyncPredict(slot.context.get(), request, &queue_);
    slot.reader->StartCall();
    slot.reader->Finish(&slot.response, &slot.status, &slot);
  }

  void Record(Slot& slot) {
    const Clock::time_point end = Clock::now();
    slot.freed = end;
    const bool measured = slot.start >= plan_->measure_start;
    if (measured) latencies_.push_back(std::chrono::duration<double>(end - slot.start).count());
    if (!slot.status.ok() && measured && errors_++ == 0) {
      first_error_ = absl::StrCat(slot.status.error_code(), ": ", slot.status.error_message());
    }
    last_completion_ = std::max(last_completion_, end);
  }

  const LoadPlan* const plan_;
  std::unique_ptr<v1::PredictionService::Stub> stub_;
  grpc::CompletionQueue queue_;
  std::vector<Slot> slots_;
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
                                                 const RemoteTarget& target) {
  auto models = v1::ModelService::NewStub(channel);
  v1::ListConfigurationsRequest request;
  request.set_page_size(1);
  v1::ListConfigurationsResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(target.timeout));
  AddToken(&context, target);
  const grpc::Status status = models->ListConfigurations(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("listing configurations: ", status.error_message()));
  }
  if (response.configurations_size() == 0) {
    return absl::FailedPreconditionError("the server knows no configuration; pass --hardware ...");
  }
  return ConfigurationFromProtoUnchecked(response.configurations(0));
}

}  // namespace

absl::StatusOr<PredictLoadResult> RunPredictLoad(const PredictLoadOptions& options) {
  if (options.concurrency < 1 || options.channels < 1 || options.batch_sizes.empty() ||
      options.duration <= absl::ZeroDuration() || !(options.rate >= 0)) {
    return absl::InvalidArgumentError(
        "--concurrency and --channels must be >= 1, --duration > 0, --rate >= 0, --batch-sizes "
        "non-empty");
  }
  LoadPlan plan;
  plan.target = &options.target;
  if (options.rate > 0) {
    const int lanes = std::min(options.channels, options.concurrency);
    plan.send_interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(lanes / options.rate));
  }
  const std::shared_ptr<grpc::ChannelCredentials> credentials =
      ChannelCredentialsFor(options.target);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < options.channels; ++i) {
    // A distinct argument per channel gives each its own connection.
    grpc::ChannelArguments arguments;
    arguments.SetInt("perfcast.bench_channel", i);
    channels.push_back(grpc::CreateCustomChannel(options.target.address, credentials, arguments));
  }
  Configuration configuration;
  if (options.configuration.has_value()) {
    configuration = *options.configuration;
  } else {
    absl::StatusOr<Configuration> first = FirstConfiguration(channels[0], options.target);
    if (!first.ok()) return first.status();
    configuration = *first;
  }
  for (int batch : options.batch_sizes) {
    v1::PredictRequest request;
    *request.add_queries() = QueryToProto(
        PredictionQuery{configuration, Shape{options.input_tokens, options.output_tokens}},
        {batch});
    plan.requests.push_back(std::move(request));
  }

  const Clock::time_point start = Clock::now();
  plan.measure_start = start + absl::ToChronoNanoseconds(options.warmup);
  plan.measure_end = plan.measure_start + absl::ToChronoNanoseconds(options.duration);
  std::vector<std::unique_ptr<Lane>> lanes;
  for (int i = 0; i < options.channels && i < options.concurrency; ++i) {
    const int slot_count = options.concurrency / options.channels +
                           (i < options.concurrency % options.channels ? 1 : 0);
    lanes.push_back(std::make_unique<Lane>(&plan, channels[static_cast<size_t>(i)], slot_count));
  }
  std::vector<std::thread> threads;
  for (auto& lane : lanes) threads.emplace_back([&lane] { lane->Run(); });
  for (std::thread& thread : threads) thread.join();

  PredictLoadResult result;
  Clock::time_point last_completion = plan.measure_start;
  std::vector<double> latencies;
  for (const auto& lane : lanes) {
    latencies.insert(latencies.end(), lane->latencies().begin(), lane->latencies().end());
    if (result.errors == 0) result.first_error = lane->first_error();
    result.errors += lane->errors();
    last_completion = std::max(last_completion, lane->last_completion());
  }
  result.seconds = std::chrono::duration<double>(last_completion - plan.measure_start).count();
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
        "{\"server\":\"%s\",\"concurrency\":%d,\"channels\":%d,\"rate\":%.1f,"
        "\"batch_sizes\":[%s],\"seconds\":%.3f,\"requests\":%d,\"errors\":%d,\"qps\":%.1f,"
        "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
        options.target.address, options.concurrency, options.channels, options.rate, batches,
        result.seconds, result.completed, result.errors, result.qps(), 1e3 * result.p50_s,
        1e3 * result.p90_s, 1e3 * result.p99_s, 1e3 * result.max_s);
  }
  const std::string load =
      options.rate > 0
          ? absl::StrFormat("%.0f calls/s, at most %d in flight", options.rate, options.concurrency)
          : absl::StrFormat("concurrency %d", options.concurrency);
  std::string text = absl::StrFormat(
      "Predict against %s: %s over %d channels, batch sizes %s, %.1f s measured\n"
      "%10s %8s %10s %9s %9s %9s %9s\n%10d %8d %10.0f %9.3f %9.3f %9.3f %9.3f\n",
      options.target.address, load, options.channels, batches, result.seconds, "requests", "errors",
      "qps", "p50_ms", "p90_ms", "p99_ms", "max_ms", result.completed, result.errors, result.qps(),
      1e3 * result.p50_s, 1e3 * result.p90_s, 1e3 * result.p99_s, 1e3 * result.max_s);
  if (result.errors > 0) absl::StrAppend(&text, "first error: ", result.first_error, "\n");
  return text;
}

}  // namespace perfcast
