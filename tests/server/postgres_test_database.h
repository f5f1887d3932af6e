#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/postgres/pg_connection.h"

namespace perfcast::server::testing {

// The admin URL of the test PostgreSQL that the CTest fixture `postgres` started
// (tests/postgres/postgres_fixture.sh), read from the file PERFCAST_TEST_POSTGRES_URL_FILE
// names; empty when the variable is unset (the binary was run outside ctest).
inline std::string TestPostgresAdminUrl() {
  const char* file = std::getenv("PERFCAST_TEST_POSTGRES_URL_FILE");
  if (file == nullptr) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  return std::string(absl::StripAsciiWhitespace(url));
}

// A fresh, empty database on the test PostgreSQL, dropped (with its sessions) on destruction, so
// that tests running at once share no tables, NOTIFY channels or advisory locks.
class PostgresTestDatabase {
 public:
  PostgresTestDatabase() : admin_url_(TestPostgresAdminUrl()) {
    static std::atomic<int> counter{0};
    name_ = absl::StrCat("perfcast_test_", ::getpid(), "_", counter++);
    auto admin = PgConnection::Connect(admin_url_);
    if (!admin.ok()) {
      error_ = admin.status().ToString();
      return;
    }
    if (absl::Status s = (*admin)->Run(absl::StrCat("CREATE DATABASE ", name_)); !s.ok()) {
      error_ = s.ToString();
      return;
    }
    url_ = absl::StrCat(admin_url_.substr(0, admin_url_.rfind('/') + 1), name_);
  }
  ~PostgresTestDatabase() {
    if (url_.empty()) return;
    if (auto admin = PgConnection::Connect(admin_url_); admin.ok()) {
      (*admin)->Run(absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)")).IgnoreError();
    }
  }
  PostgresTestDatabase(const PostgresTestDatabase&) = delete;
  PostgresTestDatabase& operator=(const PostgresTestDatabase&) = delete;

  // Empty when the database could not be created; error() says why.
  const std::string& url() const { return url_; }

  // Ends every session on this database but the caller's own: what PostgreSQL does to the
  // sessions of a client that died or a connection that broke.
  absl::Status TerminateSessions() const {
    auto admin = PgConnection::Connect(url_);
    if (!admin.ok()) return admin.status();
    return (*admin)->Run(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }
  const std::string& error() const { return error_; }

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
  std::string error_;
};

}  // namespace perfcast::server::testing
