// The fixture of the PostgreSQL tests (`*_pgtest.cpp`, CTest label `pg`): a PostgreSQL 15
// server the test process starts on a loopback port in a temporary folder (pg_server.hpp), a
// fresh database for each test, and the helpers the tests share.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "e2e_support.hpp"
#include "pg_server.hpp"
#include "store/store.hpp"

namespace sb::test {

// The ports of a `sunbridge simulate` with `n` devices, from its first lines ("listening on
// http://127.0.0.1:PORT"); fewer when it said something else.
inline std::vector<std::string> device_ports(Process& sim, int n) {
  std::vector<std::string> ports;
  for (int i = 0; i < n; ++i) {
    auto l = sim.line(std::chrono::seconds(60));
    if (!l || l->rfind("listening on ", 0) != 0) break;
    ports.push_back(l->substr(l->rfind(':') + 1));
  }
  return ports;
}

class PgTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new PgServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(server_->error(), "");
    static int n = 0;
    db_ = "t" + std::to_string(n++);
    url_ = server_->create_database(db_);
    ASSERT_EQ(server_->error(), "");
  }
  std::unique_ptr<store::Store> open(store::PostgresOptions o = {}) {
    auto s = store::open_postgres(url_, o);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? std::move(*s) : nullptr;
  }
  std::string value(const std::string& query) { return server_->value(db_, query); }

  static inline PgServer* server_ = nullptr;
  std::string db_, url_;
};

inline const std::string kBin = SUNBRIDGE_BINARY;

}  // namespace sb::test
