#include "server/rpc/raw_message.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/proto_utils.h"

namespace perfcast::server {

absl::Status ParseRequest(const grpc::ByteBuffer& bytes, absl::string_view path,
                          UnknownFields unknown, google::protobuf::Message* request) {
  std::vector<grpc::Slice> slices;
  if (!bytes.Dump(&slices).ok()) {
    return absl::InternalError(
        absl::StrCat(path.empty() ? "request" : path, ": the received bytes could not be read"));
  }
  std::string joined;
  absl::string_view contiguous;
  if (slices.size() == 1) {
    contiguous =
        absl::string_view(reinterpret_cast<const char*>(slices[0].begin()), slices[0].size());
  } else {
    for (const grpc::Slice& slice : slices) {
      joined.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    contiguous = joined;
  }
  return ParseMessage(contiguous, path, unknown, request);
}

void SerializeResponse(const google::protobuf::Message& response, grpc::ByteBuffer* bytes) {
  bool own_buffer = false;
  // Fails only for a message over 2 GiB, which no response nears; the client then gets no reply
  // body and a parse error of its own rather than a truncated answer.
  if (!grpc::SerializationTraits<google::protobuf::Message>::Serialize(response, bytes, &own_buffer)
           .ok()) {
    bytes->Clear();
  }
}

}  // namespace perfcast::server
