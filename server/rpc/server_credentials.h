#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"

namespace perfcast::server {

// PEM files that turn on TLS for the gRPC port. All empty: plaintext, as before TLS existed.
struct TlsFiles {
  std::string cert_file;       // server certificate chain
  std::string key_file;        // its private key
  std::string client_ca_file;  // set: clients must present a certificate signed by it (mTLS)

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// Plaintext credentials when `files` is empty; otherwise TLS credentials read from the files.
// InvalidArgument names the field when only one of certificate and key is given, or a client
// CA without them; NotFound names the field whose file cannot be read. The files are read once:
// rotating a certificate means a restart (a rolling one with replicas).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);

}  // namespace perfcast::server
