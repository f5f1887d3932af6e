#include "clients/remote/remote_commands.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/data/benchmark_csv.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "perfcast/v1/perfcast.grpc.pb.h"
#include "proto/convert/benchmark_conversion.h"
#include "proto/convert/model_version_conversion.h"
#include "proto/convert/prediction_conversion.h"
#include "proto/convert/time_conversion.h"

namespace perfcast {
namespace {

absl::Status FromGrpc(const grpc::Status& status, const std::string& server_address) {
  if (status.ok()) return absl::OkStatus();
  std::string message = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    message = absl::StrCat(server_address, ": ", message);
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), message);
}

std::shared_ptr<grpc::Channel> Channel(const RemoteTarget& target) {
  return grpc::CreateChannel(target.address, ChannelCredentialsFor(target));
}

// The deadline, and the token of a server that requires one.
void PrepareCall(grpc::ClientContext* context, const RemoteTarget& target) {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(target.timeout));
  AddToken(context, target);
}

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("--", flag, "=", path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::Status PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (auto s = google::protobuf::util::MessageToJsonString(message, &json, options); !s.ok()) {
    return absl::InternalError(absl::StrCat("cannot print JSON: ", s.ToString()));
  }
  out << json;
  if (json.empty() || json.back() != '\n') out << '\n';
  return absl::OkStatus();
}

namespace {

double SecondsOf(const google::protobuf::Duration& duration) {
  return absl::ToDoubleSeconds(DurationFromProto(duration));
}

std::string ConfigurationText(const v1::Configuration& c) {
  return absl::StrCat(c.hardware(), " x", c.gpu_count(), " ", c.framework(), " ", c.model(), " ",
                      c.precision());
}

// "accelerator / model / precision", "?" for a name the catalogue lacks, "-" without one.
std::string CatalogueText(const v1::CatalogueEntries& e) {
  if (e.accelerator().empty() && e.model().empty() && e.precision().empty()) return "-";
  auto or_unknown = [](const std::string& name) { return name.empty() ? std::string("?") : name; };
  return absl::StrCat(or_unknown(e.accelerator()), " / ", or_unknown(e.model()), " / ",
                      or_unknown(e.precision()));
}

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const RemoteTarget& target) {
  if (target.tls_ca_pem.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = target.tls_ca_pem;
  options.pem_cert_chain = target.tls_cert_pem;
  options.pem_private_key = target.tls_key_pem;
  return grpc::SslCredentials(options);
}

void AddToken(grpc::ClientContext* context, const RemoteTarget& target) {
  if (!target.token.empty()) context->AddMetadata("authorization", "Bearer " + target.token);
}

absl::Status ReadTlsFiles(const std::string& ca_file, const std::string& cert_file,
                          const std::string& key_file, RemoteTarget* target) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(cert_file.empty() ? "--tls-cert" : "--tls-key",
                                                   ": missing; mutual TLS needs both"));
  }
  if (ca_file.empty()) {
    if (!cert_file.empty()) {
      return absl::InvalidArgumentError("--tls-cert: needs --tls-ca (mutual TLS runs over TLS)");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> ca = ReadPem("tls-ca", ca_file);
  if (!ca.ok()) return ca.status();
  target->tls_ca_pem = *std::move(ca);
  if (cert_file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> cert = ReadPem("tls-cert", cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem("tls-key", key_file);
  if (!key.ok()) return key.status();
  target->tls_cert_pem = *std::move(cert);
  target->tls_key_pem = *std::move(key);
  return absl::OkStatus();
}

absl::StatusOr<RemotePrediction> RemotePredict(const RemoteTarget& target,
                                               const PredictionQuery& query,
                                               const std::vector<int>& batch_sizes,
                                               double confidence_level) {
  std::unique_ptr<v1::PredictionService::Stub> stub =
      v1::PredictionService::NewStub(Channel(target));
  v1::PredictRequest request;
  *request.add_queries() = QueryToProto(query, batch_sizes, confidence_level);
  v1::PredictResponse response;
  grpc::ClientContext context;
  PrepareCall(&context, target);
  if (absl::Status s = FromGrpc(stub->Predict(&context, request, &response), target.address);
      !s.ok()) {
    return s;
  }
  if (response.predictions_size() != 1) {
    return absl::InternalError(
        absl::StrCat("server answered ", response.predictions_size(), " predictions for 1 query"));
  }
  const v1::Prediction& prediction = response.predictions(0);
  return RemotePrediction{PointsFromProto(prediction),
                          prediction.confidence_level(),
                          response.model_version(),
                          {prediction.unseen_names().begin(), prediction.unseen_names().end()}};
}

absl::StatusOr<v1::PlanResponse> RemotePlan(const RemoteTarget& target,
                                            const v1::PlanRequest& request) {
  std::unique_ptr<v1::PredictionService::Stub> stub =
      v1::PredictionService::NewStub(Channel(target));
  v1::PlanResponse response;
  grpc::ClientContext context;
  PrepareCall(&context, target);
  if (absl::Status s = FromGrpc(stub->Plan(&context, request, &response), target.address);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::Status RemoteUncertainty(const RemoteTarget& target, const PredictionQuery& query,
                               int batch_size, int neighbor_count, bool json, std::ostream& out) {
  std::unique_ptr<v1::PredictionService::Stub> stub =
      v1::PredictionService::NewStub(Channel(target));
  v1::UncertaintyRequest request;
  *request.mutable_query() = QueryToProto(query, {batch_size});
  request.set_neighbor_count(neighbor_count);
  v1::UncertaintyResponse response;
  grpc::ClientContext context;
  PrepareCall(&context, target);
  if (absl::Status s = FromGrpc(stub->Uncertainty(&context, request, &response), target.address);
      !s.ok()) {
    return s;
  }
  if (json) return PrintJson(response, out);
  out << absl::StrFormat("%s  in=%d out=%d batch=%d  model_version=%d\n",
                         query.configuration.ToString(), query.shape.input_tokens,
                         query.shape.output_tokens, batch_size, response.model_version());
  out << absl::StrFormat("case:                     %s\n",
                         PredictionCaseApiName(response.prediction_case()));
  out << absl::StrFormat("similarity score:         %.3f  (1 = measured, 0 = nothing similar)\n",
                         response.similarity_score());
  out << absl::StrFormat("expected relative error:  %.1f%%\n",
                         100 * response.expected_relative_error());
  out << absl::StrFormat("catalogue entries:        %s\n",
                         CatalogueText(response.catalogue_entries()));
  if (response.unseen_names_size() > 0) {
    out << absl::StrFormat("never seen in the data:   %s\n",
                           absl::StrJoin(response.unseen_names(), ", "));
  }
  if (response.population()) {
    out << "campaign:                 the population of campaigns (the interval covers their "
           "spread)\n";
  }
  for (const std::string& note : response.outside_data()) {
    out << absl::StrFormat("outside the data:         %s\n", note);
  }
  out << absl::StrFormat("nearest observed curves:\n%10s %8s %8s  %s\n", "distance", "in", "out",
                         "configuration");
  for (const v1::ObservedCurve& curve : response.nearest_curves()) {
    out << absl::StrFormat("%10.3f %8d %8d  %s\n", curve.distance(), curve.input_tokens(),
                           curve.output_tokens(), ConfigurationText(curve.configuration()));
  }
  return absl::OkStatus();
}

absl::StatusOr<SubmitSummary> RemoteSubmit(const RemoteTarget& target, const SubmitOptions& options,
                                           bool json, std::ostream& out, std::ostream& errors) {
  if (options.chunk_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--chunk-size=", options.chunk_size, ": must be >= 1"));
  }
  absl::StatusOr<CsvReadResult> csv = ReadBenchmarkCsv(options.csv_path, BadRowPolicy::kSkip);
  // A file that cannot be read is a usage error, whatever code the reader gives it.
  if (!csv.ok()) return absl::InvalidArgumentError(absl::StrCat("--data ", csv.status().message()));
  SubmitSummary summary;
  summary.unreadable_rows = static_cast<int64_t>(csv->rejected_rows.size());
  for (const RejectedRow& row : csv->rejected_rows) {
    errors << "unreadable " << row.location << ": " << row.reason << "\n";
  }
  const std::string default_source =
      options.source_id.empty() ? std::filesystem::path(options.csv_path).filename().string()
                                : options.source_id;

  std::unique_ptr<v1::ModelService::Stub> stub = v1::ModelService::NewStub(Channel(target));
  grpc::ClientContext context;
  PrepareCall(&context, target);
  v1::SubmitBenchmarksResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::SubmitBenchmarksRequest>> stream =
      stub->SubmitBenchmarks(&context, &response);
  const auto total = static_cast<int64_t>(csv->records.size());
  v1::SubmitBenchmarksRequest chunk;
  for (const BenchmarkRecord& r : csv->records) {
    *chunk.add_results() = BenchmarkResultToProto(r, r.source.empty() ? default_source : r.source);
    if (chunk.results_size() < options.chunk_size && summary.sent + chunk.results_size() < total) {
      continue;
    }
    summary.sent += chunk.results_size();
    // A failed write means the server ended the call; Finish below says why.
    if (!stream->Write(chunk)) break;
    chunk.clear_results();
    if (options.progress != nullptr) {
      *options.progress << absl::StrFormat("\rsent %d/%d results", summary.sent, total)
                        << std::flush;
    }
  }
  stream->WritesDone();
  const grpc::Status finished = stream->Finish();
  if (options.progress != nullptr && summary.sent > 0) *options.progress << "\n";
  if (absl::Status s = FromGrpc(finished, target.address); !s.ok()) return s;
  summary.accepted = response.accepted_count();
  summary.duplicate = response.duplicate_count();
  summary.rejected = response.rejected_count();
  summary.quarantined = response.quarantined_count();
  if (json) {
    if (absl::Status s = PrintJson(response, out); !s.ok()) return s;
    return summary;
  }
  out << absl::StrFormat("%s: %d results sent to %s\n", options.csv_path, summary.sent,
                         target.address);
  out << absl::StrFormat("%10s %10s %10s %12s %12s\n", "accepted", "duplicate", "rejected",
                         "unreadable", "quarantined");
  out << absl::StrFormat("%10d %10d %10d %12d %12d\n", summary.accepted, summary.duplicate,
                         summary.rejected, summary.unreadable_rows, summary.quarantined);
  if (summary.quarantined > 0) {
    out << "quarantined results are stored but not trained on; an admin lists them with "
           "`perfcast quarantine list`\n";
  }
  if (response.rejections_size() > 0) {
    out << absl::StrFormat("rejected results:\n%8s  %-24s %-30s  %s\n", "index", "source_id",
                           "field", "reason");
    for (const v1::Rejection& r : response.rejections()) {
      out << absl::StrFormat("%8d  %-24s %-30s  %s\n", r.index(), r.source_id(), r.field(),
                             r.reason());
    }
    if (response.rejected_count() > response.rejections_size()) {
      out << absl::StrFormat("... and %d more\n",
                             response.rejected_count() - response.rejections_size());
    }
  }
  return summary;
}

absl::Status RemoteRefit(const RemoteTarget& target, bool wait, bool json, std::ostream& out) {
  std::unique_ptr<v1::ModelService::Stub> stub = v1::ModelService::NewStub(Channel(target));
  v1::RefitRequest request;
  request.set_wait(wait);
  request.set_reason("perfcast refit (CLI)");
  v1::RefitResponse response;
  grpc::ClientContext context;
  PrepareCall(&context, target);
  if (absl::Status s = FromGrpc(stub->Refit(&context, request, &response), target.address);
      !s.ok()) {
    return s;
  }
  if (json) return PrintJson(response, out);
  if (wait) {
    out << absl::StrFormat("refit %d done: model version %d serves, trained in %.2f s\n",
                           response.refit_id(), response.model_version(),
                           SecondsOf(response.training_duration()));
  } else {
    out << absl::StrFormat("refit %d queued; model version %d serves until it finishes\n",
                           response.refit_id(), response.model_version());
  }
  return absl::OkStatus();
}

absl::Status RemoteModelStatus(const RemoteTarget& target, bool json, std::ostream& out) {
  std::unique_ptr<v1::ModelService::Stub> stub = v1::ModelService::NewStub(Channel(target));
  v1::GetModelStatusRequest request;
  v1::GetModelStatusResponse response;
  grpc::ClientContext context;
  PrepareCall(&context, target);
  if (absl::Status s = FromGrpc(stub->GetModelStatus(&context, request, &response), target.address);
      !s.ok()) {
    return s;
  }
  if (json) return PrintJson(response, out);
  out << absl::StrFormat("stored results: %d (since last refit: %d)\n",
                         response.stored_result_count(), response.results_since_refit_count());
  if (response.has_last_refit()) {
    const v1::RefitStatus& r = response.last_refit();
    out << absl::StrFormat("last refit: %d (%s) %s", r.refit_id(), r.trigger(),
                           RefitOutcomeName(r.outcome()));
    if (r.outcome() == v1::RefitStatus::OUTCOME_SUCCEEDED) {
      out << absl::StrFormat(" -> version %d in %.2f s", r.model_version(),
                             SecondsOf(r.duration()));
    }
    if (!r.error_message().empty()) out << ": " << r.error_message();
    out << "\n";
  }
  out << absl::StrFormat("%8s %10s %8s %8s %8s %9s %10s %10s %9s  %s\n", "version", "state",
                         "points", "curves", "configs", "train_s", "live_n", "live_err", "coverage",
                         "labels / error");
  for (const v1::ModelVersionStatus& v : response.model_version_statuses()) {
    std::vector<std::string> notes(v.version_labels().begin(), v.version_labels().end());
    if (!v.error_message().empty()) notes.push_back(v.error_message());
    const std::string note = absl::StrJoin(notes, " ");
    out << absl::StrFormat("%8d %10s %8d %8d %8d %9.2f %10d %10.3f %9.3f  %s\n", v.version(),
                           VersionStateName(v.state()), v.training_point_count(), v.curve_count(),
                           v.configuration_count(), SecondsOf(v.training_duration()),
                           v.prequential_result_count(), v.holdout_median_relative_error(),
                           v.interval_coverage(), note);
  }
  return absl::OkStatus();
}

absl::Status RemoteConfigurations(const RemoteTarget& target, bool json, std::ostream& out) {
  std::unique_ptr<v1::ModelService::Stub> stub = v1::ModelService::NewStub(Channel(target));
  v1::ListConfigurationsResponse all;
  std::string token;
  do {
    v1::ListConfigurationsRequest request;
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListConfigurationsResponse page;
    grpc::ClientContext context;
    PrepareCall(&context, target);
    if (absl::Status s =
            FromGrpc(stub->ListConfigurations(&context, request, &page), target.address);
        !s.ok()) {
      return s;
    }
    all.mutable_configurations()->MergeFrom(page.configurations());
    all.mutable_catalogue_entries()->MergeFrom(page.catalogue_entries());
    all.set_model_version(page.model_version());
    token = page.next_page_token();
  } while (!token.empty());
  if (json) return PrintJson(all, out);
  out << absl::StrFormat("%d configurations (model version %d)\n", all.configurations_size(),
                         all.model_version());
  out << absl::StrFormat("%-28s %5s %-26s %-44s %-10s %s\n", "hardware", "gpus", "framework",
                         "model", "precision", "catalogue entries");
  for (int i = 0; i < all.configurations_size(); ++i) {
    const v1::Configuration& c = all.configurations(i);
    out << absl::StrFormat(
        "%-28s %5d %-26s %-44s %-10s %s\n", c.hardware(), c.gpu_count(), c.framework(), c.model(),
        c.precision(),
        i < all.catalogue_entries_size() ? CatalogueText(all.catalogue_entries(i)) : "-");
  }
  return absl::OkStatus();
}

absl::Status RemoteQuarantineList(const RemoteTarget& target, bool json, std::ostream& out) {
  std::unique_ptr<v1::ModelService::Stub> stub = v1::ModelService::NewStub(Channel(target));
  v1::ListQuarantinedResponse all;
  std::string token;
  do {
    v1::ListQuarantinedRequest request;
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListQuarantinedResponse page;
    grpc::ClientContext context;
    PrepareCall(&context, target);
    if (absl::Status s = FromGrpc(stub->ListQuarantined(&context, request, &page), target.address);
        !s.ok()) {
      return s;
    }
    all.mutable_results()->MergeFrom(page.results());
    all.set_total_count(page.total_count());
    token = page.next_page_token();
  } while (!token.empty());
  if (json) return PrintJson(all, out);
  out << absl::StrFormat("%d results in quarantine\n", all.results_size());
  if (all.results_size() == 0) return absl::OkStatus();
  out << absl::StrFormat("%8s  %-20s %-16s %-60s %5s %12s  %s\n", "id", "submitted", "by",
                         "configuration", "batch", "tokens/s", "reason");
  for (const v1::QuarantinedResult& q : all.results()) {
    const v1::BenchmarkResult& r = q.result();
    out << absl::StrFormat(
        "%8d  %-20s %-16s %-60s %5d %12.6g  %s\n", q.id(),
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", TimeFromProto(q.submit_time()), absl::UTCTimeZone()),
        q.submitted_by().empty() ? "-" : q.submitted_by(),
        absl::StrCat(ConfigurationText(r.configuration()),
                     r.configuration().has_campaign() ? "@" + r.configuration().campaign() : "",
                     " ", r.input_tokens(), "/", r.output_tokens()),
        r.batch_size(), r.throughput_tokens_per_second(), q.reason());
  }
  return absl::OkStatus();
}

absl::Status RemoteQuarantineRelease(const RemoteTarget& target, const std::vector<int64_t>& ids,
                                     bool json, std::ostream& out) {
  std::unique_ptr<v1::ModelService::Stub> stub = v1::ModelService::NewStub(Channel(target));
  v1::ReleaseQuarantinedRequest request;
  request.mutable_ids()->Add(ids.begin(), ids.end());
  v1::ReleaseQuarantinedResponse response;
  grpc::ClientContext context;
  PrepareCall(&context, target);
  if (absl::Status s =
          FromGrpc(stub->ReleaseQuarantined(&context, request, &response), target.address);
      !s.ok()) {
    return s;
  }
  if (json) return PrintJson(response, out);
  out << absl::StrFormat("released %d results: they count as new results for the next refit\n",
                         response.released_count());
  if (response.not_found_ids_size() > 0) {
    out << "not in quarantine: " << absl::StrJoin(response.not_found_ids(), " ") << "\n";
  }
  return absl::OkStatus();
}

absl::Status RemoteQuarantineDrop(const RemoteTarget& target, const std::vector<int64_t>& ids,
                                  bool json, std::ostream& out) {
  std::unique_ptr<v1::ModelService::Stub> stub = v1::ModelService::NewStub(Channel(target));
  v1::DropQuarantinedRequest request;
  request.mutable_ids()->Add(ids.begin(), ids.end());
  v1::DropQuarantinedResponse response;
  grpc::ClientContext context;
  PrepareCall(&context, target);
  if (absl::Status s =
          FromGrpc(stub->DropQuarantined(&context, request, &response), target.address);
      !s.ok()) {
    return s;
  }
  if (json) return PrintJson(response, out);
  out << absl::StrFormat("dropped %d results\n", response.dropped_count());
  if (response.not_found_ids_size() > 0) {
    out << "not in quarantine: " << absl::StrJoin(response.not_found_ids(), " ") << "\n";
  }
  return absl::OkStatus();
}

}  // namespace perfcast
