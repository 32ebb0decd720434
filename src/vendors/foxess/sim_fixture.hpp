// The fixture the FoxESS simulator tests share: an account of three plants and twelve
// inverters on a manual clock, the client and the driver against it over real HTTP.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "core/metric.hpp"
#include "net/driver_env.hpp"
#include "net/json.hpp"
#include "net/retry.hpp"
#include "net/test_io.hpp"
#include "vendors/foxess/client.hpp"
#include "vendors/foxess/driver.hpp"
#include "vendors/foxess/signature.hpp"
#include "vendors/foxess/simulator.hpp"

namespace sb::foxess_test {

using namespace sb::net;
using namespace std::chrono;

inline TimePoint summer_noon() {
  TimePoint t;
  parse_iso8601("2026-06-21T10:00:00Z", t);
  return t;
}

struct FoxSim : ::testing::Test {
  TestIo io;
  ManualClock clock{summer_noon()};
  HttpClient http{io.executor()};
  std::unique_ptr<foxess::Simulator> sim;

  void start(foxess::SimOptions o) {
    sim = std::make_unique<foxess::Simulator>(io.executor(), clock, std::move(o));
    ASSERT_TRUE(sim->listen("127.0.0.1", 0));
  }
  void SetUp() override {
    foxess::SimOptions o;
    o.plants = foxess::make_account(3, 4, 7, true);  // 12 inverters, every third without battery
    o.query_gap = o.write_gap = Millis(0);
    start(o);
  }
  void TearDown() override { sim->stop(); }
  foxess::Client client(std::string key = "") {
    return foxess::Client(http, {"127.0.0.1", sim->port(), false},
                          key.empty() ? sim->options().api_key : key, clock,
                          net::kTestRequestTimeout);
  }
  // A raw POST with headers as given (for the signature and header failures).
  int raw_errno(const std::string& path, Headers headers, std::string body = "{}") {
    headers.emplace_back("Content-Type", "application/json");
    HttpRequest r{"POST", path, std::move(headers), std::move(body)};
    auto res = io.run(http.request({"127.0.0.1", sim->port(), false}, r));
    EXPECT_TRUE(res);
    auto o = parse_json_object(res ? res->body : "", "reply");
    EXPECT_TRUE(o) << (res ? res->body : "");
    return o ? int(*as_double((*o)["errno"])) : -1;
  }
  ManualSleeper sleeper{clock};
  boost::asio::thread_pool pool{1};
  DriverEnv env{io.executor(), clock, http, sleeper, &pool};
  ConnectionConfig config(std::string key = "") {
    ConnectionConfig c;
    c.name = "fox";
    c.vendor = "foxess";
    c.site = "home";
    c.host = "127.0.0.1";
    c.port = sim->port();
    c.poll_interval = Millis(10'000);
    c.timeout = net::kTestRequestTimeout;
    c.options["api_key"] = key.empty() ? sim->options().api_key : key;
    c.options["verify_timeout"] = "10";
    return c;
  }
  std::unique_ptr<Driver> driver(const ConnectionConfig& c) {
    auto made = foxess::registry_entry().factory(c, env);
    EXPECT_TRUE(made) << made.error().message;
    return made ? std::move(*made) : nullptr;
  }
  std::map<std::string, double> metrics(const Snapshot& s) {
    std::map<std::string, double> m;
    for (const auto& x : s.samples) m[x.metric] = x.value;
    return m;
  }
  std::map<std::string, double> values(const foxess::RealTime& rt) {
    std::map<std::string, double> m;
    for (const auto& d : rt.data) m[d.variable] = d.value;
    return m;
  }
};

}  // namespace sb::foxess_test
