// Test support for tests that run the sunbridge binary: a temporary folder, an HTTP client for
// its API, a row count straight from its database.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "net/http_client.hpp"
#include "net/test_io.hpp"

namespace sb::test {

/// An empty folder under the system's temporary folder, named for the test and this process.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("sunbridge-e2e-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// A harness's setting from the environment (SB_CRASH_KILLS, SB_SOAK_SPEED, ...): `fallback`
/// when unset or empty; a value that is not a finite number stops the harness with its name.
inline double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (*end != '\0' || !std::isfinite(d))
    throw std::invalid_argument(std::string(name) + "='" + v + "' is not a number");
  return d;
}

/// Calls to a gateway's API (or a simulator) on 127.0.0.1:port, or another loopback address.
struct Http {
  net::TestIo io{1};
  net::HttpClient client;
  std::uint16_t port;
  std::string host = "127.0.0.1";
  /// `timeout`: the whole exchange (a command forwarded across a fleet may take a lease).
  explicit Http(std::uint16_t p, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : client(io.executor(), net::HttpClientOptions{.request_timeout = timeout}), port(p) {}
  Http(std::string h, std::uint16_t p) : Http(p) { host = std::move(h); }
  Result<net::HttpResponse> call(std::string method, std::string target, std::string body = {},
                                 net::Headers headers = {}) {
    net::HttpRequest r{std::move(method), std::move(target), std::move(headers), std::move(body)};
    return io.run(client.request({host, port, false}, r));
  }
};

/// GET `target` as JSON; nullopt unless it answers 200 with a JSON body.
inline std::optional<boost::json::value> get_json(Http& api, const std::string& target) {
  auto r = api.call("GET", target);
  if (!r || r->status != 200) return std::nullopt;
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (ec) return std::nullopt;
  return v;
}

/// The first column of the first row `sql` gives on the database, read-only; -1 when the
/// database or the statement fails.
inline std::int64_t count_rows(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return -1;
  }
  sqlite3_busy_timeout(h, 5000);
  sqlite3_stmt* st = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

}  // namespace sb::test
