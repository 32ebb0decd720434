// Gateway + REST API + sonnen simulator in one process, over real HTTP: polling, offline
// detection and recovery, commands and their error statuses, history parameters. And the
// gateway's shutdown against the KOSTAL simulator: polling ends, the session is logged out. And
// the commands only some vendors have, checked and applied against the FoxESS simulator.
// Just over ~700 lines on purpose: one fixture (gateway, REST API, simulator) serves them all.
#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "engine/drivers.hpp"
#include "engine/gateway.hpp"
#include "loopback.hpp"
#include "net/http_server.hpp"
#include "net/json.hpp"
#include "net/test_io.hpp"
#include "outputs/prometheus/exposition.hpp"
#include "outputs/rest/rest_api.hpp"
#include "vendors/foxess/simulator.hpp"
#include "vendors/kostal/simulator.hpp"
#include "vendors/sonnen/simulator.hpp"

using namespace sb;
using namespace std::chrono;
namespace asio = boost::asio;

namespace {

const std::string kToken = "test-token-0123456789";

struct GatewaySim : ::testing::Test {
  // The clock outlives the I/O threads: a poll still running at teardown reads it.
  RealClock clock;
  net::TestIo io{2};
  asio::thread_pool pool{2};
  net::HttpClient http{io.executor()};
  std::unique_ptr<store::Store> store = std::move(*store::open_sqlite(":memory:"));
  std::unique_ptr<sonnen::Simulator> sim;
  std::unique_ptr<engine::Gateway> gw;
  std::unique_ptr<net::HttpServer> server;

  void SetUp() override {
    sim = std::make_unique<sonnen::Simulator>(io.executor(), clock, sim::SiteConfig{});
    ASSERT_TRUE(sim->listen("127.0.0.1", 0));
    gw = std::make_unique<engine::Gateway>(deps(), config());
    ASSERT_TRUE(gw->start());
    serve(kToken);
  }
  // One site, one sonnen connection to the simulator, polled every 100 ms.
  engine::Config config() const {
    auto c = test::loopback_connection("bat", "sonnen", sim->port(), Millis(100));
    c.timeout = Millis(1000);
    c.options["verify_timeout"] = "2";
    return test::one_site_config(c);
  }
  engine::GatewayDeps deps() {
    return {io.executor(), clock, *store, engine::builtin_drivers(), pool, http};
  }
  void serve(const std::string& token) {
    if (server) server->stop();
    server = std::make_unique<net::HttpServer>(
        io.executor(), rest::make_router(*gw, *store, pool, clock, {token, true}));
    ASSERT_TRUE(server->listen("127.0.0.1", 0));
  }
  void TearDown() override {
    server->stop();
    // close, not stop: a round still in flight on an I/O thread would post to `pool` after it
    // is gone (ASan: a test that ends while the first round runs); close waits for the loops.
    gw->close(seconds(5));
    sim->stop();
    pool.wait();
    store->close();
  }

  net::HttpResponse call(std::string method, std::string target, std::string body = {},
                         std::string token = kToken) {
    net::HttpRequest r{std::move(method), std::move(target), {}, std::move(body)};
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    auto res = io.run(http.request({"127.0.0.1", server->port(), false}, r));
    EXPECT_TRUE(res) << (res ? "" : res.error().message);
    return res ? *res : net::HttpResponse{};
  }
  boost::json::object json(const net::HttpResponse& r) {
    auto o = net::parse_json_object(r.body, "response");
    EXPECT_TRUE(o) << r.body;
    return o ? *o : boost::json::object{};
  }
  template <class Pred>
  bool eventually(Pred p, milliseconds limit = seconds(10)) {
    auto deadline = steady_clock::now() + limit;
    while (steady_clock::now() < deadline) {
      if (p()) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }
  bool online() {
    auto r = call("GET", "/api/v1/devices/bat:battery/live");
    return r.status == 200 && json(r)["online"].as_bool();
  }
  std::string error_message(const net::HttpResponse& r) {
    auto o = json(r);
    return o.contains("error") ? std::string(o["error"].as_object()["message"].as_string())
                               : r.body;
  }
  std::string post(const std::string& body, int expect_status, std::string token = kToken) {
    auto r = call("POST", "/api/v1/devices/bat:battery/commands", body, std::move(token));
    EXPECT_EQ(r.status, expect_status) << r.body;
    return r.status == 200 ? r.body : error_message(r);
  }
};

}  // namespace

TEST_F(GatewaySim, PollsStoresAndServesLiveValuesAndHistory) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  auto live = json(call("GET", "/api/v1/live"));
  auto site = live["sites"].as_object()["home"].as_object();
  double pv = site["pv.power"].to_number<double>(), load = site["load.power"].to_number<double>();
  double grid = site["grid.power"].to_number<double>(),
         bat = site["battery.power"].to_number<double>();
  EXPECT_NEAR(pv + grid + bat, load, 2.0);  // the balance holds in what we serve
  ASSERT_TRUE(eventually([&] {
    (void)store->flush();
    auto h = json(call("GET", "/api/v1/devices/bat:battery/history?metric=battery.soc"));
    return h["points"].as_array().size() >= 3;
  }));
  auto bucketed =
      json(call("GET", "/api/v1/devices/bat:battery/history?metric=battery.power&step=60s"));
  EXPECT_EQ(bucketed["columns"].as_array().size(), 4u);
  EXPECT_EQ(bucketed["unit"].as_string(), "W");
  auto health = json(call("GET", "/api/v1/health"));
  EXPECT_EQ(health["status"].as_string(), "ok");
  EXPECT_EQ(health["connections"].as_array()[0].as_object()["state"].as_string(), "ok");
  // The battery's commands as the catalogue describes them, with its own range.
  auto devices = boost::json::parse(call("GET", "/api/v1/devices").body);
  auto commands = devices.as_array()[0].as_object()["capabilities"].as_object()["commands"];
  ASSERT_FALSE(commands.as_array().empty()) << devices;
  auto setpoint = commands.as_array()[0].as_object();
  EXPECT_EQ(setpoint["name"].as_string(), "battery-power");
  EXPECT_EQ(setpoint["kind"].as_string(), "number");
  EXPECT_EQ(setpoint["widget"].as_string(), "setpoint");
  EXPECT_EQ(setpoint["unit"].as_string(), "W");
  auto lo = boost::json::value_to<double>(setpoint["min"]);
  auto hi = boost::json::value_to<double>(setpoint["max"]);
  EXPECT_GT(hi, 0);
  EXPECT_EQ(lo, -hi);
}

TEST_F(GatewaySim, DeviceGoesOfflineAfterThreeFailedPollsAndComesBack) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  sim->set_faults({.error_rate = 1.0});
  ASSERT_TRUE(eventually([&] { return !online(); }));
  auto l = json(call("GET", "/api/v1/devices/bat:battery/live"));
  // No stale value is served as current: only device.online = 0 remains.
  EXPECT_FALSE(l["values"].as_object().contains("battery.power"));
  EXPECT_EQ(l["values"].as_object()["device.online"].as_object()["value"].to_number<double>(), 0);
  auto health = json(call("GET", "/api/v1/health"));
  auto conn = health["connections"].as_array()[0].as_object();
  EXPECT_EQ(health["status"].as_string(), "degraded");
  EXPECT_EQ(conn["state"].as_string(), "failing");
  EXPECT_NE(std::string(conn["last_error"].as_string()).find("ReturnCode 13"), std::string::npos);
  EXPECT_EQ(health["connections_total"].to_number<int>(), 1);
  EXPECT_EQ(health["connection_states"].as_object()["failing"].to_number<int>(), 1);
  EXPECT_EQ(health["connection_states"].as_object()["ok"].to_number<int>(), 0);
  EXPECT_FALSE(health["truncated"].as_bool());
  EXPECT_EQ(health["schedule"].as_object()["polls"].to_number<std::int64_t>(),
            conn["polls"].to_number<std::int64_t>());
  // The bounded answers a large gateway's monitor asks for: only what needs a look, or at
  // most N connections; the counts cover every connection whatever is listed.
  auto failing = json(call("GET", "/api/v1/health?state=failing,needs_credentials"));
  EXPECT_EQ(failing["connections"].as_array().size(), 1u);
  auto only_ok = json(call("GET", "/api/v1/health?state=ok"));
  EXPECT_TRUE(only_ok["connections"].as_array().empty());
  EXPECT_EQ(only_ok["connections_total"].to_number<int>(), 1);
  EXPECT_EQ(only_ok["status"].as_string(), "degraded");
  EXPECT_FALSE(only_ok["truncated"].as_bool());
  auto none = json(call("GET", "/api/v1/health?limit=0"));
  EXPECT_TRUE(none["connections"].as_array().empty());
  EXPECT_TRUE(none["truncated"].as_bool());
  auto bad_state = call("GET", "/api/v1/health?state=failing,broken");
  EXPECT_EQ(bad_state.status, 400);
  EXPECT_NE(bad_state.body.find("query parameter 'state': 'broken' is not a connection state "
                                "(starting, ok, failing, needs_credentials, unheld)"),
            std::string::npos)
      << bad_state.body;
  auto bad_limit = call("GET", "/api/v1/health?limit=-1");
  EXPECT_EQ(bad_limit.status, 400);
  EXPECT_NE(bad_limit.body.find("query parameter 'limit' = '-1' must be a whole number from 0"),
            std::string::npos)
      << bad_limit.body;
  sim->set_faults({});
  ASSERT_TRUE(eventually([&] { return online(); }, seconds(15)));
  ASSERT_TRUE(eventually([&] {
    auto ev = call("GET", "/api/v1/events?device=bat:battery");
    return ev.body.find("device.offline") != std::string::npos &&
           ev.body.find("device.online") != std::string::npos;
  }));
}

// A battery on the LAN that fails is asked again every poll interval, not after a backoff
// growing to 5 minutes: it is polled again within one interval of returning (sonnen keeps no
// history, so the minutes of a cloud's backoff would be lost for good).
TEST_F(GatewaySim, ALocalDeviceIsTriedEveryPollIntervalAndResumesWhenItIsBack) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  sim->set_faults({.error_rate = 1.0});
  // Twenty failures at 100 ms apart; a doubling backoff would need minutes for them.
  ASSERT_TRUE(eventually([&] { return gw->health()[0].consecutive_failures >= 20; }, seconds(30)))
      << gw->health()[0].consecutive_failures;
  EXPECT_FALSE(online());
  auto requests = sim->requests();
  sim->set_faults({});
  ASSERT_TRUE(eventually([&] { return online(); }, seconds(30)));
  // The next poll after the fault cleared brought it back: no failed attempt in between.
  EXPECT_LE(sim->requests() - requests, 3u);
}

TEST_F(GatewaySim, CommandsAreAuthenticatedValidatedVerifiedAndAudited) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  EXPECT_EQ(post(R"({"command":"battery-power","value":-1000})", 401, "wrong-token-0000000"),
            "missing or wrong bearer token (header Authorization: Bearer <token>)");
  EXPECT_NE(post("not json", 400).find("request body: invalid JSON"), std::string::npos);
  EXPECT_EQ(
      post(R"({"command":"boost","value":1})", 400),
      "unknown command 'boost' (valid: battery-power, min-soc, release, min-home-consumption, "
      "battery-strategy, smart-control, time-control, export-limit, min-soc-off-grid, "
      "tou-schedule, charge-windows, peak-shaving, charge-from-grid, storm-guard, load-control, "
      "ev-charging)");
  EXPECT_EQ(post(R"({"command":"tou-schedule","argument":"00:00-05:00 charge power=1000"})", 422),
            "bat:battery has no time-of-use schedule");
  EXPECT_EQ(post(R"({"command":"battery-power"})", 400), "request body: field 'value' is missing");
  EXPECT_EQ(post(R"({"command":"battery-power","value":-99999})", 400),
            "battery-power -99999 W is outside bat:battery's range -4600 W (charge) .. 4600 W "
            "(discharge)");
  EXPECT_EQ(post(R"({"command":"release"})", 422),
            "bat:battery cannot hand control back to its own mode");
  auto unknown =
      call("POST", "/api/v1/devices/nope/commands", R"({"command":"battery-power","value":1})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_message(unknown), "unknown device 'nope' (known: bat:battery)");
  auto ok = post(R"({"command":"battery-power","value":-1500})", 200);
  EXPECT_NE(ok.find("\"status\":\"verified\""), std::string::npos) << ok;
  EXPECT_DOUBLE_EQ(sim->with_site([](sim::Site& s) { return s.state().battery_w; }), -1500);
  auto rows = net::parse_json(call("GET", "/api/v1/commands").body, "audit")->as_array();
  ASSERT_EQ(rows.size(), 4u);  // verified + the three refused by validation
  EXPECT_EQ(rows[0].as_object().at("status").as_string(), "verified");
  EXPECT_EQ(rows[1].as_object().at("status").as_string(), "rejected");
  EXPECT_EQ(rows[0].as_object().at("requested_by").as_string(), "api:127.0.0.1");
}

TEST_F(GatewaySim, ASecondCommandWhileOneRunsIsAConflict) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  sim->set_faults({.latency = Millis(600)});
  net::HttpRequest r{"POST",
                     "/api/v1/devices/bat:battery/commands",
                     {{"Authorization", "Bearer " + kToken}},
                     R"({"command":"battery-power","value":500})"};
  auto first = asio::co_spawn(io.io(), http.request({"127.0.0.1", server->port(), false}, r),
                              asio::use_future);
  // The first command holds the device once its audit row is written ("pending").
  ASSERT_TRUE(eventually([&] {
    auto c = store->commands({.limit = 1});
    return c && !c->empty() && c->front().status == "pending";
  }));
  net::HttpClient other(io.executor());
  auto second = io.run(other.request({"127.0.0.1", server->port(), false}, r));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 409);
  EXPECT_NE(second->body.find("is still running"), std::string::npos);
  auto done = first.get();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 200) << done->body;
}

TEST_F(GatewaySim, CommandsWithoutAConfiguredTokenAreForbidden) {
  serve("");
  auto r = call("POST", "/api/v1/devices/bat:battery/commands",
                R"({"command":"battery-power","value":1})");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("set gateway.api_token"), std::string::npos);
}

// A duration is whole seconds, 1..604800: 0.5 s was once cut to nothing and held for a second.
TEST_F(GatewaySim, FractionalZeroAndNegativeDurationsAreRefused) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  for (const char* d : {"0.5", "0", "-60", "1.5", "604801", "\"60\""})
    EXPECT_EQ(
        post(std::string(R"({"command":"battery-power","value":-500,"duration_s":)") + d + "}",
             400),
        "request body: 'duration_s' must be a whole number of seconds, 1..604800")
        << d;
  auto audit = store->commands({.limit = 10});
  ASSERT_TRUE(audit);
  EXPECT_TRUE(audit->empty());  // refused before anything was applied
}

TEST_F(GatewaySim, HistoryParametersAreCheckedByName) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  auto none = call("GET", "/api/v1/devices/bat:battery/history");
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(error_message(none), "query parameter 'metric' is required (e.g. battery.power)");
  auto metric = call("GET", "/api/v1/devices/bat:battery/history?metric=battery.sco");
  EXPECT_EQ(error_message(metric), "unknown metric 'battery.sco'");
  auto from = call("GET", "/api/v1/devices/bat:battery/history?metric=battery.soc&from=yesterday");
  EXPECT_EQ(from.status, 400);
  EXPECT_NE(error_message(from).find("query parameter 'from' = 'yesterday' is not a time"),
            std::string::npos);
  auto step = call("GET", "/api/v1/devices/bat:battery/history?metric=battery.soc&step=10ms");
  EXPECT_NE(error_message(step).find("at least 1s"), std::string::npos);
  auto many =
      call("GET", "/api/v1/devices/bat:battery/history?metric=battery.soc&from=2020-01-01&step=1s");
  EXPECT_NE(error_message(many).find("over 20000 points"), std::string::npos);
  auto order =
      call("GET",
           "/api/v1/devices/bat:battery/history?metric=battery.soc&from=2026-01-02&to=2026-01-01");
  EXPECT_EQ(error_message(order), "'from' must be before 'to'");
  auto route = call("GET", "/api/v1/nothing");
  EXPECT_EQ(route.status, 404);
  EXPECT_EQ(error_message(route), "no route for GET /api/v1/nothing");
}

TEST_F(GatewaySim, DevicesFromEarlierRunsAreListedOfflineWhileUnreachable) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  gw->stop();
  sim->stop();
  // A restart while the battery is unreachable: same store, same configuration.
  engine::Gateway again(deps(), config());
  ASSERT_TRUE(again.start());
  auto devices = again.devices();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].id, "bat:battery");
  ASSERT_EQ(again.live().size(), 1u);
  EXPECT_FALSE(again.live()[0].online);
  EXPECT_TRUE(eventually([&] { return again.health()[0].state == "failing"; }));
  EXPECT_NE(again.health()[0].last_error.find("Connection refused"), std::string::npos)
      << again.health()[0].last_error;
  again.stop();
}

// A gateway killed while a command ran left its audit row "pending" for ever (found by the crash
// harness, tests/crash): the next gateway to own the database closes it as interrupted, says
// so in an event, and the commands that finished keep their outcome.
TEST_F(GatewaySim, ACommandLeftPendingByAKilledGatewayIsClosedAsInterruptedAtTheNextStart) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  post(R"({"command":"battery-power","value":-1000})", 200);
  gw->stop();
  CommandRecord cut;
  cut.requested_at = clock.now();
  cut.requested_by = "api:127.0.0.1";
  cut.device = "bat:battery";
  cut.type = CommandType::BatteryPower;
  cut.value = -1500;
  cut.status = "pending";
  ASSERT_TRUE(store->begin_command(cut));
  engine::Gateway again(deps(), config());
  ASSERT_TRUE(again.start());
  auto rows = store->commands({.limit = 10});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].status, "interrupted");
  EXPECT_EQ((*rows)[0].detail,
            "sunbridge stopped while the command ran; whether the device took it is not known");
  EXPECT_TRUE((*rows)[0].finished_at);
  EXPECT_EQ((*rows)[1].status, "verified");
  auto events = again.events_after(0);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().second.code, "command.interrupted");
  EXPECT_EQ(events.back().second.message,
            "1 command was cut off when sunbridge last stopped; see the command audit");
  again.stop();
}

TEST_F(GatewaySim, StoredDevicesThatDiscoveryNoLongerFindsLeaveTheLiveView) {
  ASSERT_TRUE(eventually([&] { return online(); }));
  gw->stop();
  // A device an earlier configuration (another serial) left in the store.
  ASSERT_TRUE(store->upsert_device(
      {"bat:old-serial", "home", "bat", "sonnen", "battery", "sonnen", "", "old-serial", ""},
      clock.now()));
  engine::Gateway again(deps(), config());
  sim->set_faults({.latency = Millis(1000)});  // discovery answers a second later
  ASSERT_TRUE(again.start());
  EXPECT_EQ(again.devices().size(), 2u);  // both listed until discovery answers
  sim->set_faults({});
  ASSERT_TRUE(eventually([&] { return again.devices().size() == 1; }));
  EXPECT_EQ(again.devices()[0].id, "bat:battery");
  auto live = again.live();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].device.id, "bat:battery");
  again.stop();
}

// What the tests below without the sonnen fixture share: io, a store, and a gateway over one
// site with one loopback connection.
struct Rig {
  // The clock outlives the I/O threads: a poll still running at teardown reads it.
  RealClock clock;
  net::TestIo io{2};
  asio::thread_pool pool{2};
  net::HttpClient http{io.executor()};
  std::unique_ptr<store::Store> store = std::move(*store::open_sqlite(":memory:"));
  std::unique_ptr<engine::Gateway> gw;

  engine::Gateway& start(ConnectionConfig c) {
    auto cfg = test::one_site_config(std::move(c));
    gw = std::make_unique<engine::Gateway>(
        engine::GatewayDeps{io.executor(), clock, *store, engine::builtin_drivers(), pool, http},
        cfg);
    EXPECT_TRUE(gw->start());
    return *gw;
  }
  ~Rig() {
    if (gw) gw->close(seconds(5));  // the loops end before the pool goes
    pool.wait();
    store->close();
  }
};

// How late each planned round starts is counted: a device that answers 1.3 s late on a 100 ms
// plan starts every round over a second late, a late poll (later than a tenth of its interval
// and at least a second), in the connection's health and per vendor in /metrics.
TEST(GatewaySchedule, RoundsThatRunOverTheirIntervalAreLatePolls) {
  EXPECT_FALSE(is_late_poll(Millis(999), Millis(1000)));
  EXPECT_FALSE(is_late_poll(Millis(1000), Millis(100)));
  EXPECT_TRUE(is_late_poll(Millis(1001), Millis(100)));
  EXPECT_FALSE(is_late_poll(Millis(5000), Millis(60'000)));
  EXPECT_TRUE(is_late_poll(Millis(6001), Millis(60'000)));

  Rig rig;
  sonnen::Simulator sim(rig.io.executor(), rig.clock, sim::SiteConfig{});
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto c = test::loopback_connection("bat", "sonnen", sim.port(), Millis(100));
  c.timeout = Millis(10'000);
  auto& gw = rig.start(c);
  auto health = [&] {
    auto h = gw.health();
    return h.empty() ? ConnectionHealth{} : h.front();
  };
  auto eventually = [](auto p) {
    auto deadline = steady_clock::now() + seconds(60);
    while (!p() && steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return p();
  };
  ASSERT_TRUE(eventually([&] { return health().rounds_planned >= 1; }));
  sim.set_faults({.latency = Millis(1300)});
  const auto before = health();
  ASSERT_TRUE(eventually([&] { return health().polls_late >= before.polls_late + 2; }));
  const auto after = health();
  // Each late round is in the histogram's buckets above a second, and its lateness in the sum.
  std::uint64_t over_a_second = 0, before_over = 0;
  for (std::size_t i = 0; i <= kPollLatenessBucketCount; ++i)
    if (i == kPollLatenessBucketCount || kPollLatenessBuckets[i] > 1) {
      over_a_second += after.lateness_counts[i];
      before_over += before.lateness_counts[i];
    }
  EXPECT_GE(over_a_second - before_over, 2u);
  EXPECT_GE(after.lateness_sum_s - before.lateness_sum_s, 2.0);
  auto metrics = prometheus::render(gw, rig.store->stats());
  auto late = metrics.find("sunbridge_polls_late_total{vendor=\"sonnen\"} ");
  ASSERT_NE(late, std::string::npos) << metrics;
  EXPECT_GE(std::stoi(metrics.substr(late + 44)), 2) << metrics.substr(late, 60);
  EXPECT_NE(metrics.find("sunbridge_poll_lateness_seconds_bucket{vendor=\"sonnen\",le=\"+Inf\"}"),
            std::string::npos);
  EXPECT_EQ(metrics.find("sunbridge_polls_late_total{connection="), std::string::npos);
  sim.set_faults({});
  gw.close(seconds(5));
  sim.stop();
}

// A connection removed while its poll is still out (the device slower than the reload's
// budget): the gateway says its loop is finishing until the answer is in (a fleet worker keeps
// its lease that long), and what that late poll brings never shows as live.
TEST(GatewayReload, ALoopStillInASlowPollIsFinishingAndLeavesNoLiveValues) {
  Rig rig;
  sonnen::Simulator a(rig.io.executor(), rig.clock, sim::SiteConfig{});
  sonnen::Simulator b(rig.io.executor(), rig.clock, sim::SiteConfig{});
  ASSERT_TRUE(a.listen("127.0.0.1", 0));
  ASSERT_TRUE(b.listen("127.0.0.1", 0));
  auto ca = test::loopback_connection("a", "sonnen", a.port(), Millis(100));
  ca.timeout = Millis(10'000);
  auto cb = test::loopback_connection("b", "sonnen", b.port(), Millis(100));
  auto both = test::one_site_config(ca);
  both.connections.push_back(cb);
  auto& gw = rig.start(ca);
  ASSERT_TRUE(gw.reload(both, seconds(5)));
  auto eventually = [](auto p) {
    auto deadline = steady_clock::now() + seconds(60);
    while (!p() && steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return p();
  };
  auto live_of = [&](const std::string& id) {
    auto all = gw.live();
    return std::any_of(all.begin(), all.end(), [&](const auto& l) { return l.device.id == id; });
  };
  ASSERT_TRUE(eventually([&] { return live_of("a:battery") && live_of("b:battery"); }));
  // Every answer of a's device from now on 3 s late; the next poll is out once a request is.
  auto asked = a.requests();
  a.set_faults({.latency = Millis(3000)});
  ASSERT_TRUE(eventually([&] { return a.requests() > asked; }));
  auto removed = gw.reload(test::one_site_config(cb), milliseconds(200));
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, "stopped a");
  EXPECT_EQ(gw.finishing({"a", "b"}), std::set<std::string>{"a"});
  EXPECT_FALSE(live_of("a:battery"));
  // The answer comes, the loop ends; the values it brought are not a's live ones.
  ASSERT_TRUE(eventually([&] { return gw.finishing({"a"}).empty(); }));
  EXPECT_FALSE(live_of("a:battery"));
  EXPECT_TRUE(live_of("b:battery"));
  gw.close(seconds(3));
  a.stop();
  b.stop();
}

TEST(GatewayClose, StopsPollingAndLogsOutOfTheInverter) {
  Rig rig;
  kostal::SimOptions so;
  so.rounds = 1000;
  kostal::Simulator sim(rig.io.executor(), rig.clock, sim::SiteConfig{}, so);
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto c = test::loopback_connection("inv", "kostal", sim.port(), Millis(50));
  c.options["password"] = "owner-password";
  auto& gw = rig.start(c);
  auto deadline = steady_clock::now() + seconds(10);
  auto polled = [&] {
    auto live = gw.live();
    return !live.empty() && live[0].online;
  };
  while (!polled() && steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(polled());
  EXPECT_EQ(sim.sessions(), 1u);
  gw.close(seconds(3));
  EXPECT_EQ(sim.sessions(), 0u);  // auth/logout ended the one session polling used
  auto after = sim.requests();
  std::this_thread::sleep_for(200ms);  // four poll intervals: nothing more reaches the device
  EXPECT_EQ(sim.requests(), after);
  sim.stop();
}

// The commands only some vendors have, through the gateway to a FoxESS inverter that has them:
// each checked against the device's capabilities before the driver sees it (and audited as
// rejected), a good one applied and read back.
TEST(GatewayFoxess, NewCommandsAreCheckedAgainstTheInvertersCapabilitiesThenApplied) {
  Rig rig;
  auto& io = rig.io;
  foxess::SimOptions so;
  so.plants = foxess::make_account(1, 3, 5, true);  // the third has no battery
  so.query_gap = so.write_gap = Millis(0);
  foxess::Simulator sim(io.executor(), rig.clock, so);
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto c = test::loopback_connection("fox", "foxess", sim.port(), Millis(1000));
  c.options["api_key"] = so.api_key;
  c.options["verify_timeout"] = "5";
  auto& gw = rig.start(c);
  auto deadline = steady_clock::now() + seconds(10);
  while (gw.devices().size() < 3 && steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(gw.devices().size(), 3u);
  const std::string sn = so.plants[0].inverters[0].sn, bare = so.plants[0].inverters[2].sn;
  const std::string dev = "fox:" + sn;
  const auto export_limit = sim.setting(sn, "ExportLimit");
  ASSERT_FALSE(export_limit.empty());
  auto refused = [&](std::string device, CommandType type, double value, std::string argument) {
    Command cmd;
    cmd.device = std::move(device);
    cmd.type = type;
    cmd.value = value;
    cmd.argument = std::move(argument);
    cmd.requested_by = "test";
    auto r = io.run(gw.execute(cmd));
    EXPECT_FALSE(r) << to_string(type) << " was not refused";
    return r ? std::string() : r.error().message;
  };
  std::string nine;
  for (int h = 0; h < 9; ++h)
    nine += (h ? "; 0" : "0") + std::to_string(h) + ":00-0" + std::to_string(h) + ":30 backup";
  EXPECT_EQ(refused(dev, CommandType::TouSchedule, 0, nine),
            "tou-schedule: 9 segments; " + dev + " takes at most 8");
  EXPECT_EQ(refused(dev, CommandType::TouSchedule, 0, "01:00-02:00 charge power=40000"),
            "tou-schedule: power 40000 W is above " + dev + "'s 30000 W");
  EXPECT_EQ(refused(dev, CommandType::ChargeWindows, 0, "01:00-02:00,03:00-04:00,05:00-06:00"),
            "charge-windows: 3 windows; " + dev + " has 2");
  EXPECT_EQ(refused(dev, CommandType::PeakShaving, 0, "limit=60000 soc=30"),
            "peak shaving: limit 60000 W is above " + dev + "'s 50000 W");
  EXPECT_EQ(refused(dev, CommandType::ExportLimit, 40000, ""),
            "export-limit 40000 W is outside " + dev + "'s range 0..30000 W");
  EXPECT_EQ(refused(dev, CommandType::MinSocOffGrid, 5, ""),
            "min-soc-off-grid 5 % is outside " + dev + "'s range 10..100 %");
  EXPECT_EQ(refused("fox:" + bare, CommandType::TouSchedule, 0, "01:00-02:00 backup"),
            "fox:" + bare + " has no time-of-use schedule");
  // None of them reached the inverter.
  EXPECT_FALSE(sim.scheduler_enabled(sn));
  EXPECT_EQ(sim.setting(sn, "ExportLimit"), export_limit);

  Command ok;
  ok.device = dev;
  ok.type = CommandType::ChargeWindows;
  ok.argument = "02:00-05:00";
  ok.requested_by = "test";
  auto rec = io.run(gw.execute(ok));
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->status, "verified") << rec->detail;
  auto rows = rig.store->commands({.limit = 20});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 8u);
  EXPECT_EQ(rows->front().status, "verified");
  int rejected = 0;
  for (const auto& r : *rows) rejected += r.status == "rejected";
  EXPECT_EQ(rejected, 7);
  gw.close(seconds(3));
  sim.stop();
}

// A FoxESS account with two inverters loses the cloud: both go offline, in the live view and in
// /metrics (only the one polled when the connection's third failure came did; the other stayed
// "up" with its old values shown as current).
TEST(GatewayFoxess, EveryDeviceOfAFailingConnectionGoesOffline) {
  Rig rig;
  auto& io = rig.io;
  foxess::SimOptions so;
  so.plants = foxess::make_account(1, 2, 9, false);
  so.query_gap = so.write_gap = Millis(0);
  foxess::Simulator sim(io.executor(), rig.clock, so);
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto c = test::loopback_connection("fox", "foxess", sim.port(), Millis(1000));
  c.options["api_key"] = so.api_key;
  auto& gw = rig.start(c);
  auto all = [&](bool online) {
    auto live = gw.live();
    return live.size() == 2 && std::all_of(live.begin(), live.end(),
                                           [&](const DeviceLive& l) { return l.online == online; });
  };
  auto deadline = steady_clock::now() + seconds(30);
  while (!all(true) && steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(all(true));
  sim.set_faults({.error_rate = 1.0});
  deadline = steady_clock::now() + seconds(60);
  while (!all(false) && steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(all(false));
  auto metrics = prometheus::render(gw, rig.store->stats());
  for (const auto& inv : so.plants[0].inverters) {
    const std::string dev = "fox:" + inv.sn;
    EXPECT_NE(metrics.find("sunbridge_device_up{site=\"home\",device=\"" + dev +
                           "\",vendor=\"foxess\"} 0"),
              std::string::npos)
        << dev;
    for (const auto& l : gw.live())
      if (l.device.id == dev) {
        ASSERT_EQ(l.values.size(), 1u);  // no old value shown as current
        EXPECT_EQ(l.values[0].metric, "device.online");
      }
  }
  sim.set_faults({});
  deadline = steady_clock::now() + seconds(60);
  while (!all(true) && steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(all(true));
  gw.close(seconds(3));
  sim.stop();
}

// A sonnen answering Production_W 1e12 and a SoC of 250 %: it was stored as 1e12 W of PV (and a
// battery current of 4.76e9 A), the SoC clamped to 100 % without a note. Now such values are
// not stored nor shown, one event names them however many polls repeat them, /health counts
// them, and sane values are stored again as they come.
TEST(GatewayPlausibility, ImplausibleVendorValuesAreNotStoredAndNamedOnce) {
  Rig rig;
  auto& io = rig.io;
  const std::string good =
      R"({"Consumption_W":800,"Fac":50,"IsSystemInstalled":1,"Pac_total_W":-500,"Production_W":1500,"RSOC":60,"Timestamp":"2026-06-15 10:00:00","USOC":58,"Uac":230,"Ubat":52})";
  const std::string bad =
      R"({"Consumption_W":800,"Fac":50,"IsSystemInstalled":1,"Pac_total_W":-500,"Production_W":1e12,"RSOC":60,"Timestamp":"2026-06-15 10:00:00","USOC":250,"Uac":230,"Ubat":52})";
  std::mutex m;
  std::string body = good;
  auto router = std::make_shared<net::Router>();
  router->get("/api/v1/status", [&](net::ServerRequest&) -> asio::awaitable<net::ServerResponse> {
    std::lock_guard lock(m);
    co_return net::ServerResponse::json(200, body);
  });
  net::HttpServer battery(io.executor(), router);
  ASSERT_TRUE(battery.listen("127.0.0.1", 0));
  auto& gw = rig.start(test::loopback_connection("bat", "sonnen", battery.port(), Millis(100)));
  auto live_pv = [&]() -> std::optional<double> {
    for (const auto& l : gw.live())
      for (const auto& v : l.values)
        if (v.metric == "pv.power") return v.value;
    return std::nullopt;
  };
  auto eventually = [](auto p) {
    auto deadline = steady_clock::now() + seconds(30);
    while (!p() && steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return p();
  };
  ASSERT_TRUE(eventually([&] { return live_pv() == 1500; }));
  {
    std::lock_guard lock(m);
    body = bad;
  }
  // Several polls of it: each counted, one event.
  ASSERT_TRUE(eventually([&] { return gw.health()[0].implausible_values >= 6; }));
  EXPECT_EQ(live_pv(), 1500);  // the last sane value, not 1e12
  ASSERT_TRUE(rig.store->flush());
  auto events = rig.store->events({.device = "bat:battery"});
  ASSERT_TRUE(events);
  std::vector<std::string> implausible;
  for (const auto& e : *events)
    if (e.code == "value.implausible") implausible.push_back(e.message);
  ASSERT_EQ(implausible.size(), 1u);
  EXPECT_NE(implausible[0].find("bat:battery reported pv.power = 1000000000000 W, outside "
                                "-1000..50000000 W (physical limit): not stored"),
            std::string::npos)
      << implausible[0];
  EXPECT_NE(implausible[0].find("battery.soc = 250 %, outside 0..100 % (physical limit)"),
            std::string::npos)
      << implausible[0];
  for (const char* metric : {"pv.power", "battery.soc", "grid.power"}) {
    auto h = rig.store->history({"bat:battery", metric, {from_ms(0), rig.clock.now() + hours(1)}});
    ASSERT_TRUE(h);
    for (const auto& p : *h) EXPECT_LE(std::abs(p.value), 1e6) << metric;
  }
  {
    std::lock_guard lock(m);
    body = good;
  }
  auto before = rig.store->stats().samples_written;
  ASSERT_TRUE(eventually([&] { return rig.store->stats().samples_written > before + 20; }));
  auto soc = rig.store->history(
      {"bat:battery", "battery.soc", {rig.clock.now() - seconds(1), rig.clock.now() + hours(1)}});
  ASSERT_TRUE(soc);
  ASSERT_FALSE(soc->empty());
  EXPECT_EQ(soc->back().value, 58);
  gw.close(seconds(3));
  battery.stop();
}

// The control forms start from what the device has now (they showed a minimum SoC of 20 and
// "manual" whatever the battery was set to): the API serves the device's settings as last read,
// and reads them anew after a command changed them.
TEST(GatewaySettings, TheDevicesCurrentSettingsAreServedAndReadAgainAfterACommand) {
  Rig rig;
  auto& io = rig.io;
  kostal::SimOptions so;
  so.rounds = 1000;
  kostal::Simulator sim(io.executor(), rig.clock, sim::SiteConfig{}, so);
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto c = test::loopback_connection("inv", "kostal", sim.port(), Millis(200));
  c.options["password"] = "owner-password";
  c.options["verify_timeout"] = "3";
  auto& gw = rig.start(c);
  auto deadline = steady_clock::now() + seconds(30);
  while (gw.devices().empty() && steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(gw.devices().size(), 1u);
  const std::string dev = gw.devices()[0].id;
  asio::thread_pool rest_pool{1};
  net::HttpServer server(io.executor(),
                         rest::make_router(gw, *rig.store, rest_pool, rig.clock, {kToken, true}));
  ASSERT_TRUE(server.listen("127.0.0.1", 0));
  auto get = [&](const std::string& target) {
    auto r = io.run(rig.http.request({"127.0.0.1", server.port(), false}, {"GET", target, {}, {}}));
    EXPECT_TRUE(r);
    return r ? *r : net::HttpResponse{};
  };
  auto settings = [&] {
    auto r = get("/api/v1/devices/" + dev + "/settings");
    EXPECT_EQ(r.status, 200) << r.body;
    return boost::json::parse(r.body).as_object();
  };
  auto first = settings();
  auto values = first["settings"].as_object();
  EXPECT_EQ(values["min-soc"].as_object()["value"].to_number<double>(),
            std::stod(sim.setting("devices:local", "Battery:MinSoc")));
  EXPECT_EQ(values["battery-strategy"].as_object()["argument"].as_string(), "auto");
  EXPECT_EQ(values["time-control"].as_object()["argument"].as_string(), "off");
  EXPECT_TRUE(values.contains("min-home-consumption"));
  // Served from what was read, until a command changes it.
  auto read_at = first["read_at"].as_string();
  EXPECT_EQ(settings()["read_at"].as_string(), read_at);
  Command cmd{dev, CommandType::MinSoc, 35, {}, "test", ""};
  auto rec = io.run(gw.execute(cmd));
  ASSERT_TRUE(rec) << rec.error().message;
  ASSERT_EQ(rec->status, "verified") << rec->detail;
  auto after = settings();
  EXPECT_EQ(after["settings"].as_object()["min-soc"].as_object()["value"].to_number<double>(), 35);
  EXPECT_EQ(get("/api/v1/devices/" + dev + "/settings?refresh=maybe").status, 400);
  EXPECT_EQ(get("/api/v1/devices/inv:nope/settings").status, 404);
  server.stop();
  rest_pool.join();
  gw.close(seconds(3));
  sim.stop();
}

// A reload starts what was added, stops what was removed (handing back its lease) and leaves
// the rest polling as it was; one that asks for a restart changes nothing.
TEST(GatewayReload, ConnectionsAreAddedAndRemovedWhileTheOthersPollOn) {
  Rig rig;
  auto& io = rig.io;
  sonnen::SimOptions v2;
  v2.token = "tok-a";
  sonnen::Simulator a(io.executor(), rig.clock, sim::SiteConfig{}, {}, v2);
  sonnen::Simulator b(io.executor(), rig.clock, sim::SiteConfig{});
  ASSERT_TRUE(a.listen("127.0.0.1", 0));
  ASSERT_TRUE(b.listen("127.0.0.1", 0));
  auto ca = test::loopback_connection("a", "sonnen", a.port(), Millis(100));
  ca.options["token"] = "tok-a";
  auto cb = test::loopback_connection("b", "sonnen", b.port(), Millis(100));
  auto one = test::one_site_config(ca);
  auto& gw = rig.start(ca);
  auto eventually = [](auto p) {
    auto deadline = steady_clock::now() + seconds(30);
    while (!p() && steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return p();
  };
  auto health_of = [&](const std::string& name) -> std::optional<ConnectionHealth> {
    for (const auto& h : gw.health())
      if (h.name == name) return h;
    return std::nullopt;
  };
  ASSERT_TRUE(eventually([&] { return health_of("a") && health_of("a")->polls >= 2; }));
  Command hold{"a:battery", CommandType::MinSoc, 40, seconds(3600), "test", ""};
  auto held = io.run(gw.execute(hold));
  ASSERT_TRUE(held) << held.error().message;
  ASSERT_EQ(held->status, "verified") << held->detail;

  auto both = one;
  both.connections.push_back(cb);
  auto added = gw.reload(both, seconds(5));
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(*added, "started b");
  auto polls_a = health_of("a")->polls;
  ASSERT_TRUE(eventually([&] { return gw.device("b:battery").has_value(); }));
  EXPECT_GE(health_of("a")->polls, polls_a);  // the same loop went on: its count did not restart

  auto moved = both;
  moved.gateway.database = "/elsewhere.db";
  auto refused = gw.reload(moved, seconds(5));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "the new configuration changes gateway.database, which only a restart applies "
            "(systemctl restart sunbridge); nothing was changed");

  auto only_b = test::one_site_config(cb);
  auto removed = gw.reload(only_b, seconds(5));
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, "stopped a");
  EXPECT_FALSE(gw.device("a:battery"));
  EXPECT_FALSE(health_of("a"));
  // Its lease was handed back as it went.
  auto leases = rig.store->leases(false, 10);
  ASSERT_TRUE(leases);
  ASSERT_EQ(leases->size(), 1u);
  EXPECT_EQ(leases->front().state, "released");
  EXPECT_EQ(a.configuration("EM_USOC"), std::to_string(int(*held->before)));
  gw.close(seconds(3));
  a.stop();
  b.stop();
}
