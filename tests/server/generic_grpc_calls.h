#pragma once

// Clients for the services the gRPC library registers (grpc.health.v1.Health and
// grpc.reflection.v1alpha.ServerReflection), spoken through GenericStub with hand-encoded
// messages: Debian ships neither proto, and generating our own copy of the reflection proto
// would clash with the descriptors libgrpc++_reflection registers in the same process. And raw
// calls of perfcast's own methods with bytes no generated stub would send.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace perfcast::server::testing {

inline grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

inline std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (buffer.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices)
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

// A length-delimited protobuf field (`field` number, wire type 2) holding `value` (< 128 bytes).
inline std::string LengthDelimited(int field, const std::string& value) {
  return std::string{static_cast<char>((field << 3) | 2), static_cast<char>(value.size())} + value;
}

// grpc.health.v1.Health/Check for `service`: the HealthCheckResponse.ServingStatus number
// (1 SERVING, 2 NOT_SERVING), or the call's error.
inline absl::StatusOr<int> HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                                       const std::string& service) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::ByteBuffer request = ToByteBuffer(LengthDelimited(1, service));
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request, &queue);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  queue.Next(&tag, &ok);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(FromByteBuffer(response))) {
    return absl::DataLossError("unparsable HealthCheckResponse");
  }
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == 1) return static_cast<int>(fields.field(i).varint());
  }
  return 0;  // proto3 default: UNKNOWN
}

// grpc.reflection.v1alpha ServerReflectionInfo with `list_services`: the service names.
inline absl::StatusOr<std::vector<std::string>> ReflectionListServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto wait = [&queue] {
    void* tag = nullptr;
    bool ok = false;
    return queue.Next(&tag, &ok) && ok;
  };
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  call->StartCall(reinterpret_cast<void*>(1));
  bool ok = wait();
  // ServerReflectionRequest.list_services (field 7) = "*".
  if (ok) call->Write(ToByteBuffer(LengthDelimited(7, "*")), reinterpret_cast<void*>(2));
  ok = ok && wait();
  if (ok) call->WritesDone(reinterpret_cast<void*>(3));
  ok = ok && wait();
  grpc::ByteBuffer response;
  if (ok) call->Read(&response, reinterpret_cast<void*>(4));
  ok = ok && wait();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  wait();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  if (!ok) return absl::UnknownError("reflection stream ended without a response");
  // ServerReflectionResponse.list_services_response (6) -> ListServiceResponse.service (1,
  // repeated) -> ServiceResponse.name (1).
  google::protobuf::UnknownFieldSet top;
  if (!top.ParseFromString(FromByteBuffer(response))) {
    return absl::DataLossError("unparsable ServerReflectionResponse");
  }
  std::vector<std::string> names;
  for (int i = 0; i < top.field_count(); ++i) {
    if (top.field(i).number() != 6) continue;
    google::protobuf::UnknownFieldSet list;
    if (!list.ParseFromString(top.field(i).length_delimited())) continue;
    for (int j = 0; j < list.field_count(); ++j) {
      google::protobuf::UnknownFieldSet service;
      if (list.field(j).number() != 1 ||
          !service.ParseFromString(list.field(j).length_delimited())) {
        continue;
      }
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) names.push_back(service.field(k).length_delimited());
      }
    }
  }
  return names;
}

// A unary call of `method` ("/perfcast.v1.ModelService/Refit") with `body` as the request's bytes,
// whatever they are: how a client with a broken encoder, or an attacker, reaches the server.
// `authorization`, when not empty, is sent as the `authorization` header ("Bearer TOKEN").
inline grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& method, const std::string& body,
                                 std::string* response_bytes = nullptr,
                                 const std::string& authorization = "") {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, method, ToByteBuffer(body), &queue);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  queue.Next(&tag, &ok);
  if (response_bytes != nullptr) *response_bytes = FromByteBuffer(response);
  return status;
}

// A client stream of `method` that sends each of `messages` as one message's bytes, then closes
// its side; the call's status. Writes after the server has ended the call fail quietly, as they
// would for a real client. `authorization` as for RawUnaryCall; the reply's bytes go to
// `response_bytes` when set.
inline grpc::Status RawClientStreamCall(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& method,
                                        const std::vector<std::string>& messages,
                                        const std::string& authorization = "",
                                        std::string* response_bytes = nullptr) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  auto wait = [&queue] {
    void* tag = nullptr;
    bool ok = false;
    return queue.Next(&tag, &ok) && ok;
  };
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, method, &queue);
  call->StartCall(reinterpret_cast<void*>(1));
  bool ok = wait();
  for (const std::string& message : messages) {
    if (!ok) break;
    call->Write(ToByteBuffer(message), reinterpret_cast<void*>(2));
    ok = wait();
  }
  if (ok) {
    call->WritesDone(reinterpret_cast<void*>(3));
    wait();
  }
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  wait();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  wait();
  if (response_bytes != nullptr) *response_bytes = FromByteBuffer(response);
  return status;
}

}  // namespace perfcast::server::testing
