// Test support: a PostgreSQL 15 server of the test's own (Debian's postgresql-15): initdb in a
// temporary folder, `postgres` on a free loopback port with its socket and logs in that folder,
// stopped (fast shutdown) and removed at the end. initdb refuses to run as root: as root (CI),
// the server runs as the `postgres` user through setpriv, which execs it (no process between).
#pragma once

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ports.hpp"
#include "process.hpp"

namespace sb::test {

class PgServer {
 public:
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";

  PgServer() {
    namespace fs = std::filesystem;
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("sb-pg-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (::geteuid() == 0) {
      auto* pw = ::getpwnam("postgres");
      if (!pw) {
        error_ = "running as root and there is no 'postgres' user to run the server as";
        return;
      }
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      if (::chown(dir_.c_str(), uid_, gid_) != 0) {
        error_ = "cannot give " + dir_.string() + " to the postgres user";
        return;
      }
    }
    Process init(
        as_server_user({std::string(kBin) + "initdb", "-D", (dir_ / "data").string(), "-A", "trust",
                        "-U", "sunbridge", "-E", "UTF8", "--no-sync", "--no-instructions"}));
    if (int rc = init.wait(std::chrono::seconds(120)); rc != 0) {
      error_ = "initdb failed (" + std::to_string(rc) + "): " + init.rest_of_stderr();
      return;
    }
    port_ = free_port();
    start();
  }
  ~PgServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  /// Empty when the server runs; else what went wrong.
  const std::string& error() const { return error_; }
  std::uint16_t port() const { return port_; }

  /// A connection string for `db` (made by create_database()).
  std::string url(const std::string& db) const {
    return "postgresql://sunbridge@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

  /// A fresh, empty database; its URL.
  std::string create_database(const std::string& name) {
    auto r = sql("postgres", "CREATE DATABASE " + name);
    if (!r.empty()) error_ = r;
    return url(name);
  }

  /// Runs `statement` on `db`; "" or the error.
  std::string sql(const std::string& db, const std::string& statement) const {
    PGconn* c = PQconnectdb(url(db).c_str());
    std::string err;
    if (PQstatus(c) != CONNECTION_OK) {
      err = PQerrorMessage(c);
    } else {
      PGresult* r = PQexec(c, statement.c_str());
      auto s = PQresultStatus(r);
      if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) err = PQresultErrorMessage(r);
      PQclear(r);
    }
    PQfinish(c);
    return err;
  }

  /// The first column of the first row of `query` on `db` ("" when there is none).
  std::string value(const std::string& db, const std::string& query) const {
    PGconn* c = PQconnectdb(url(db).c_str());
    std::string out;
    if (PQstatus(c) == CONNECTION_OK) {
      PGresult* r = PQexec(c, query.c_str());
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
      PQclear(r);
    }
    PQfinish(c);
    return out;
  }

  /// Fast shutdown: clients are disconnected, the server ends cleanly.
  void stop() {
    if (!process_) return;
    process_->signal(SIGINT);
    process_->wait(std::chrono::seconds(60));
    process_.reset();  // SIGKILL if it did not end
  }

  /// Starts the server again on the same port and data.
  void start() {
    process_ = std::make_unique<Process>(as_server_user(
        {std::string(kBin) + "postgres", "-D", (dir_ / "data").string(), "-p",
         std::to_string(port_), "-k", dir_.string(), "-c", "listen_addresses=127.0.0.1", "-c",
         "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
         "logging_collector=on", "-c", "log_directory=" + (dir_ / "log").string()}));
    auto conninfo =
        "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=sunbridge";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (PQping(conninfo.c_str()) != PQPING_OK) {
      if (std::chrono::steady_clock::now() > deadline) {
        error_ = "postgres did not accept connections on port " + std::to_string(port_) +
                 " within 120 s (its log: " + (dir_ / "log").string() + ")";
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

 private:
  std::vector<std::string> as_server_user(std::vector<std::string> args) const {
    if (uid_ == 0) return args;
    std::vector<std::string> out{"/usr/bin/setpriv", "--reuid=" + std::to_string(uid_),
                                 "--regid=" + std::to_string(gid_), "--init-groups", "--"};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::string error_;
  std::unique_ptr<Process> process_;
};

}  // namespace sb::test
