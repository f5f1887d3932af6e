#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace perfcast::server {

// The one place where absl::Status becomes grpc::Status: codes map 1:1, messages are cut to
// 1024 bytes (TF Serving's limit) so internals never flood a client.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace perfcast::server
