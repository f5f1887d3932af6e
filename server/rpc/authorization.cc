#include "server/rpc/authorization.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace perfcast::server {
namespace {

constexpr absl::string_view kAuthorizationKey = "authorization";
constexpr absl::string_view kBearerPrefix = "bearer ";
constexpr absl::string_view kCommonNameProperty = "x509_common_name";
// Shorter tokens are guessable; the file is refused rather than served weakly.
constexpr size_t kMinTokenBytes = 16;

// Compares without an early exit, so the time taken does not tell how much of a guess matched.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

std::optional<absl::string_view> FindMetadata(const grpc::ServerContextBase& rpc,
                                              absl::string_view key) {
  const auto& metadata = rpc.client_metadata();
  auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (found == metadata.end()) return std::nullopt;
  return absl::string_view(found->second.data(), found->second.size());
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%5B" -> "["; a '%' not followed by two hex digits is kept as it is.
std::string PercentDecoded(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigitValue(text[i + 1]) >= 0 &&
        HexDigitValue(text[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexDigitValue(text[i + 1]) * 16 + HexDigitValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool IsBase64Character(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '-' ||
         c == '_';
}

// What `openssl rand -hex` or `-base64` prints, and no caller name looks like: kMinTokenBytes or
// more hex digits, or base64 (standard or URL-safe, '=' padding at the end only) mixing upper
// case, lower case and digits. Names such as "pipeline-ci-01" or "dashboard" do not match.
bool LooksLikeGeneratedToken(absl::string_view field) {
  if (field.size() < kMinTokenBytes) return false;
  if (std::all_of(field.begin(), field.end(),
                  [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); })) {
    return true;
  }
  absl::string_view body = absl::StripSuffix(absl::StripSuffix(field, "="), "=");
  bool upper = false, lower = false, digit = false;
  for (char c : body) {
    if (!IsBase64Character(c)) return false;
    upper |= absl::ascii_isupper(static_cast<unsigned char>(c));
    lower |= absl::ascii_islower(static_cast<unsigned char>(c));
    digit |= absl::ascii_isdigit(static_cast<unsigned char>(c));
  }
  return upper && lower && digit;
}

std::optional<std::string> VerifiedCommonName(const grpc::ServerContextBase& rpc) {
  std::shared_ptr<const grpc::AuthContext> auth = rpc.auth_context();
  // Only a certificate the handshake verified (--tls-client-ca) names anyone.
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::nullopt;
  std::vector<grpc::string_ref> names = auth->FindPropertyValues(std::string(kCommonNameProperty));
  if (names.empty()) return std::nullopt;
  return std::string(names.front().data(), names.front().size());
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kRead:
      return "read";
    case Role::kWrite:
      return "write";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::optional<Role> RoleNamed(absl::string_view name) {
  for (Role role : {Role::kRead, Role::kWrite, Role::kAdmin}) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

Role LeastRoleFor(RpcMethod method) {
  switch (method) {
    case RpcMethod::kPredict:
    case RpcMethod::kUncertainty:
    case RpcMethod::kGetModelStatus:
    case RpcMethod::kListModels:
    case RpcMethod::kListConfigurations:
    case RpcMethod::kPlan:
      return Role::kRead;
    case RpcMethod::kSubmitBenchmark:
    case RpcMethod::kSubmitBenchmarks:
      return Role::kWrite;
    case RpcMethod::kRefit:
    case RpcMethod::kListQuarantined:  // results and who sent them: not for every reader
    case RpcMethod::kReleaseQuarantined:
    case RpcMethod::kDropQuarantined:
      return Role::kAdmin;
  }
  return Role::kAdmin;  // a method this table does not know yet is the most guarded
}

absl::StatusOr<Authorizer> Authorizer::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return FromCsv(text.str(), path);
}

absl::StatusOr<Authorizer> Authorizer::FromCsv(absl::string_view text, absl::string_view source) {
  std::vector<Entry> entries;
  std::vector<int> entry_lines;  // entries[i] was read from line entry_lines[i]
  bool header_seen = false;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    // Errors name the line and field, never a cell: in a file whose columns are out of order any
    // cell may hold a token, and these messages go to the startup log.
    const std::string where = absl::StrCat(source, " line ", line_number);
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    for (absl::string_view& field : fields) field = absl::StripAsciiWhitespace(field);
    if (!header_seen) {
      if (fields != std::vector<absl::string_view>{"token", "name", "role"}) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": the header must be token,name,role, in that order"));
      }
      header_seen = true;
      continue;
    }
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", fields.size(), " fields, expected 3 (token,name,role)"));
    }
    // Rows written name,token,role under a correct header: refused, or the real token would
    // be logged and counted as a caller's name and the name would be accepted as a token.
    if (LooksLikeGeneratedToken(fields[1]) && !LooksLikeGeneratedToken(fields[0])) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": field 2 (name) looks like a token and field 1 (token) does not; are the ",
          "columns swapped? Each row is token,name,role"));
    }
    if (fields[0].size() < kMinTokenBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": field 1 (token) shorter than ", kMinTokenBytes, " characters"));
    }
    if (fields[1].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": field 2 (name) empty"));
    }
    std::optional<Role> role = RoleNamed(fields[2]);
    if (!role.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": field 3 (role) is none of read, write, admin"));
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].token == fields[0]) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": field 1 (token) repeats the token of line ", entry_lines[i]));
      }
    }
    entries.push_back({std::string(fields[0]), std::string(fields[1]), *role});
    entry_lines.push_back(line_number);
  }
  if (entries.empty()) {
    // An empty file would silently mean "open"; refuse it.
    return absl::InvalidArgumentError(absl::StrCat(source, ": no tokens"));
  }
  return Authorizer(std::move(entries));
}

absl::StatusOr<Caller> Authorizer::IdentifyFrom(std::optional<absl::string_view> authorization,
                                                std::optional<absl::string_view> certificate_cn,
                                                absl::string_view peer) const {
  if (open()) return Caller{PeerHost(peer), Role::kAdmin};
  if (authorization.has_value()) {
    absl::string_view value = absl::StripAsciiWhitespace(*authorization);
    if (value.size() <= kBearerPrefix.size() ||
        !absl::EqualsIgnoreCase(value.substr(0, kBearerPrefix.size()), kBearerPrefix)) {
      return absl::UnauthenticatedError("authorization metadata: expected 'Bearer <token>'");
    }
    const absl::string_view token = absl::StripAsciiWhitespace(value.substr(kBearerPrefix.size()));
    const Entry* match = nullptr;
    for (const Entry& e : entries_) {  // every entry, so the time does not tell which matched
      if (ConstantTimeEquals(e.token, token) && match == nullptr) match = &e;
    }
    if (match == nullptr) {
      return absl::UnauthenticatedError("authorization metadata: unknown bearer token");
    }
    return Caller{match->name, match->role};
  }
  if (certificate_cn.has_value()) {
    for (const Entry& e : entries_) {
      if (e.name == *certificate_cn) return Caller{e.name, e.role};
    }
  }
  return absl::UnauthenticatedError(
      "authorization metadata: missing; send 'authorization: Bearer <token>'");
}

absl::StatusOr<Caller> Authorizer::Identify(const grpc::ServerContextBase& rpc) const {
  if (open()) return Caller{PeerHost(rpc.peer()), Role::kAdmin};
  std::optional<std::string> cn = VerifiedCommonName(rpc);
  return IdentifyFrom(FindMetadata(rpc, kAuthorizationKey),
                      cn.has_value() ? std::optional<absl::string_view>(*cn) : std::nullopt,
                      rpc.peer());
}

absl::Status Authorizer::Permit(const Caller& caller, RpcMethod method) {
  const Role least = LeastRoleFor(method);
  if (caller.role >= least) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(RpcMethodName(method), " needs role ",
                                                  RoleName(least), "; caller '", caller.name,
                                                  "' has role ", RoleName(caller.role)));
}

absl::StatusOr<Caller> Authorizer::Authorize(const grpc::ServerContextBase& rpc,
                                             RpcMethod method) const {
  absl::StatusOr<Caller> caller = Identify(rpc);
  if (!caller.ok()) return caller.status();
  if (absl::Status permitted = Permit(*caller, method); !permitted.ok()) return permitted;
  return caller;
}

std::string PeerHost(absl::string_view peer) {
  for (absl::string_view scheme : {"ipv4:", "ipv6:"}) {
    absl::string_view rest = peer;
    if (!absl::ConsumePrefix(&rest, scheme)) continue;
    // gRPC writes the address as a URI path, so an IPv6 host arrives with its brackets (and a
    // zone's '%') percent-encoded: "ipv6:%5B::1%5D:4444".
    const std::string address = PercentDecoded(rest);
    absl::string_view host = address;
    if (absl::ConsumePrefix(&host, "[")) {
      const size_t close = host.find(']');
      if (close != absl::string_view::npos) host = host.substr(0, close);
    } else {
      const size_t colon = host.rfind(':');
      // A bare IPv6 address has colons of its own; only a lone colon can be a port's.
      if (colon != absl::string_view::npos && host.find(':') == colon) {
        host = host.substr(0, colon);
      }
    }
    return std::string(host);
  }
  return std::string(peer);  // unix: and others name the peer whole
}

}  // namespace perfcast::server
