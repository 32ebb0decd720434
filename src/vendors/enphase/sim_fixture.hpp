// The fixture of the Enphase simulator's tests: a simulator on a manual clock (2026-06-15 18:00
// UTC, 11:00 in Sacramento) and calls to it over real HTTP with both credentials.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "net/crypto.hpp"
#include "net/http_client.hpp"
#include "net/test_io.hpp"
#include "vendors/enphase/simulator.hpp"

using namespace sb;
using namespace std::chrono;
namespace json = boost::json;

struct EnphaseSim : ::testing::Test {
  net::TestIo io;
  ManualClock clock{time_point_cast<Millis>(sys_days(2026y / 6 / 15) + hours(18))};
  net::HttpClient http{io.executor()};
  std::unique_ptr<enphase::Simulator> sim;
  enphase::SimOptions options;

  void start(enphase::SimOptions o = {}) {
    options = o;
    sim = std::make_unique<enphase::Simulator>(io.executor(), clock, o);
    ASSERT_TRUE(sim->listen("127.0.0.1", 0));
    options = sim->options();
  }
  void SetUp() override { start(); }
  net::HttpResponse call(std::string method, std::string target, std::string body = {},
                         net::Headers headers = {}) {
    net::HttpRequest r{std::move(method), std::move(target), std::move(headers), std::move(body)};
    auto res = io.run(http.request({"127.0.0.1", sim->port(), false}, r));
    EXPECT_TRUE(res) << (res ? "" : res.error().message);
    return res ? *res : net::HttpResponse{};
  }
  net::HttpResponse get(std::string target, std::string token = "") {
    if (token.empty()) token = sim->default_access_token();
    return call("GET", std::move(target), {},
                {{"Authorization", "Bearer " + token}, {"key", options.api_key}});
  }
  json::value body(const net::HttpResponse& r) { return json::parse(r.body); }
  net::HttpResponse token(std::string query) {
    return call("POST", "/oauth/token?" + query, {},
                {{"Authorization", "Basic " + crypto::base64_encode(options.client_id + ":" +
                                                                    options.client_secret)}});
  }
};
