#include "server/rpc/authorization.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTokens[] =
    "token,name,role\n"
    "# operators\n"
    "\n"
    "read-token-0123456789,dashboard,read\n"
    "write-token-0123456789,pipeline,write\n"
    "admin-token-0123456789,operator,admin\n";
constexpr char kPeer[] = "ipv4:10.1.2.3:5555";

Authorizer Tokens() {
  absl::StatusOr<Authorizer> authorizer = Authorizer::FromCsv(kTokens, "tokens.csv");
  EXPECT_TRUE(authorizer.ok()) << authorizer.status();
  return *std::move(authorizer);
}

TEST(AuthorizationTest, EachRoleMayCallExactlyItsMethods) {
  EXPECT_EQ(LeastRoleFor(RpcMethod::kPredict), Role::kRead);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kUncertainty), Role::kRead);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kGetModelStatus), Role::kRead);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kListModels), Role::kRead);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kListConfigurations), Role::kRead);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kSubmitBenchmark), Role::kWrite);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kSubmitBenchmarks), Role::kWrite);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kRefit), Role::kAdmin);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kListQuarantined), Role::kAdmin);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kReleaseQuarantined), Role::kAdmin);
  EXPECT_EQ(LeastRoleFor(RpcMethod::kDropQuarantined), Role::kAdmin);
}

TEST(AuthorizationTest, BearerTokenNamesItsCaller) {
  absl::StatusOr<Caller> caller =
      Tokens().IdentifyFrom("Bearer write-token-0123456789", std::nullopt, kPeer);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->name, "pipeline");
  EXPECT_EQ(caller->role, Role::kWrite);
}

TEST(AuthorizationTest, MissingOrUnknownTokenIsUnauthenticatedWithoutEchoingIt) {
  const Authorizer tokens = Tokens();
  absl::StatusOr<Caller> missing = tokens.IdentifyFrom(std::nullopt, std::nullopt, kPeer);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kUnauthenticated);
  absl::StatusOr<Caller> unknown =
      tokens.IdentifyFrom("Bearer guess-0123456789abcdef", std::nullopt, kPeer);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(unknown.status().message(), Not(HasSubstr("guess-0123456789abcdef")));
  absl::StatusOr<Caller> not_bearer =
      tokens.IdentifyFrom("Basic read-token-0123456789", std::nullopt, kPeer);
  EXPECT_EQ(not_bearer.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(not_bearer.status().message(), Not(HasSubstr("read-token-0123456789")));
}

TEST(AuthorizationTest, RoleBelowTheMethodsIsPermissionDenied) {
  const Caller reader{"dashboard", Role::kRead};
  const Caller writer{"pipeline", Role::kWrite};
  EXPECT_TRUE(Authorizer::Permit(reader, RpcMethod::kPredict).ok());
  EXPECT_EQ(Authorizer::Permit(reader, RpcMethod::kSubmitBenchmarks).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Authorizer::Permit(writer, RpcMethod::kSubmitBenchmark).ok());
  absl::Status refit = Authorizer::Permit(writer, RpcMethod::kRefit);
  EXPECT_EQ(refit.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refit.message(), HasSubstr("admin"));
  EXPECT_TRUE(Authorizer::Permit({"operator", Role::kAdmin}, RpcMethod::kRefit).ok());
}

TEST(AuthorizationTest, VerifiedCertificateNameStandsForItsEntryWithoutAToken) {
  const Authorizer tokens = Tokens();
  absl::StatusOr<Caller> known = tokens.IdentifyFrom(std::nullopt, "operator", kPeer);
  ASSERT_TRUE(known.ok()) << known.status();
  EXPECT_EQ(known->role, Role::kAdmin);
  EXPECT_EQ(tokens.IdentifyFrom(std::nullopt, "stranger", kPeer).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AuthorizationTest, OpenServerLetsEveryPeerDoEverythingNamedByHost) {
  absl::StatusOr<Caller> caller =
      Authorizer::Open().IdentifyFrom(std::nullopt, std::nullopt, kPeer);
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->name, "10.1.2.3");
  EXPECT_EQ(caller->role, Role::kAdmin);
  EXPECT_EQ(PeerHost("ipv6:[::1]:4444"), "::1");
}

// gRPC 1.51 writes a peer as a URI path, with an IPv6 host's brackets percent-encoded; the host
// must come out the same whatever the port, or each connection would be a caller of its own.
TEST(AuthorizationTest, PeerHostDecodesTheIpv6FormGrpcWrites) {
  EXPECT_EQ(PeerHost("ipv6:%5B::1%5D:4444"), "::1");
  EXPECT_EQ(PeerHost("ipv6:%5B::1%5D:5555"), "::1");
  EXPECT_EQ(PeerHost("ipv6:%5b2001:db8::7%5d:50051"), "2001:db8::7");
  EXPECT_EQ(PeerHost("ipv6:%5Bfe80::1%25eth0%5D:4444"), "fe80::1%eth0");
  EXPECT_EQ(PeerHost("ipv4:10.1.2.3:4444"), "10.1.2.3");
  EXPECT_EQ(PeerHost("unix:/tmp/perfcast.sock"), "unix:/tmp/perfcast.sock");
}

TEST(AuthorizationTest, BadTokenFilesAreRefusedNamingTheLineNotTheToken) {
  auto load = [](const std::string& text) { return Authorizer::FromCsv(text, "t.csv").status(); };
  EXPECT_THAT(load("token,role\n").message(), HasSubstr("header"));
  EXPECT_THAT(load("token,name,role\nshort,a,read\n").message(), HasSubstr("line 2"));
  absl::Status bad_role = load("token,name,role\nread-token-0123456789,a,owner\n");
  EXPECT_THAT(bad_role.message(), HasSubstr("line 2"));
  EXPECT_THAT(bad_role.message(), HasSubstr("role"));
  EXPECT_THAT(bad_role.message(), Not(HasSubstr("read-token-0123456789")));
  // Columns out of order: the token sits in the role column; the message must not quote it.
  absl::Status misordered =
      load("token,name,role\npipeline-service-01,write,s3cr3t-0123456789abcdef\n");
  EXPECT_EQ(misordered.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(misordered.message(), HasSubstr("line 2"));
  EXPECT_THAT(misordered.message(), HasSubstr("field 3 (role)"));
  EXPECT_THAT(misordered.message(), Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(misordered.message(), Not(HasSubstr("pipeline-service-01")));
  absl::Status repeated =
      load("token,name,role\nread-token-0123456789,a,read\nread-token-0123456789,b,admin\n");
  EXPECT_THAT(repeated.message(), HasSubstr("line 3"));
  EXPECT_THAT(repeated.message(), Not(HasSubstr("read-token-0123456789")));
  EXPECT_EQ(load("token,name,role\n").code(), absl::StatusCode::kInvalidArgument);
}

// A file written name,token,role is refused at start, naming file and line but no token: under
// that header, and under the right header with rows in that order (short or long names).
TEST(AuthorizationTest, SwappedColumnsAreRefusedNamingTheLineNotTheToken) {
  constexpr char kHex[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  constexpr char kBase64[] = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=";
  auto load = [](const std::string& text) { return Authorizer::FromCsv(text, "t.csv").status(); };

  absl::Status header = load(absl::StrCat("name,token,role\npipeline,", kHex, ",write\n"));
  EXPECT_EQ(header.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(header.message(), HasSubstr("t.csv line 1"));
  EXPECT_THAT(header.message(), HasSubstr("token,name,role"));

  for (const char* token : {kHex, kBase64}) {
    for (const char* name : {"pipeline", "benchmark-pipeline-ci"}) {
      absl::Status rows = load(absl::StrCat("token,name,role\n", kHex, ",dashboard,read\n", name,
                                            ",", token, ",write\n"));
      EXPECT_EQ(rows.code(), absl::StatusCode::kInvalidArgument) << name;
      EXPECT_THAT(rows.message(), HasSubstr("t.csv line 3")) << name;
      EXPECT_THAT(rows.message(), HasSubstr("swapped")) << name;
      EXPECT_THAT(rows.message(), Not(HasSubstr(token))) << name;
      EXPECT_THAT(rows.message(), Not(HasSubstr(kHex))) << name;
    }
  }
}

// The check must not refuse ordinary files: names with digits, and tokens that are also hex.
TEST(AuthorizationTest, NamesThatDoNotLookLikeTokensAreAccepted) {
  absl::StatusOr<Authorizer> tokens = Authorizer::FromCsv(
      "token,name,role\n"
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,pipeline-ci-01,write\n"
      "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=,probe,read\n"
      "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3,"
      "0123456789abcdef0123,admin\n",
      "t.csv");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->token_count(), 3u);
}

}  // namespace
}  // namespace perfcast::server
