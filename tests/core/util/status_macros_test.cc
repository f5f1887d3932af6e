#include "core/util/status_macros.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

absl::StatusOr<int> Parse(bool ok, int value) {
  if (!ok) return absl::DataLossError("no value");
  return value;
}

absl::StatusOr<int> Sum(bool first_ok, bool second_ok) {
  PERFCAST_ASSIGN_OR_RETURN(const int first, Parse(first_ok, 1));
  PERFCAST_ASSIGN_OR_RETURN(const int second, Parse(second_ok, 2));
  return first + second;
}

TEST(AssignOrReturnTest, DeclaresTheValueWhenOk) { EXPECT_EQ(*Sum(true, true), 3); }

TEST(AssignOrReturnTest, ReturnsTheFirstErrorUnchanged) {
  const absl::StatusOr<int> sum = Sum(true, false);
  EXPECT_EQ(sum.status(), absl::DataLossError("no value"));
}

absl::Status AssignToExisting(bool ok, int& out) {
  PERFCAST_ASSIGN_OR_RETURN(out, Parse(ok, 42));
  return absl::OkStatus();
}

TEST(AssignOrReturnTest, AssignsAnExistingVariableInAStatusFunction) {
  int out = 0;
  EXPECT_TRUE(AssignToExisting(true, out).ok());
  EXPECT_EQ(out, 42);
  out = 0;
  EXPECT_EQ(AssignToExisting(false, out).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(out, 0);
}

absl::StatusOr<std::unique_ptr<std::string>> MakeText() {
  return std::make_unique<std::string>("moved");
}

absl::StatusOr<std::string> ReadMoveOnly() {
  PERFCAST_ASSIGN_OR_RETURN(std::unique_ptr<std::string> text, MakeText());
  return *text;
}

TEST(AssignOrReturnTest, MovesAMoveOnlyValue) { EXPECT_EQ(*ReadMoveOnly(), "moved"); }

absl::StatusOr<int> CountCalls(int& calls) {
  ++calls;
  return calls;
}

absl::Status EvaluateOnce(int& calls) {
  PERFCAST_ASSIGN_OR_RETURN(const int value, CountCalls(calls));
  return value == 1 ? absl::OkStatus() : absl::InternalError("evaluated twice");
}

TEST(AssignOrReturnTest, EvaluatesTheExpressionOnce) {
  int calls = 0;
  EXPECT_TRUE(EvaluateOnce(calls).ok());
  EXPECT_EQ(calls, 1);
}

absl::Status Steps(bool first_ok, int& reached) {
  PERFCAST_RETURN_IF_ERROR(first_ok ? absl::OkStatus() : absl::NotFoundError("first"));
  reached = 1;
  PERFCAST_RETURN_IF_ERROR(absl::InvalidArgumentError("second"));
  reached = 2;
  return absl::OkStatus();
}

TEST(ReturnIfErrorTest, ContinuesPastOkAndReturnsTheFirstError) {
  int reached = 0;
  EXPECT_EQ(Steps(true, reached), absl::InvalidArgumentError("second"));
  EXPECT_EQ(reached, 1);
}

TEST(ReturnIfErrorTest, StopsAtTheFirstError) {
  int reached = 0;
  EXPECT_EQ(Steps(false, reached), absl::NotFoundError("first"));
  EXPECT_EQ(reached, 0);
}

absl::StatusOr<std::string> ReturnIfErrorInStatusOr(bool ok) {
  PERFCAST_RETURN_IF_ERROR(ok ? absl::OkStatus() : absl::UnavailableError("down"));
  return std::string("up");
}

TEST(ReturnIfErrorTest, WorksInAFunctionReturningStatusOr) {
  EXPECT_EQ(*ReturnIfErrorInStatusOr(true), "up");
  EXPECT_EQ(ReturnIfErrorInStatusOr(false).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace perfcast
