#pragma once

// Runs the built `perfcast` (PERFCAST_CLI_BINARY, which the test target defines) the way a user
// does, capturing what it prints and its exit code.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace perfcast::testing {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `perfcast ARGUMENTS`, stdout captured through a pipe and stderr through a file named after
// `file_prefix` and the running test (CTest runs the tests of one binary as parallel processes).
inline CliRun RunCli(const std::string& arguments, const std::string& file_prefix) {
  const std::string err_path =
      absl::StrCat(::testing::TempDir(), "/", file_prefix, "_",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".err");
  std::FILE* pipe =
      ::popen(absl::StrCat(PERFCAST_CLI_BINARY, " ", arguments, " 2>", err_path).c_str(), "r");
  CliRun run;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.out.append(buffer, n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  run.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return run;
}

}  // namespace perfcast::testing
