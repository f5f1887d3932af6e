#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/model/prediction.h"
#include "google/protobuf/message.h"
#include "perfcast/v1/perfcast.pb.h"

namespace grpc {
class ChannelCredentials;
class ClientContext;
}  // namespace grpc

namespace perfcast {

// Client side of the CLI's `--server host:port` commands: the questions a scheduler or a
// benchmark pipeline asks a running perfcast-server over gRPC (perfcast.v1). Each call opens a
// channel (plaintext, or TLS as RemoteTarget says), sends the token if any, sets a deadline of
// `timeout` and maps the gRPC status to absl::Status with the same code and message
// (INVALID_ARGUMENT names the field; UNAVAILABLE: server down, starting or draining). Output, where
// a command prints, goes to `out`: a table, or with `json` the response message as JSON with proto
// field names.

// Where the server is and how long one call may take.
struct RemoteTarget {
  std::string address;  // host:port
  absl::Duration timeout = absl::Seconds(10);
  std::string token;  // sent as `authorization: Bearer TOKEN` when set
  // PEM contents (ReadTlsFiles). A CA: TLS, checking the server's certificate against it; a
  // certificate and key as well: mutual TLS. None: plaintext.
  std::string tls_ca_pem;
  std::string tls_cert_pem;
  std::string tls_key_pem;
};

// The credentials of a channel to `target`: TLS (mutual with a certificate) or plaintext.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const RemoteTarget& target);

// Adds `target`'s token, if any, to a call's metadata.
void AddToken(grpc::ClientContext* context, const RemoteTarget& target);

// Reads the PEM files of --tls-ca, --tls-cert and --tls-key (empty path: none) into `target`.
// InvalidArgument names the flag: a certificate without its key, or either without a CA;
// NotFound for a file that cannot be read.
absl::Status ReadTlsFiles(const std::string& ca_file, const std::string& cert_file,
                          const std::string& key_file, RemoteTarget* target);

// A server's answer to one query, as core points: the CLI prints it as it prints a bundle's.
struct RemotePrediction {
  std::vector<PointPrediction> points;  // one per batch size, in request order
  double confidence_level = 0;          // the level the server used
  int64_t model_version = 0;
  // Names of the query the server's data has never seen (Prediction.unseen_names).
  std::vector<std::string> unseen_names;
};

// Predicts `query` at `batch_sizes` with an interval at `confidence_level`. Prints nothing.
absl::StatusOr<RemotePrediction> RemotePredict(const RemoteTarget& target,
                                               const PredictionQuery& query,
                                               const std::vector<int>& batch_sizes,
                                               double confidence_level);

// Distance of `query` (at `batch_size`) from the observed data, the error to expect there and
// the `neighbor_count` nearest observed curves.
absl::Status RemoteUncertainty(const RemoteTarget& target, const PredictionQuery& query,
                               int batch_size, int neighbor_count, bool json, std::ostream& out);

struct SubmitOptions {
  std::string csv_path;
  // Idempotency key for rows whose CSV has no `source` value (default: the file's name).
  std::string source_id;
  int chunk_size = 500;  // results per stream message
  // Progress lines ("\rsent N/M") go here when set (the CLI sets it on a terminal only).
  std::ostream* progress = nullptr;
};

struct SubmitSummary {
  int64_t sent = 0;
  int64_t accepted = 0;
  int64_t duplicate = 0;
  int64_t rejected = 0;         // by the server, each with its reason in the output
  int64_t quarantined = 0;      // stored, but held back from training (`perfcast quarantine`)
  int64_t unreadable_rows = 0;  // CSV rows that could not be parsed (reported, not sent)
};

// Reads the benchmark CSV and streams its rows in chunks over one SubmitBenchmarks call. Prints
// accepted/duplicate/rejected counts and every rejection with its reason; unreadable rows are
// listed on `errors`. The call's deadline is `target.timeout`.
absl::StatusOr<SubmitSummary> RemoteSubmit(const RemoteTarget& target, const SubmitOptions& options,
                                           bool json, std::ostream& out, std::ostream& errors);

// Starts a retrain; with `wait`, waits (up to `target.timeout`) for the version it produces.
absl::Status RemoteRefit(const RemoteTarget& target, bool wait, bool json, std::ostream& out);

// The server's model versions, last refit and stored results.
absl::Status RemoteModelStatus(const RemoteTarget& target, bool json, std::ostream& out);

// The results the server holds in quarantine, all pages: id, when and by whom submitted, the
// result and why (role admin).
absl::Status RemoteQuarantineList(const RemoteTarget& target, bool json, std::ostream& out);
// Releases quarantined results (they become trainable) or drops them (deleted), by id; prints
// how many and the ids that were not in quarantine (role admin).
absl::Status RemoteQuarantineRelease(const RemoteTarget& target, const std::vector<int64_t>& ids,
                                     bool json, std::ostream& out);
absl::Status RemoteQuarantineDrop(const RemoteTarget& target, const std::vector<int64_t>& ids,
                                  bool json, std::ostream& out);

// Every configuration the serving model knows, all pages.
// One Plan call; the answer as the server sent it.
absl::StatusOr<v1::PlanResponse> RemotePlan(const RemoteTarget& target,
                                            const v1::PlanRequest& request);

// Prints a message as JSON (proto field names, every field), as --json does.
absl::Status PrintJson(const google::protobuf::Message& message, std::ostream& out);

absl::Status RemoteConfigurations(const RemoteTarget& target, bool json, std::ostream& out);

}  // namespace perfcast
