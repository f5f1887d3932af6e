#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "proto/convert/message_parsing.h"
#include "server/rpc/call_admission.h"
#include "server/rpc/service_context.h"

namespace perfcast::server {

// The services register their methods over grpc::ByteBuffer and parse requests here, because
// gRPC's own parsing cannot say what was wrong: a unary body that does not parse (a string that
// is not UTF-8, bytes that are not protobuf) is answered UNIMPLEMENTED with an empty message, and
// a client stream's chunk that does not parse ends the stream as if the client had finished it,
// so what followed was lost without an error. Here every such body is INVALID_ARGUMENT naming the
// field, or saying what the bytes are not (proto/convert/message_parsing.h).

// Parses `bytes` into `request`; InvalidArgument naming what is wrong, under `path`.
absl::Status ParseRequest(const grpc::ByteBuffer& bytes, absl::string_view path,
                          UnknownFields unknown, google::protobuf::Message* request);

// Serializes `response` into `bytes`, the reply gRPC sends.
void SerializeResponse(const google::protobuf::Message& response, grpc::ByteBuffer* bytes);

// A unary RPC answered before its handler returns: authorizes the caller for `method`
// (call_admission.h; a refused call's body is never parsed), parses the request, runs
// `handle(const Request&, Response*) -> absl::Status` on it, and finishes with the response or
// the status.
template <typename Request, typename Response, typename Handle>
grpc::ServerUnaryReactor* ServeUnary(ServiceContext* context, grpc::CallbackServerContext* rpc,
                                     RpcMethod method, const grpc::ByteBuffer& request_bytes,
                                     grpc::ByteBuffer* response_bytes, Handle handle) {
  const ServerMetrics::RpcTimer timer = context->metrics->StartRpc(method);
  grpc::ServerUnaryReactor* reactor = rpc->DefaultReactor();
  Request request;
  Response response;
  absl::Status status = AuthorizeCall(*context, *rpc, method).status();
  if (status.ok()) status = ParseRequest(request_bytes, "", UnknownFields::kIgnore, &request);
  if (status.ok()) status = handle(request, &response);
  if (status.ok()) SerializeResponse(response, response_bytes);
  FinishUnary(context, reactor, timer, status);
  return reactor;
}

}  // namespace perfcast::server
