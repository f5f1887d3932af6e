#include "server/rpc/model_service_impl.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/convert/benchmark_conversion.h"
#include "proto/convert/configuration_conversion.h"
#include "proto/convert/model_version_conversion.h"
#include "proto/convert/string_limits.h"
#include "proto/convert/time_conversion.h"
#include "server/observability/log_format.h"
#include "server/rpc/call_admission.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/plausibility.h"
#include "server/rpc/quarantine_gate.h"
#include "server/rpc/raw_message.h"

namespace perfcast::server {
namespace {

// Rejections listed in one SubmitBenchmarks reply at most (all are counted).
constexpr int kMaxListedRejections = 1000;
// What a Refit RPC asks for is counted under this trigger.
constexpr RefitTrigger kRpcTrigger = RefitTrigger::kRpc;

// Why `record` goes to quarantine, or nullopt; logged at info level, since an operator decides.
std::optional<std::string> QuarantineReason(const ServiceContext& context,
                                            const BenchmarkRecord& record) {
  if (context.quarantine == nullptr) return std::nullopt;
  std::optional<std::string> reason = context.quarantine->Check(record);
  if (reason.has_value()) {
    spdlog::info(
        "event=result_quarantined configuration=\"{}\" source_id=\"{}\" "
        "submitted_by=\"{}\" reason=\"{}\"",
        record.configuration.ToString(), record.source, record.submitted_by, *reason);
  }
  return reason;
}

// Parses ListQuarantined's page token: the id after which the page starts.
absl::StatusOr<int64_t> QuarantinePageStart(const std::string& token) {
  if (token.empty()) return 0;
  int64_t after = 0;
  if (!absl::SimpleAtoi(token, &after) || after < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token=", QuoteForError(token), ": not a token from this API"));
  }
  return after;
}

// The ids of a Release or Drop request, checked: 1 to kMaxQuarantineIds, each > 0.
constexpr int kMaxQuarantineIds = 10000;
absl::StatusOr<std::vector<int64_t>> QuarantineIds(
    const google::protobuf::RepeatedField<int64_t>& ids) {
  if (ids.empty() || ids.size() > kMaxQuarantineIds) {
    return absl::InvalidArgumentError(
        absl::StrCat("ids: ", ids.size(), " given, must be 1 to ", kMaxQuarantineIds));
  }
  for (int i = 0; i < ids.size(); ++i) {
    if (ids[i] <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("ids[", i, "]=", ids[i], ": must be > 0"));
    }
  }
  return std::vector<int64_t>(ids.begin(), ids.end());
}

// Fills `not_found` with the requested ids that `changed` lacks.
void ListNotFound(absl::Span<const int64_t> requested, absl::Span<const int64_t> changed,
                  google::protobuf::RepeatedField<int64_t>* not_found) {
  const absl::flat_hash_set<int64_t> done(changed.begin(), changed.end());
  for (int64_t id : requested) {
    if (!done.contains(id)) not_found->Add(id);
  }
}

// Reads result chunks, validates each result and commits each chunk's valid results before
// reading the next one, so memory stays bounded and a long stream is durable as it goes. The
// reply (counts and rejections) is sent after the last chunk's commit. A chunk that does not
// parse ends the stream INVALID_ARGUMENT, saying what the chunks before it left stored: nothing
// after it was read, and the client must not take the stream's end for success.
class SubmitStreamReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  // Authorizes the stream once, before its first read: a refused caller's chunks are never
  // taken in. Each chunk's results are then rate limited under the caller's name.
  SubmitStreamReactor(ServiceContext* context, grpc::CallbackServerContext* rpc,
                      grpc::ByteBuffer* response_bytes)
      : context_(context),
        rpc_(rpc),
        response_bytes_(response_bytes),
        timer_(context->metrics->StartRpc(RpcMethod::kSubmitBenchmarks)) {
    absl::StatusOr<Caller> caller = AuthorizeCall(*context, *rpc, RpcMethod::kSubmitBenchmarks);
    if (!caller.ok()) {
      Complete(caller.status());
      return;
    }
    submitter_ = SubmitterName(*context, *caller);
    caller_ = std::move(caller->name);
    StartRead(&chunk_bytes_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The end of the stream, or a cancel (deadline, disconnect, shutdown): the client hears
      // nothing of the latter, but the logs and metrics must not count it a success.
      Complete(rpc_->IsCancelled()
                   ? absl::CancelledError(absl::StrCat(
                         "results: the stream was cancelled; ", response_.accepted_count(),
                         " results before the cancel were accepted and durable"))
                   : absl::OkStatus());
      return;
    }
    context_->metrics->MessageReceived(RpcMethod::kSubmitBenchmarks);
    const int64_t chunk_index = next_chunk_++;
    v1::SubmitBenchmarksRequest chunk;
    if (absl::Status parsed = ParseRequest(chunk_bytes_, absl::StrCat("chunks[", chunk_index, "]"),
                                           UnknownFields::kIgnore, &chunk);
        !parsed.ok()) {
      Complete(absl::InvalidArgumentError(
          absl::StrCat(parsed.message(), "; the stream ends at chunk ", chunk_index, ": the ",
                       next_index_, " results of the chunks before it were processed (",
                       response_.accepted_count(), " accepted and durable, ",
                       response_.duplicate_count(), " duplicates, ", response_.rejected_count(),
                       " rejected) and nothing after it was read; resend from "
                       "chunk ",
                       chunk_index, " (results[", next_index_, "] on)")));
      return;
    }
    if (absl::Status admitted = AdmitResults(*context_, caller_, chunk.results_size());
        !admitted.ok()) {
      Complete(absl::ResourceExhaustedError(absl::StrCat(
          "results: ", admitted.message(), "; the chunks before this one were processed (",
          response_.accepted_count(), " accepted and durable)")));
      return;
    }
    std::vector<BenchmarkRecord> valid;
    valid.reserve(static_cast<size_t>(chunk.results_size()));
    std::vector<std::string> quarantine_reasons;  // parallel to `valid` once one is quarantined
    const int64_t now_unix_s = absl::ToUnixSeconds(absl::Now());
    // Index of the first result past the stream limit (max_stream_results): the ones before it
    // are still stored, then the stream ends.
    std::optional<int64_t> over_limit;
    for (const v1::BenchmarkResult& result : chunk.results()) {
      const int64_t index = next_index_++;
      if (index >= context_->max_stream_results) {
        over_limit = index;
        break;
      }
      BenchmarkRecord record;
      const std::string path = absl::StrCat("results[", index, "]");
      std::optional<FieldError> error = ValidateBenchmarkResult(result, path, &record);
      if (!error) error = CheckPlausible(record, context_->catalogue, path);
      if (error) {
        context_->metrics->ResultRejected(RejectionReasonOf(*error));
        response_.set_rejected_count(response_.rejected_count() + 1);
        if (response_.rejections_size() < kMaxListedRejections) {
          RejectionToProto(index, result.source_id(), *error, response_.add_rejections());
        }
        continue;
      }
      record.submitted_by = submitter_;
      record.submitted_at_unix_s = now_unix_s;
      if (std::optional<std::string> reason = QuarantineReason(*context_, record)) {
        quarantine_reasons.resize(valid.size());
        quarantine_reasons.push_back(*std::move(reason));
      } else if (!quarantine_reasons.empty()) {
        quarantine_reasons.emplace_back();
      }
      valid.push_back(std::move(record));
    }
    if (valid.empty()) {
      ContinueOrStop(over_limit);
      return;
    }
    // The writer takes one copy of the reasons, the callback the other (arguments are evaluated
    // in no set order, so neither may be moved from the variable the other reads).
    std::vector<std::string> reasons_for_writer = quarantine_reasons;
    absl::Status queued = context_->writer->Submit(
        std::move(valid),
        [this, over_limit,
         reasons = std::move(quarantine_reasons)](absl::StatusOr<std::vector<bool>> inserted) {
          if (!inserted.ok()) {
            Complete(inserted.status());
            return;
          }
          int64_t accepted = 0, quarantined = 0, duplicates = 0;
          for (size_t i = 0; i < inserted->size(); ++i) {
            if (!(*inserted)[i]) {
              ++duplicates;
            } else if (!reasons.empty() && !reasons[i].empty()) {
              ++quarantined;
            } else {
              ++accepted;
            }
          }
          context_->metrics->ResultsAccepted(accepted);
          context_->metrics->ResultsDuplicate(duplicates);
          context_->metrics->ResultsQuarantined(quarantined);
          response_.set_accepted_count(response_.accepted_count() + accepted);
          response_.set_duplicate_count(response_.duplicate_count() + duplicates);
          response_.set_quarantined_count(response_.quarantined_count() + quarantined);
          ContinueOrStop(over_limit);
        },
        std::move(reasons_for_writer));
    if (!queued.ok()) Complete(queued);
  }

  void OnDone() override { delete this; }

 private:
  void ContinueOrStop(std::optional<int64_t> over_limit) {
    if (!over_limit.has_value()) {
      StartRead(&chunk_bytes_);
      return;
    }
    context_->metrics->ResultRejected(RejectionReason::kStreamLimit);
    Complete(absl::ResourceExhaustedError(
        absl::StrCat("results: the stream carries more than ", context_->max_stream_results,
                     " results, the most one stream may; results before index ", *over_limit,
                     " were processed (", response_.accepted_count(),
                     " accepted and durable); send the rest in a new stream")));
  }

  void Complete(const absl::Status& status) {
    LogFailure(RpcMethod::kSubmitBenchmarks, status);
    if (status.ok()) {
      spdlog::debug("event=results_stream_done accepted={} duplicate={} rejected={} quarantined={}",
                    response_.accepted_count(), response_.duplicate_count(),
                    response_.rejected_count(), response_.quarantined_count());
      SerializeResponse(response_, response_bytes_);
    }
    context_->metrics->FinishRpc(timer_, status.code());
    Finish(ToGrpcStatus(status));
  }

  ServiceContext* const context_;
  grpc::CallbackServerContext* const rpc_;
  grpc::ByteBuffer* const response_bytes_;
  std::string caller_;     // results are rate limited per caller
  std::string submitter_;  // what stored results record (SubmitterName)
  const ServerMetrics::RpcTimer timer_;
  grpc::ByteBuffer chunk_bytes_;
  v1::SubmitBenchmarksResponse response_;
  int64_t next_chunk_ = 0;
  int64_t next_index_ = 0;
};

// Refit with wait: answers when the refit ends, or CANCELLED when the client gives up (the
// refit itself goes on). The worker's callback and OnCancel race for the one Finish; `Shared`
// outlives the reactor so a late callback finds `finished` set and does nothing.
class RefitReactor final : public grpc::ServerUnaryReactor {
 public:
  // The caller is authorized before the request is parsed, and charged a refit after. A request
  // that does not parse as a RefitRequest (fields it does not define included) is refused and
  // starts nothing: any bytes would otherwise start a refit.
  RefitReactor(ServiceContext* context, grpc::CallbackServerContext* rpc,
               const grpc::ByteBuffer& request_bytes, grpc::ByteBuffer* response_bytes)
      : context_(context),
        response_bytes_(response_bytes),
        timer_(context->metrics->StartRpc(RpcMethod::kRefit)) {
    absl::StatusOr<Caller> caller = AuthorizeCall(*context, *rpc, RpcMethod::kRefit);
    if (!caller.ok()) {
      FinishOnce(caller.status());
      return;
    }
    v1::RefitRequest request;
    if (absl::Status parsed = ParseRequest(request_bytes, "", UnknownFields::kRefuse, &request);
        !parsed.ok()) {
      FinishOnce(
          absl::InvalidArgumentError(absl::StrCat(parsed.message(), "; no refit was started")));
      return;
    }
    if (absl::Status admitted = AdmitRefit(*context, caller->name); !admitted.ok()) {
      FinishOnce(admitted);
      return;
    }
    const std::string reason(TruncateUtf8(request.reason(), kMaxStringBytes));
    const bool allow_shrink = request.allow_shrink();
    if (!request.wait()) {
      const int64_t id = context->worker->RequestRefit(kRpcTrigger, nullptr, allow_shrink);
      spdlog::info("event=refit_requested refit_id={} wait=false allow_shrink={} reason=\"{}\"", id,
                   allow_shrink, reason);
      v1::RefitResponse response;
      response.set_refit_id(id);
      std::shared_ptr<const ServingModel> current = context->registry->Current();
      response.set_model_version(current != nullptr ? current->version : 0);
      SerializeResponse(response, response_bytes_);
      FinishOnce(absl::OkStatus());
      return;
    }
    shared_ = std::make_shared<Shared>();
    shared_->reactor = this;
    std::shared_ptr<Shared> shared = shared_;
    auto done = [shared](const RefitOutcome& o) {
      absl::MutexLock lock(&shared->mutex);
      if (shared->finished) return;
      if (o.status.ok()) {
        v1::RefitResponse response;
        response.set_refit_id(o.refit_id);
        response.set_model_version(o.model_version);
        *response.mutable_training_duration() = DurationToProto(o.duration);
        SerializeResponse(response, shared->reactor->response_bytes_);
        shared->reactor->FinishOnceLocked(absl::OkStatus());
      } else {
        // A failed refit: the old model keeps serving; say why. Training errors keep their
        // code (FAILED_PRECONDITION: nothing to learn from), others surface as ABORTED.
        absl::StatusCode code = o.status.code() == absl::StatusCode::kFailedPrecondition ||
                                        o.status.code() == absl::StatusCode::kUnavailable
                                    ? o.status.code()
                                    : absl::StatusCode::kAborted;
        shared->reactor->FinishOnceLocked(absl::Status(
            code, absl::StrCat("refit ", o.refit_id, " failed; the previous model keeps serving: ",
                               o.status.ToString())));
      }
    };
    const int64_t id = context->worker->RequestRefit(kRpcTrigger, std::move(done), allow_shrink);
    spdlog::info("event=refit_requested refit_id={} wait=true allow_shrink={} reason=\"{}\"", id,
                 allow_shrink, reason);
  }

  void OnCancel() override {
    if (shared_ == nullptr) return;
    absl::MutexLock lock(&shared_->mutex);
    FinishOnceLocked(absl::CancelledError(
        "Refit wait ended by the client (deadline or cancel); the refit goes on"));
  }

  void OnDone() override { delete this; }

 private:
  struct Shared {
    absl::Mutex mutex;
    bool finished = false;
    RefitReactor* reactor = nullptr;
  };

  void FinishOnce(const absl::Status& status) {
    LogFailure(RpcMethod::kRefit, status);
    context_->metrics->FinishRpc(timer_, status.code());
    Finish(ToGrpcStatus(status));
  }
  // REQUIRES: shared_->mutex held.
  void FinishOnceLocked(const absl::Status& status) {
    if (shared_->finished) return;
    shared_->finished = true;
    FinishOnce(status);
  }

  ServiceContext* const context_;
  grpc::ByteBuffer* const response_bytes_;
  const ServerMetrics::RpcTimer timer_;
  std::shared_ptr<Shared> shared_;
};

v1::ModelVersionStatus::State ToProtoState(VersionStatus::State state) {
  switch (state) {
    case VersionStatus::State::kAvailable:
      return v1::ModelVersionStatus::STATE_AVAILABLE;
    case VersionStatus::State::kFailed:
      return v1::ModelVersionStatus::STATE_FAILED;
    case VersionStatus::State::kEnd:
      return v1::ModelVersionStatus::STATE_END;
  }
  return v1::ModelVersionStatus::STATE_UNSPECIFIED;
}

}  // namespace

absl::Status ModelServiceImpl::DoGetModelStatus(const ServiceContext& context,
                                                const v1::GetModelStatusRequest& request,
                                                v1::GetModelStatusResponse* response) {
  absl::StatusOr<ModelSelection> selection = ModelSelectionFromProto(request.model_spec());
  if (!selection.ok()) return selection.status();
  std::shared_ptr<const ServingModel> current = context.registry->Current();
  int64_t wanted = selection->version.value_or(0);  // 0: all
  if (selection->latest_label) {
    if (current == nullptr) return absl::NotFoundError("no model version is available yet");
    wanted = current->version;
  }
  for (const VersionStatus& s : context.registry->Statuses()) {
    if (wanted != 0 && s.version != wanted) continue;
    v1::ModelVersionStatus* out = response->add_model_version_statuses();
    out->set_version(s.version);
    out->set_state(ToProtoState(s.state));
    VersionErrorToProto(s.error, out);
    if (s.info.has_value()) ModelInfoToProto(*s.info, out);
    out->set_prequential_result_count(s.prequential_count);
    out->set_holdout_median_relative_error(s.prequential_median_relative_error);
    out->set_interval_coverage(s.prequential_interval_coverage);
    if (current != nullptr && current->version == s.version) out->add_version_labels("latest");
  }
  if (wanted != 0 && response->model_version_statuses_size() == 0) {
    return absl::NotFoundError(absl::StrCat("model_spec.version=", wanted, ": no such version"));
  }
  const RefitOutcome last = context.worker->LastRefit();
  if (last.refit_id != 0) {
    v1::RefitStatus* refit = response->mutable_last_refit();
    refit->set_refit_id(last.refit_id);
    refit->set_trigger(std::string(RefitTriggerName(last.trigger)));
    *refit->mutable_start_time() = TimeToProto(last.start_time);
    if (last.running) {
      refit->set_outcome(v1::RefitStatus::OUTCOME_RUNNING);
    } else {
      *refit->mutable_duration() = DurationToProto(last.duration);
      if (last.status.ok()) {
        refit->set_outcome(v1::RefitStatus::OUTCOME_SUCCEEDED);
        refit->set_model_version(last.model_version);
      } else {
        refit->set_outcome(v1::RefitStatus::OUTCOME_FAILED);
        refit->set_error_message(ErrorMessageForProto(last.status));
      }
    }
  }
  response->set_stored_result_count(context.store->count());
  response->set_results_since_refit_count(context.worker->results_since_refit());
  return absl::OkStatus();
}

absl::Status ModelServiceImpl::DoListConfigurations(const ServiceContext& context,
                                                    const v1::ListConfigurationsRequest& request,
                                                    v1::ListConfigurationsResponse* response) {
  int page_size = request.page_size();
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size=", page_size, ": must be in [0, 1000]"));
  }
  if (page_size == 0) page_size = 100;
  absl::StatusOr<std::shared_ptr<const ServingModel>> serving =
      ResolveModel(context, request.model_spec());
  if (!serving.ok()) return serving.status();
  const int64_t version = (*serving)->version;
  size_t offset = 0;
  if (!request.page_token().empty()) {
    // Token: "<model version>:<offset>". Opaque to clients.
    std::vector<std::string> parts = absl::StrSplit(request.page_token(), ':');
    int64_t token_version = 0;
    uint64_t token_offset = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &token_version) ||
        !absl::SimpleAtoi(parts[1], &token_offset)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "page_token=", QuoteForError(request.page_token()), ": not a token from this API"));
    }
    if (token_version != version) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token=", QuoteForError(request.page_token()), ": from model version ",
                       token_version, ", serving ", version, "; restart the listing"));
    }
    offset = static_cast<size_t>(token_offset);
  }
  const std::vector<Configuration> all = (*serving)->model->Configurations();
  const size_t end = std::min(all.size(), offset + static_cast<size_t>(page_size));
  const Catalogue* catalogue = (*serving)->model->catalogue();
  for (size_t i = std::min(offset, all.size()); i < end; ++i) {
    ConfigurationToProto(all[i], response->add_configurations());
    v1::CatalogueEntries* entries = response->add_catalogue_entries();
    if (catalogue != nullptr) CatalogueEntriesToProto(catalogue->EntryNamesOf(all[i]), entries);
  }
  if (end < all.size()) response->set_next_page_token(absl::StrCat(version, ":", end));
  response->set_model_version(version);
  return absl::OkStatus();
}

absl::Status ModelServiceImpl::DoListQuarantined(const ServiceContext& context,
                                                 const v1::ListQuarantinedRequest& request,
                                                 v1::ListQuarantinedResponse* response) {
  int page_size = request.page_size();
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size=", page_size, ": must be in [0, 1000]"));
  }
  if (page_size == 0) page_size = 100;
  absl::StatusOr<int64_t> after = QuarantinePageStart(request.page_token());
  if (!after.ok()) return after.status();
  // One more than the page, to know whether another page follows.
  absl::StatusOr<std::vector<QuarantinedResult>> rows =
      context.store->ListQuarantined(*after, page_size + 1);
  if (!rows.ok()) return rows.status();
  absl::StatusOr<int64_t> total = context.store->CountQuarantined();
  if (!total.ok()) return total.status();
  const size_t shown = std::min(rows->size(), static_cast<size_t>(page_size));
  for (size_t i = 0; i < shown; ++i) {
    const QuarantinedResult& row = (*rows)[i];
    v1::QuarantinedResult* out = response->add_results();
    out->set_id(row.id);
    *out->mutable_result() = BenchmarkResultToProto(row.record, row.record.source);
    out->set_reason(row.reason);
    out->set_submitted_by(row.record.submitted_by);
    *out->mutable_submit_time() =
        TimeToProto(absl::FromUnixSeconds(row.record.submitted_at_unix_s));
  }
  if (rows->size() > shown) response->set_next_page_token(absl::StrCat((*rows)[shown - 1].id));
  response->set_total_count(*total);
  return absl::OkStatus();
}

absl::Status ModelServiceImpl::DoReleaseQuarantined(const ServiceContext& context,
                                                    const v1::ReleaseQuarantinedRequest& request,
                                                    v1::ReleaseQuarantinedResponse* response) {
  absl::StatusOr<std::vector<int64_t>> ids = QuarantineIds(request.ids());
  if (!ids.ok()) return ids.status();
  absl::StatusOr<std::vector<int64_t>> released = context.store->ReleaseQuarantined(*ids);
  if (!released.ok()) return released.status();
  const auto count = static_cast<int64_t>(released->size());
  // Released results are new work for the next refit, as if just submitted.
  if (count > 0 && !context.shared_store) context.worker->NotifyResults(count);
  context.metrics->SetStoredResults(context.store->count());
  spdlog::info("event=quarantine_released requested={} released={}", ids->size(), count);
  response->set_released_count(count);
  ListNotFound(*ids, *released, response->mutable_not_found_ids());
  return absl::OkStatus();
}

absl::Status ModelServiceImpl::DoDropQuarantined(const ServiceContext& context,
                                                 const v1::DropQuarantinedRequest& request,
                                                 v1::DropQuarantinedResponse* response) {
  absl::StatusOr<std::vector<int64_t>> ids = QuarantineIds(request.ids());
  if (!ids.ok()) return ids.status();
  absl::StatusOr<std::vector<int64_t>> dropped = context.store->DropQuarantined(*ids);
  if (!dropped.ok()) return dropped.status();
  spdlog::info("event=quarantine_dropped requested={} dropped={}", ids->size(), dropped->size());
  response->set_dropped_count(static_cast<int64_t>(dropped->size()));
  ListNotFound(*ids, *dropped, response->mutable_not_found_ids());
  return absl::OkStatus();
}

absl::Status ModelServiceImpl::DoListModels(const v1::ListModelsRequest& request,
                                            v1::ListModelsResponse* response) {
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size=", request.page_size(), ": must be >= 0"));
  }
  if (!request.page_token().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token=", QuoteForError(request.page_token()), ": not a token from this API"));
  }
  response->add_model_names("");
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ModelServiceImpl::SubmitBenchmark(grpc::CallbackServerContext* rpc,
                                                            const grpc::ByteBuffer* request_bytes,
                                                            grpc::ByteBuffer* response_bytes) {
  const ServerMetrics::RpcTimer timer = context_->metrics->StartRpc(RpcMethod::kSubmitBenchmark);
  grpc::ServerUnaryReactor* reactor = rpc->DefaultReactor();
  absl::StatusOr<Caller> caller = AuthorizeCall(*context_, *rpc, RpcMethod::kSubmitBenchmark);
  if (!caller.ok()) {
    FinishUnary(context_, reactor, timer, caller.status());
    return reactor;
  }
  v1::SubmitBenchmarkRequest request;
  if (absl::Status parsed = ParseRequest(*request_bytes, "", UnknownFields::kIgnore, &request);
      !parsed.ok()) {
    FinishUnary(context_, reactor, timer, parsed);
    return reactor;
  }
  if (absl::Status admitted = AdmitResults(*context_, caller->name, 1); !admitted.ok()) {
    FinishUnary(context_, reactor, timer, admitted);
    return reactor;
  }
  BenchmarkRecord record;
  if (!request.has_result()) {
    context_->metrics->ResultRejected(RejectionReason::kFieldMissing);
    FinishUnary(context_, reactor, timer, absl::InvalidArgumentError("result: must be set"));
    return reactor;
  }
  std::optional<FieldError> error = ValidateBenchmarkResult(request.result(), "result", &record);
  if (!error) error = CheckPlausible(record, context_->catalogue, "result");
  if (error) {
    context_->metrics->ResultRejected(RejectionReasonOf(*error));
    FinishUnary(context_, reactor, timer, absl::InvalidArgumentError(error->message));
    return reactor;
  }
  record.submitted_by = SubmitterName(*context_, *caller);
  record.submitted_at_unix_s = absl::ToUnixSeconds(absl::Now());
  std::optional<std::string> quarantine = QuarantineReason(*context_, record);
  ServiceContext* context = context_;
  std::vector<BenchmarkRecord> records;
  records.push_back(std::move(record));
  std::vector<std::string> reasons;
  if (quarantine.has_value()) reasons.push_back(*quarantine);
  absl::Status queued = context_->writer->Submit(
      std::move(records),
      [context, reactor, response_bytes, timer,
       quarantine](absl::StatusOr<std::vector<bool>> inserted) {
        if (!inserted.ok()) {
          FinishUnary(context, reactor, timer, inserted.status());
          return;
        }
        const bool duplicate = !(*inserted)[0];
        v1::SubmitBenchmarkResponse response;
        response.set_duplicate(duplicate);
        if (duplicate) {
          context->metrics->ResultsDuplicate(1);
        } else if (quarantine.has_value()) {
          context->metrics->ResultsQuarantined(1);
          response.set_quarantined(true);
          response.set_quarantine_reason(*quarantine);
        } else {
          context->metrics->ResultsAccepted(1);
        }
        SerializeResponse(response, response_bytes);
        FinishUnary(context, reactor, timer, absl::OkStatus());
      },
      std::move(reasons));
  if (!queued.ok()) FinishUnary(context_, reactor, timer, queued);
  return reactor;
}

grpc::ServerReadReactor<grpc::ByteBuffer>* ModelServiceImpl::SubmitBenchmarks(
    grpc::CallbackServerContext* rpc, grpc::ByteBuffer* response) {
  return new SubmitStreamReactor(context_, rpc, response);
}

grpc::ServerUnaryReactor* ModelServiceImpl::Refit(grpc::CallbackServerContext* rpc,
                                                  const grpc::ByteBuffer* request,
                                                  grpc::ByteBuffer* response) {
  return new RefitReactor(context_, rpc, *request, response);
}

grpc::ServerUnaryReactor* ModelServiceImpl::GetModelStatus(grpc::CallbackServerContext* rpc,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetModelStatusRequest, v1::GetModelStatusResponse>(
      context_, rpc, RpcMethod::kGetModelStatus, *request, response,
      [this](const v1::GetModelStatusRequest& r, v1::GetModelStatusResponse* out) {
        return DoGetModelStatus(*context_, r, out);
      });
}

grpc::ServerUnaryReactor* ModelServiceImpl::ListModels(grpc::CallbackServerContext* rpc,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListModelsRequest, v1::ListModelsResponse>(
      context_, rpc, RpcMethod::kListModels, *request, response, &DoListModels);
}

grpc::ServerUnaryReactor* ModelServiceImpl::ListConfigurations(grpc::CallbackServerContext* rpc,
                                                               const grpc::ByteBuffer* request,
                                                               grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListConfigurationsRequest, v1::ListConfigurationsResponse>(
      context_, rpc, RpcMethod::kListConfigurations, *request, response,
      [this](const v1::ListConfigurationsRequest& r, v1::ListConfigurationsResponse* out) {
        return DoListConfigurations(*context_, r, out);
      });
}

grpc::ServerUnaryReactor* ModelServiceImpl::ListQuarantined(grpc::CallbackServerContext* rpc,
                                                            const grpc::ByteBuffer* request,
                                                            grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListQuarantinedRequest, v1::ListQuarantinedResponse>(
      context_, rpc, RpcMethod::kListQuarantined, *request, response,
      [this](const v1::ListQuarantinedRequest& r, v1::ListQuarantinedResponse* out) {
        return DoListQuarantined(*context_, r, out);
      });
}

grpc::ServerUnaryReactor* ModelServiceImpl::ReleaseQuarantined(grpc::CallbackServerContext* rpc,
                                                               const grpc::ByteBuffer* request,
                                                               grpc::ByteBuffer* response) {
  return ServeUnary<v1::ReleaseQuarantinedRequest, v1::ReleaseQuarantinedResponse>(
      context_, rpc, RpcMethod::kReleaseQuarantined, *request, response,
      [this](const v1::ReleaseQuarantinedRequest& r, v1::ReleaseQuarantinedResponse* out) {
        return DoReleaseQuarantined(*context_, r, out);
      });
}

grpc::ServerUnaryReactor* ModelServiceImpl::DropQuarantined(grpc::CallbackServerContext* rpc,
                                                            const grpc::ByteBuffer* request,
                                                            grpc::ByteBuffer* response) {
  return ServeUnary<v1::DropQuarantinedRequest, v1::DropQuarantinedResponse>(
      context_, rpc, RpcMethod::kDropQuarantined, *request, response,
      [this](const v1::DropQuarantinedRequest& r, v1::DropQuarantinedResponse* out) {
        return DoDropQuarantined(*context_, r, out);
      });
}

}  // namespace perfcast::server
