// sonnenBatterie JSON API v2: the simulator's answers as clients see them, and the driver
// against it over real HTTP (detection, reads, every control with read-back, the refusals).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "net/driver_env.hpp"
#include "net/test_io.hpp"
#include "vendors/sonnen/client.hpp"
#include "vendors/sonnen/driver.hpp"
#include "vendors/sonnen/simulator.hpp"

using namespace sb;
using namespace sb::net;
using namespace std::chrono;
namespace json = boost::json;

namespace {

const std::string kToken = "0b2f1e6c-5d6a-4c0e-9b8f-v2token";

TimePoint winter_noon() {
  return time_point_cast<Millis>(sys_days(2026y / 1 / 15) + hours(11));
}

struct SonnenV2 : ::testing::Test {
  TestIo io;
  ManualClock clock{winter_noon()};
  ManualSleeper sleeper{clock};
  HttpClient http{io.executor()};
  DriverEnv env{io.executor(), clock, http, sleeper};
  std::unique_ptr<sonnen::Simulator> sim;

  void start_sim(sonnen::SimOptions o = {.token = kToken}) {
    sim::SiteConfig site;
    site.seed = 5;
    sim = std::make_unique<sonnen::Simulator>(io.executor(), clock, site, sim::FaultSpec{}, o);
    ASSERT_TRUE(sim->listen("127.0.0.1", 0));
  }
  void SetUp() override { start_sim(); }

  HttpResponse call(std::string method, std::string target, std::string body = {},
                    std::string token = kToken) {
    HttpRequest r{std::move(method), std::move(target), {}, std::move(body)};
    if (!token.empty()) r.headers.emplace_back("Auth-Token", token);
    auto res = io.run(http.request({"127.0.0.1", sim->port(), false}, r));
    EXPECT_TRUE(res) << (res ? "" : res.error().message);
    return res ? *res : HttpResponse{};
  }

  Result<std::unique_ptr<Driver>> make(std::map<std::string, std::string> options) {
    ConnectionConfig c;
    c.name = "bat";
    c.vendor = "sonnen";
    c.site = "home";
    c.host = "127.0.0.1";
    c.port = sim->port();
    c.timeout = Millis(2000);
    c.where = "sunbridge.yaml:7";
    c.options = std::move(options);
    c.options["verify_timeout"] = "3";
    return sonnen::registry_entry().factory(c, env);
  }
  std::pair<std::unique_ptr<Driver>, DeviceInfo> driver(std::map<std::string, std::string> o = {
                                                            {"token", kToken}}) {
    auto d = make(std::move(o));
    EXPECT_TRUE(d) << d.error().message;
    if (!d) return {};
    auto found = io.run((*d)->discover());
    EXPECT_TRUE(found) << found.error().message;
    if (!found || found->empty()) return {};
    return {std::move(*d), (*found)[0]};
  }
  Result<CommandOutcome> apply(Driver& d, const DeviceInfo& dev, CommandType type, double value,
                               std::string argument = {}) {
    Command c;
    c.device = dev.id;
    c.type = type;
    c.value = value;
    c.argument = std::move(argument);
    c.requested_by = "test";
    return io.run(d.apply(dev, c));
  }
  double battery_w() {
    return sim->with_site([](sim::Site& s) { return s.state().battery_w; });
  }
};

}  // namespace

TEST_F(SonnenV2, EveryReadNeedsTheTokenExceptStatusAndAnswersWhatClientsRead) {
  auto status = call("GET", "/api/v2/status", {}, "");
  ASSERT_EQ(status.status, 200) << status.body;
  auto st = json::parse(status.body).as_object();
  EXPECT_EQ(st.at("OperatingMode").as_string(), "2");  // strings, as captures show
  EXPECT_TRUE(st.at("BackupBuffer").is_string());
  EXPECT_TRUE(st.contains("Pac_total_W"));
  EXPECT_TRUE(st.contains("GridFeedIn_W"));
  for (auto path : {"latestdata", "configurations", "configurations/EM_USOC", "battery", "inverter",
                    "powermeter", "io"}) {
    auto refused = call("GET", std::string("/api/v2/") + path, {}, "wrong");
    EXPECT_EQ(refused.status, 401) << path;
    EXPECT_EQ(refused.body, R"({"error":"unauthorized"})") << path;
    auto ok = call("GET", std::string("/api/v2/") + path);
    EXPECT_EQ(ok.status, 200) << path << ": " << ok.body;
  }
  auto latest = json::parse(call("GET", "/api/v2/latestdata").body).as_object();
  for (auto k :
       {"Consumption_W", "FullChargeCapacity", "GridFeedIn_W", "Pac_total_W", "Production_W",
        "RSOC", "SetPoint_W", "Timestamp", "USOC", "UTC_Offet", "ic_status"})
    EXPECT_TRUE(latest.contains(k)) << k;
  auto cfg = json::parse(call("GET", "/api/v2/configurations").body).as_object();
  for (const auto& [k, v] : cfg) EXPECT_TRUE(v.is_string()) << k;
  EXPECT_EQ(call("GET", "/api/v2/configurations/EM_OperatingMode").body,
            R"({"EM_OperatingMode":"2"})");
  EXPECT_EQ(call("GET", "/api/v2/configurations/NoSuchKey").status, 404);
  auto meters = json::parse(call("GET", "/api/v2/powermeter").body).as_array();
  ASSERT_EQ(meters.size(), 2u);
  EXPECT_EQ(meters[0].as_object().at("direction").as_string(), "production");
  // The v1 API stays as it is on the same device.
  EXPECT_EQ(call("GET", "/api/v1/status", {}, "").status, 200);
}

TEST_F(SonnenV2, ConfigurationsTakeStringValuesAndRefuseWhatIsWrongWhole) {
  auto put = call("PUT", "/api/v2/configurations", R"({"EM_USOC":"20"})");
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(put.body, R"({"EM_USOC":"20"})");  // the device echoes the items
  EXPECT_EQ(sim->configuration("EM_USOC"), "20");
  struct Bad {
    const char* body;
    const char* answer;
  } bad[] = {
      {R"({"EM_USOC":20})",
       R"({"error":"validation failed","details":{"EM_USOC":"must be a string"}})"},
      {R"({"EM_USOC":"101"})",
       R"({"error":"validation failed","details":{"EM_USOC":"must be 0..100"}})"},
      {R"({"EM_OperatingMode":"3"})",
       R"({"error":"validation failed","details":{"EM_OperatingMode":"must be one of 1, 2, 6, 10"}})"},
      {R"({"DE_Software":"2.0"})",
       R"({"error":"validation failed","details":{"DE_Software":"is read-only"}})"},
      {R"({"EM_ToU_Schedule":"[{\"start\":\"10:00\",\"stop\":\"09:00\",\"threshold_p_max\":5000}]"})",
       R"({"error":"validation failed","details":{"EM_ToU_Schedule":"window 1: bad stop"}})"},
      // One bad item refuses the whole request: EM_USOC stays 20.
      {R"({"EM_USOC":"30","EM_OperatingMode":"x"})",
       R"({"error":"validation failed","details":{"EM_OperatingMode":"must be one of 1, 2, 6, 10"}})"},
  };
  for (const auto& b : bad) {
    auto r = call("PUT", "/api/v2/configurations", b.body);
    EXPECT_EQ(r.status, 400) << b.body;
    EXPECT_EQ(r.body, b.answer) << b.body;
  }
  EXPECT_EQ(sim->configuration("EM_USOC"), "20");
  EXPECT_EQ(call("PUT", "/api/v2/configurations", "not json").status, 400);
}

TEST_F(SonnenV2, SetpointsNeedManualModeAndYieldToAVirtualPowerPlant) {
  auto r = call("POST", "/api/v2/setpoint/discharge/1500");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("setpoints need manual mode (1), not 2"), std::string::npos) << r.body;
  ASSERT_EQ(call("PUT", "/api/v2/configurations", R"({"EM_OperatingMode":"1"})").status, 200);
  r = call("POST", "/api/v2/setpoint/discharge/1500");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "true");
  clock.advance(seconds(5));
  EXPECT_NEAR(battery_w(), 1500, 1);
  EXPECT_EQ(call("POST", "/api/v2/setpoint/charge/999999").status, 400);
  EXPECT_EQ(call("POST", "/api/v2/setpoint/charge/500", {}, "").status, 401);
  sim->set_vpp_priority(true);
  r = call("POST", "/api/v2/setpoint/charge/500");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("virtual power plant"), std::string::npos);
  EXPECT_NEAR(battery_w(), 1500, 1);  // the refused setpoint changed nothing
  // Back to self-consumption: the setpoint no longer holds.
  ASSERT_EQ(call("PUT", "/api/v2/configurations", R"({"EM_OperatingMode":"2"})").status, 200);
  EXPECT_FALSE(sim->with_site([](sim::Site& s) { return s.battery_setpoint().has_value(); }));
}

TEST_F(SonnenV2, OlderFirmwareAnswersAWrongTokenWithAnEmptyObjectAndAV1DeviceHasNoV2) {
  start_sim({.token = kToken, .empty_on_bad_token = true});
  auto r = call("GET", "/api/v2/configurations", {}, "wrong");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  auto d = make({{"token", "wrong"}});
  ASSERT_TRUE(d);
  auto found = io.run((*d)->discover());
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().kind, ErrorKind::Auth);
  EXPECT_NE(found.error().message.find("older firmware does that for a wrong Auth-Token"),
            std::string::npos)
      << found.error().message;

  start_sim({});  // a v1-only battery
  EXPECT_EQ(call("GET", "/api/v2/status", {}, "").status, 404);
  auto v1 = driver({});  // no token: API v1, as before
  ASSERT_TRUE(v1.first);
  EXPECT_EQ(v1.second.model, "sonnenBatterie (API v1)");
  auto wrong = make({{"token", kToken}});
  ASSERT_TRUE(wrong);
  auto none = io.run((*wrong)->discover());
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("does not offer API v2 (GET /api/v2/status: 404)"),
            std::string::npos)
      << none.error().message;
  auto bad = make({{"api", "v3"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "sunbridge.yaml:7: connection 'bat': option api = 'v3' is not one of auto, v1, v2");
  auto no_token = make({{"api", "v2"}});
  ASSERT_FALSE(no_token);
  EXPECT_NE(no_token.error().message.find("api v2 needs option token"), std::string::npos);
}

TEST_F(SonnenV2, TheDriverDetectsV2ReadsAndAppliesEveryControlWithReadBack) {
  auto [d, dev] = driver();
  ASSERT_TRUE(d);
  EXPECT_EQ(dev.model, "sonnenBatterie (API v2)");
  EXPECT_EQ(dev.firmware, "1.14.5");
  auto caps = d->capabilities(dev);
  EXPECT_TRUE(caps.takes(CommandType::Release));
  EXPECT_TRUE(caps.takes(CommandType::MinSoc));
  ASSERT_TRUE(caps.takes(CommandType::BatteryStrategy));
  EXPECT_EQ(caps.command(CommandType::BatteryStrategy)->choices.size(), 4u);
  auto snap = io.run(d->poll(dev));
  ASSERT_TRUE(snap);
  bool mode_seen = false;
  for (const auto& s : snap->samples)
    if (s.metric == "vendor.sonnen.OperatingMode") mode_seen = s.value == 2;
  EXPECT_TRUE(mode_seen);

  // Time of use first, so that the setpoint has a mode to hand back to.
  auto tou = apply(*d, dev, CommandType::TouSchedule, 0, "01:00-05:00 charge power=4000");
  ASSERT_TRUE(tou) << tou.error().message;
  EXPECT_TRUE(tou->verified) << tou->detail;
  EXPECT_EQ(sim->configuration("EM_ToU_Schedule"),
            R"([{"start":"01:00","stop":"05:00","threshold_p_max":4000}])");
  auto mode = apply(*d, dev, CommandType::BatteryStrategy, 0, "time-of-use");
  ASSERT_TRUE(mode && mode->verified);
  EXPECT_EQ(sim->configuration("EM_OperatingMode"), "10");
  auto reserve = apply(*d, dev, CommandType::MinSoc, 25);
  ASSERT_TRUE(reserve && reserve->verified);
  EXPECT_EQ(reserve->before, 0);
  EXPECT_EQ(reserve->after, 25);
  EXPECT_EQ(sim->configuration("EM_USOC"), "25");

  auto power = apply(*d, dev, CommandType::BatteryPower, -2000);
  ASSERT_TRUE(power) << power.error().message;
  EXPECT_TRUE(power->verified) << power->detail;
  EXPECT_EQ(power->hand_back, "EM_OperatingMode=10");
  EXPECT_NE(power->detail.find("(manual mode; was time-of-use)"), std::string::npos)
      << power->detail;
  EXPECT_EQ(sim->configuration("EM_OperatingMode"), "1");
  EXPECT_NEAR(battery_w(), -2000, 1);

  auto back = apply(*d, dev, CommandType::Release, 0, power->hand_back);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(back->verified) << back->detail;
  EXPECT_EQ(sim->configuration("EM_OperatingMode"), "10");

  // A virtual power plant has priority: refused as a conflict, the mode put back.
  sim->set_vpp_priority(true);
  auto vpp = apply(*d, dev, CommandType::BatteryPower, 1000);
  ASSERT_FALSE(vpp);
  EXPECT_EQ(vpp.error().kind, ErrorKind::Conflict);
  EXPECT_NE(vpp.error().message.find("virtual power plant operator has priority (HTTP 403)"),
            std::string::npos);
  EXPECT_EQ(sim->configuration("EM_OperatingMode"), "10");

  auto discharge_tou = apply(*d, dev, CommandType::TouSchedule, 0, "17:00-20:00 discharge power=1");
  ASSERT_FALSE(discharge_tou);
  EXPECT_NE(discharge_tou.error().message.find("only charge from the grid"), std::string::npos);

  // What the control forms show: the configurations as the commands left them.
  auto shown = io.run(d->settings(dev));
  ASSERT_TRUE(shown) << shown.error().message;
  std::map<CommandType, Setting> by;
  for (const auto& s : *shown) by[s.command] = s;
  EXPECT_EQ(by[CommandType::MinSoc].value, 25);
  EXPECT_EQ(by[CommandType::BatteryStrategy].argument, "time-of-use");
  EXPECT_EQ(by[CommandType::TouSchedule].argument, "01:00-05:00 charge power=4000");
}

TEST_F(SonnenV2, TheClientHasACallForEveryEndpoint) {
  sonnen::ClientV2 c(http, {"127.0.0.1", sim->port(), false}, kToken);
  auto latest = io.run(c.latest_data());
  ASSERT_TRUE(latest) << latest.error().message;
  EXPECT_TRUE(latest->contains("SetPoint_W"));
  auto battery = io.run(c.battery());
  ASSERT_TRUE(battery);
  EXPECT_EQ(battery->at("serialnumber").as_string(), "123456");
  auto inverter = io.run(c.inverter());
  ASSERT_TRUE(inverter && inverter->contains("pac_total"));
  auto ioports = io.run(c.io());
  ASSERT_TRUE(ioports && ioports->contains("DO_1"));
  auto meters = io.run(c.powermeter());
  ASSERT_TRUE(meters && meters->size() == 2);
  auto all = io.run(c.configurations());
  ASSERT_TRUE(all);
  EXPECT_EQ(all->at("EM_OperatingMode"), "2");
  auto one = io.run(c.configuration("EM_USOC"));
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, "0");
  std::map<std::string, std::string> items{{"EM_USOC", "15"}, {"EM_Prognosis_Charging", "1"}};
  auto put = io.run(c.set_configurations(items));
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_EQ(*put, items);
  auto refused = io.run(c.set_configurations({{"EM_USOC", "150"}}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(refused.error().message,
            "sonnen PUT configurations: HTTP 400: validation failed (EM_USOC: must be 0..100)");
  auto off_manual = io.run(c.set_battery_power(500));
  ASSERT_FALSE(off_manual);
  EXPECT_NE(off_manual.error().message.find("setpoints need manual mode"), std::string::npos);
  auto status = io.run(c.status());
  ASSERT_TRUE(status);
  EXPECT_EQ(status->OperatingMode, "2");
  sonnen::ClientV2 wrong(http, {"127.0.0.1", sim->port(), false}, "nope");
  auto denied = io.run(wrong.latest_data());
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().kind, ErrorKind::Auth);
}
