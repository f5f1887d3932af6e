#include "server/rpc/grpc_status.h"

#include <string>

namespace perfcast::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  constexpr size_t kMaxMessageBytes = 1024;
  std::string message(status.message().substr(0, kMaxMessageBytes));
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message);
}

}  // namespace perfcast::server
