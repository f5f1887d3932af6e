#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "server/observability/server_metrics.h"

namespace perfcast::server {

// What a caller may do. Ordered: each role may do everything the roles before it may.
enum class Role {
  kRead,   // Predict, Uncertainty, status and listing RPCs
  kWrite,  // also SubmitBenchmark(s)
  kAdmin,  // also Refit, the quarantine's List/Release/Drop and any administrative action
};

absl::string_view RoleName(Role role);
std::optional<Role> RoleNamed(absl::string_view name);

// The least role that may call `method`: the one table of who may do what.
Role LeastRoleFor(RpcMethod method);

// Who is calling. `name` is what limits are counted by and what logs show, never a token.
struct Caller {
  std::string name;
  Role role = Role::kRead;
};

// Decides who a call comes from and whether it may run, from a table of bearer tokens. Health
// checks and reflection are not routed through it: a kubelet's gRPC probe cannot send metadata, and
// the schema is public.
//
// Open (no token file): every caller is an admin named by its peer host, as before
// authentication existed. With a token file: a call carries `authorization: Bearer TOKEN`; one
// without a token may still be named by its verified client certificate (mTLS), whose subject
// CN stands for the `name` of an entry in the file (the first such entry gives the role).
//
// Thread safety: immutable after construction; share freely.
class Authorizer {
 public:
  static Authorizer Open() { return Authorizer({}); }
  // Reads the CSV `token,name,role` (header first; blank lines and lines starting with '#'
  // skipped). InvalidArgument names the file and line of a bad row, never its token; a row whose
  // name looks like a generated token (hex or base64) while its token does not is refused as
  // written with swapped columns.
  static absl::StatusOr<Authorizer> FromFile(const std::string& path);
  static absl::StatusOr<Authorizer> FromCsv(absl::string_view text, absl::string_view source);

  bool open() const { return entries_.empty(); }
  size_t token_count() const { return entries_.size(); }

  // The caller of `rpc` if it may call `method`: Unauthenticated without a known token,
  // PermissionDenied when its role is below the method's. Messages never echo the token.
  absl::StatusOr<Caller> Authorize(const grpc::ServerContextBase& rpc, RpcMethod method) const;

  // The caller of `rpc` (Unauthenticated as above), whatever it calls.
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& rpc) const;

  // Identify without gRPC, for tests: the `authorization` header value if any, the verified
  // client certificate's CN if any, and the peer as gRPC names it ("ipv4:10.0.0.1:5555").
  absl::StatusOr<Caller> IdentifyFrom(std::optional<absl::string_view> authorization,
                                      std::optional<absl::string_view> certificate_cn,
                                      absl::string_view peer) const;

  // Ok when `caller` may call `method`; PermissionDenied names the method and both roles.
  static absl::Status Permit(const Caller& caller, RpcMethod method);

 private:
  struct Entry {
    std::string token;
    std::string name;
    Role role;
  };
  explicit Authorizer(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  std::vector<Entry> entries_;
};

// "ipv4:10.0.0.1:5555" -> "10.0.0.1": callers without a name are counted by host, since each
// connection of one client has its own port.
std::string PeerHost(absl::string_view peer);

}  // namespace perfcast::server
