// The sonnen driver against its in-process simulator over real HTTP.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <map>

#include "net/driver_env.hpp"
#include "net/test_io.hpp"
#include "vendors/sonnen/client.hpp"
#include "vendors/sonnen/driver.hpp"
#include "vendors/sonnen/simulator.hpp"

using namespace sb;
using namespace sb::net;
using namespace std::chrono;

namespace {

TimePoint winter_noon() {  // 2026-01-15 11:00 UTC: some PV in Berlin, the house running
  return time_point_cast<Millis>(sys_days(2026y / 1 / 15) + hours(11));
}

struct SonnenSim : ::testing::Test {
  TestIo io;
  ManualClock clock{winter_noon()};
  ManualSleeper sleeper{clock};
  HttpClient http{io.executor()};
  DriverEnv env{io.executor(), clock, http, sleeper};
  std::unique_ptr<sonnen::Simulator> sim;
  std::unique_ptr<Driver> driver;
  DeviceInfo device;

  void SetUp() override {
    sim::SiteConfig site;
    site.seed = 5;
    sim = std::make_unique<sonnen::Simulator>(io.executor(), clock, site);
    ASSERT_TRUE(sim->listen("127.0.0.1", 0));
    ConnectionConfig c;
    c.name = "sonnen1";
    c.vendor = "sonnen";
    c.site = "home";
    c.host = "127.0.0.1";
    c.port = sim->port();
    c.timeout = Millis(2000);
    c.options["verify_timeout"] = "3";
    auto made = sonnen::registry_entry().factory(c, env);
    ASSERT_TRUE(made) << made.error().message;
    driver = std::move(*made);
    auto found = io.run(driver->discover());
    ASSERT_TRUE(found) << found.error().message;
    ASSERT_EQ(found->size(), 1u);
    device = (*found)[0];
  }

  Result<HttpResponse> raw(std::string method, std::string target) {
    HttpRequest r{std::move(method), std::move(target)};
    return io.run(http.request({"127.0.0.1", sim->port(), false}, r));
  }

  std::map<std::string, double> poll() {
    auto snap = io.run(driver->poll(device));
    EXPECT_TRUE(snap) << (snap ? "" : snap.error().message);
    std::map<std::string, double> m;
    if (snap)
      for (const auto& s : snap->samples) m[s.metric] = s.value;
    return m;
  }
};

}  // namespace

TEST_F(SonnenSim, DiscoversOneBattery) {
  EXPECT_EQ(device.id, "sonnen1:battery");
  EXPECT_EQ(device.site, "home");
  EXPECT_EQ(device.kind, "battery");
  EXPECT_EQ(device.vendor, "sonnen");
}

TEST_F(SonnenSim, PolledValuesAreTheSimulatedSite) {
  auto m = poll();
  auto st = sim->with_site([](sim::Site& s) { return s.state(); });
  EXPECT_NEAR(m.at("pv.power"), st.pv_w, 0.5);
  EXPECT_NEAR(m.at("load.power"), st.load_w, 0.5);
  EXPECT_NEAR(m.at("battery.power"), st.battery_w, 0.5);
  EXPECT_NEAR(m.at("vendor.sonnen.RSOC"), st.soc_percent, 0.5);
  EXPECT_NEAR(m.at("grid.power"), st.grid_w, 1.5);  // from three rounded values
  EXPECT_NEAR(m.at("grid.frequency"), 50, 0.1);
  EXPECT_EQ(m.at("device.online"), 1);
  // Values change as simulated time passes.
  clock.advance(minutes(30));
  auto later = poll();
  EXPECT_NE(later.at("load.power"), m.at("load.power"));
}

TEST_F(SonnenSim, StatusIsCompactKeySortedJson) {
  auto r = raw("GET", "/api/v1/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Type"), "application/json");
  EXPECT_EQ(r->body.find(' ', 0), r->body.find("\"Timestamp\":\"") + 23);  // only in the time
  EXPECT_LT(r->body.find("\"Consumption_W\""), r->body.find("\"Fac\""));
  EXPECT_LT(r->body.find("\"IsSystemInstalled\""), r->body.find("\"Pac_total_W\""));
  EXPECT_LT(r->body.find("\"Pac_total_W\""), r->body.find("\"Production_W\""));
  EXPECT_NE(r->body.find("\"Timestamp\":\"2026-01-15 12:00:00\""), std::string::npos);  // CET
  EXPECT_NE(r->body.back(), '\n');
  auto alias = raw("GET", "/api/status");
  ASSERT_TRUE(alias);
  EXPECT_EQ(alias->status, 200);
}

TEST_F(SonnenSim, SetpointDrivesTheBatteryAndIsVerifiedByReadingBack) {
  Command c{device.id, CommandType::BatteryPower, -2000, std::nullopt, "test"};
  auto out = io.run(driver->apply(device, c));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_TRUE(out->verified) << out->detail;
  EXPECT_EQ(*out->after, -2000);
  EXPECT_DOUBLE_EQ(sim->with_site([](sim::Site& s) { return s.state().battery_w; }), -2000);
  // Holds until the next setpoint (seed §2.2), also an hour later.
  clock.advance(hours(1));
  EXPECT_EQ(poll().at("battery.power"), -2000);
  c.value = 1500;
  out = io.run(driver->apply(device, c));
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->verified);
  EXPECT_EQ(*out->before, -2000);
  EXPECT_EQ(poll().at("battery.power"), 1500);
}

TEST_F(SonnenSim, SetpointReplyIsTheSeedsEighteenByteTextHtml) {
  auto r = raw("PUT", "/api/v1/setpoint/charge/1000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Type"), "text/html; charset=UTF-8");
  EXPECT_EQ(r->header("Content-Length"), "18");
  EXPECT_EQ(r->body, "{\"ReturnCode\": 0}\n");
  auto upper = raw("PUT", "/api/V1/setpoint/discharge/1000");
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->status, 200);
  EXPECT_DOUBLE_EQ(sim->with_site([](sim::Site& s) { return *s.battery_setpoint(); }), 1000);
}

TEST_F(SonnenSim, EveryErrorPathHasItsReturnCode) {
  auto path = raw("GET", "/api/v1/nothing");
  ASSERT_TRUE(path);
  EXPECT_EQ(path->status, 404);
  EXPECT_EQ(path->body, "{\"ReturnCode\": 5}\n");
  auto method = raw("POST", "/api/v1/status");
  ASSERT_TRUE(method);
  EXPECT_EQ(method->status, 405);
  EXPECT_EQ(method->body, "{\"ReturnCode\": 16}\n");
  EXPECT_EQ(method->header("Allow"), "GET");
  auto dir = raw("PUT", "/api/v1/setpoint/sideways/100");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->status, 404);
  for (auto bad : {"abc", "-5", "12.5", "999999"}) {
    auto r = raw("PUT", std::string("/api/v1/setpoint/charge/") + bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(r->body, "{\"ReturnCode\": 5}\n") << bad;
  }
  EXPECT_FALSE(sim->with_site([](sim::Site& s) { return s.battery_setpoint(); }).has_value());
}

TEST_F(SonnenSim, DriverRefusesSetpointsBeyondTheBatteryAndUnsupportedCommands) {
  Command c{device.id, CommandType::BatteryPower, 9000, std::nullopt, "test"};
  auto big = io.run(driver->apply(device, c));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(big.error().message, "battery power 9000 W is beyond the battery's 4600 W");
  c.type = CommandType::Release;
  auto rel = io.run(driver->apply(device, c));
  ASSERT_FALSE(rel);
  EXPECT_EQ(rel.error().kind, ErrorKind::NotSupported);
  c.type = CommandType::MinSoc;
  EXPECT_EQ(io.run(driver->apply(device, c)).error().kind, ErrorKind::NotSupported);
}

TEST_F(SonnenSim, UnreachableSetpointIsReportedUnverified) {
  sim->with_site([](sim::Site& s) {
    s.set_battery_setpoint(4600);  // drain to the floor first
    return 0;
  });
  clock.advance(hours(4));
  Command c{device.id, CommandType::BatteryPower, 3000, std::nullopt, "test"};
  auto out = io.run(driver->apply(device, c));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_FALSE(out->verified);
  EXPECT_EQ(*out->after, 0);
  EXPECT_EQ(out->detail, "setpoint accepted but the battery reports 0 W, not 3000 W");
}

TEST_F(SonnenSim, InternalErrorIsTransientWithItsCode) {
  sim->set_faults({.error_rate = 1.0});
  auto snap = io.run(driver->poll(device));
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().kind, ErrorKind::Transport);
  EXPECT_EQ(snap.error().vendor_code, 13);
  EXPECT_EQ(snap.error().message,
            "sonnen status: HTTP 500 (ReturnCode 13): internal error on the device");
}

TEST_F(SonnenSim, MalformedBodyIsAProtocolErrorThatSaysWhere) {
  sim->set_faults({.malformed_rate = 1.0});
  auto snap = io.run(driver->poll(device));
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().kind, ErrorKind::Protocol);
  EXPECT_NE(snap.error().message.find("sonnen status: invalid JSON at byte"), std::string::npos);
}

TEST_F(SonnenSim, DroppedConnectionIsATransportError) {
  sim->set_faults({.drop_rate = 1.0});
  auto snap = io.run(driver->poll(device));
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().kind, ErrorKind::Transport);
  sim->set_faults({});
  EXPECT_EQ(poll().at("device.online"), 1);  // and recovers
}

TEST_F(SonnenSim, LatencyBeyondTheTimeoutIsATimeout) {
  sim->set_faults({.latency = Millis(3000)});
  auto snap = io.run(driver->poll(device));
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().kind, ErrorKind::Timeout);
}

TEST_F(SonnenSim, StoppingCutsARequestInItsLatencyShortAndLeavesNothingRunning) {
  sim->set_faults({.latency = Millis(5000)});
  net::HttpRequest r{"GET", "/api/v1/status", {}, {}};
  auto pending = boost::asio::co_spawn(io.io(), http.request({"127.0.0.1", sim->port(), false}, r),
                                       boost::asio::use_future);
  while (sim->requests() == 0) std::this_thread::sleep_for(milliseconds(5));
  auto t0 = steady_clock::now();
  sim->stop();
  // The handler left its latency at once (not after 5 s) and dropped the connection.
  EXPECT_LT(steady_clock::now() - t0, milliseconds(2500));
  auto res = pending.get();
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, ErrorKind::Transport) << res.error().message;
  sim.reset();  // nothing of it is touched afterwards (ASan would see it)
}

TEST_F(SonnenSim, StoppedSimulatorIsATransportError) {
  sim->stop();
  std::this_thread::sleep_for(milliseconds(20));
  http.close_idle();
  auto snap = io.run(driver->poll(device));
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().kind, ErrorKind::Transport);
}

TEST(SonnenDriverConfig, BadOptionsAreClearErrors) {
  TestIo io(1);
  ManualClock clock(from_ms(0));
  ManualSleeper sleeper(clock);
  HttpClient http(io.executor());
  DriverEnv env{io.executor(), clock, http, sleeper};
  ConnectionConfig c;
  c.name = "sonnen1";
  c.where = "site.yaml:9";
  auto nohost = sonnen::registry_entry().factory(c, env);
  ASSERT_FALSE(nohost);
  EXPECT_EQ(nohost.error().message, "site.yaml:9: connection 'sonnen1' needs a host");
  c.host = "127.0.0.1";
  c.options["max_power_w"] = "lots";
  auto bad = sonnen::registry_entry().factory(c, env);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "site.yaml:9: connection 'sonnen1': option max_power_w = 'lots' must be a number in "
            "1..100000");
}
