// The KOSTAL client and driver against the in-process simulator over real HTTP, and the
// simulator's wire behaviour seen by a raw HTTP client.
#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>
#include <map>

#include "net/driver_env.hpp"
#include "net/json.hpp"
#include "net/test_io.hpp"
#include "vendors/kostal/client.hpp"
#include "vendors/kostal/driver.hpp"
#include "vendors/kostal/mapping.hpp"
#include "vendors/kostal/simulator.hpp"

using namespace sb;
using namespace sb::net;
using namespace std::chrono;

namespace {

TimePoint summer_noon() {  // Wednesday 2026-06-17 10:00 UTC: PV high in Berlin
  return time_point_cast<Millis>(sys_days(2026y / 6 / 17) + hours(10));
}

struct KostalSim : ::testing::Test {
  TestIo io;
  ManualClock clock{summer_noon()};
  ManualSleeper sleeper{clock};
  HttpClient http{io.executor()};
  boost::asio::thread_pool pool{1};
  DriverEnv env{io.executor(), clock, http, sleeper, &pool};
  std::unique_ptr<kostal::Simulator> sim;

  void SetUp() override {
    sim::SiteConfig site;
    site.seed = 11;
    site.cloudiness = 0;
    kostal::SimOptions o;
    o.rounds = 1000;  // fast tests; the bench measures the real 29000
    o.session_idle = minutes(10);
    o.lock_after = 3;
    sim = std::make_unique<kostal::Simulator>(io.executor(), clock, site, o);
    ASSERT_TRUE(sim->listen("127.0.0.1", 0));
  }
  void TearDown() override {
    sim->stop();
    pool.join();
  }

  ConnectionConfig config(std::string password = "owner-password", std::string role = "user") {
    ConnectionConfig c;
    c.name = "inv";
    c.vendor = "kostal";
    c.site = "home";
    c.host = "127.0.0.1";
    c.port = sim->port();
    c.timeout = net::kTestRequestTimeout;
    c.options["password"] = std::move(password);
    c.options["role"] = role;
    if (role == "master") c.options["service_code"] = "12345";
    c.options["verify_timeout"] = "2";
    return c;
  }
  std::unique_ptr<Driver> driver(const ConnectionConfig& c) {
    auto made = kostal::registry_entry().factory(c, env);
    EXPECT_TRUE(made) << made.error().message;
    return made ? std::move(*made) : nullptr;
  }
  kostal::Client client(std::string password = "owner-password", std::string role = "user") {
    return kostal::Client(http, {"127.0.0.1", sim->port(), false},
                          {role, std::move(password), role == "master" ? "12345" : ""},
                          net::kTestRequestTimeout, &pool);
  }
  HttpResponse raw(std::string method, std::string target, std::string body = {},
                   std::string session = {}) {
    HttpRequest r{std::move(method), "/api/v1" + target, {}, std::move(body)};
    if (!session.empty()) r.headers.emplace_back("Authorization", "Session " + session);
    auto res = io.run(http.request({"127.0.0.1", sim->port(), false}, r));
    EXPECT_TRUE(res) << (res ? "" : res.error().message);
    return res ? *res : HttpResponse{};
  }
  std::map<std::string, double> values(Driver& d, const DeviceInfo& dev) {
    auto snap = io.run(d.poll(dev));
    EXPECT_TRUE(snap) << (snap ? "" : snap.error().message);
    std::map<std::string, double> m;
    if (snap)
      for (const auto& s : snap->samples) m[s.metric] = s.value;
    return m;
  }
};

}  // namespace

TEST_F(KostalSim, OwnerDiscoversTheInverterAndReadsCanonicalValues) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  const auto& dev = (*found)[0];
  EXPECT_EQ(dev.id, "inv:90512ABC0019");
  EXPECT_EQ(dev.model, "PLENTICORE plus 10");
  EXPECT_EQ(dev.firmware, "01.26.09454");
  auto v = values(*d, dev);
  auto st = sim->with_site([](sim::Site& s) { return s.state(); });
  EXPECT_NEAR(v["pv.power"], st.pv_w, 1e-6);
  EXPECT_GT(v["pv.power"], 1000);
  EXPECT_NEAR(v["pv.string.1.power"] + v["pv.string.2.power"], v["pv.power"], 1e-6);
  EXPECT_NEAR(v["load.power"], st.load_w, 1e-6);
  EXPECT_NEAR(v["grid.power"], st.grid_w, 1e-6);
  EXPECT_NEAR(v["battery.power"], st.battery_w, 1e-6);  // + discharge on both sides
  EXPECT_NEAR(v["battery.soc"], std::round(st.soc_percent), 1e-9);
  EXPECT_EQ(v["device.state"], double(DeviceState::Running));
  // Lifetime counters agree with the simulated site's physics.
  auto c = sim->with_site([](sim::Site& s) { return s.counters(); });
  EXPECT_NEAR(v["energy.pv_yield"], c.pv_wh, 1e-3);
  EXPECT_NEAR(v["energy.grid_import"], c.grid_import_wh, 1e-3);
  EXPECT_NEAR(v["energy.grid_export"], c.grid_export_wh, 1e-3);
  EXPECT_NEAR(v["energy.battery_charge"], c.battery_charge_wh, 1e-3);
  EXPECT_NEAR(v["energy.battery_discharge"], c.battery_discharge_wh, 1e-3);
  EXPECT_NEAR(v["energy.load"], c.load_wh, 1e-3);
  // The day's yield counts from local midnight (site started there).
  EXPECT_GT(v["vendor.kostal.yield_day"], 0);
  EXPECT_LT(v["vendor.kostal.yield_day"], 100'000);
}

TEST_F(KostalSim, OneSessionIsReusedAcrossPollsAndLoggedOut) {
  auto c = client();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(io.run(c.process_data("devices:local", {"Home_P"})));
  EXPECT_EQ(c.logins(), 1u);
  EXPECT_EQ(sim->sessions(), 1u);
  ASSERT_TRUE(io.run(c.logout()));
  EXPECT_EQ(sim->sessions(), 0u);
}

TEST_F(KostalSim, InstallerLoginGetsTheInstallerRoleAndWritesInstallerSettings) {
  auto c = client("MASTERKEY01234", "master");
  ASSERT_TRUE(io.run(c.login()));
  auto me = io.run(c.me());
  ASSERT_TRUE(me);
  EXPECT_EQ(me->role, "INSTALLER");
  EXPECT_TRUE(me->authenticated);
  ASSERT_TRUE(io.run(c.write_settings("devices:local", {{"Battery:ExternControl", "2"}})));
  EXPECT_EQ(sim->setting("devices:local", "Battery:ExternControl"), "2");
  // The owner sees the same setting read-only, and a write is refused with 403.
  auto owner = client();
  auto meta = io.run(owner.settings_meta());
  ASSERT_TRUE(meta);
  for (const auto& m : *meta)
    for (const auto& s : m.settings)
      if (s.id == "Battery:ExternControl") {
        EXPECT_EQ(s.access, "readonly");
      }
  auto refused = io.run(owner.write_settings("devices:local", {{"Battery:ExternControl", "0"}}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Auth);
  EXPECT_NE(refused.error().message.find("HTTP 403"), std::string::npos);
  EXPECT_EQ(sim->setting("devices:local", "Battery:ExternControl"), "2");
}

TEST_F(KostalSim, WrongServiceCodeIsRefusedAndNotRetried) {
  kostal::Client c(http, {"127.0.0.1", sim->port(), false}, {"master", "MASTERKEY01234", "99999"},
                   net::kTestRequestTimeout, &pool);
  auto r = io.run(c.login());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Auth);
  EXPECT_TRUE(c.needs_credentials());
}

TEST_F(KostalSim, WrongPasswordNeedsCredentialsAndNeverLocksTheUserByItself) {
  auto d = driver(config("wrong-password"));
  for (int i = 0; i < 5; ++i) {
    auto r = io.run(d->discover());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Auth);
    EXPECT_NE(r.error().message.find("needs credentials"), std::string::npos) << r.error().message;
  }
  // One attempt only: the right password still works (three wrong ones would lock).
  auto ok = driver(config());
  EXPECT_TRUE(io.run(ok->discover()));
}

TEST_F(KostalSim, RepeatedWrongPasswordsLockTheUserUntilTheLockEnds) {
  for (int i = 0; i < 3; ++i) {
    auto c = client("wrong");
    EXPECT_FALSE(io.run(c.login()));
  }
  auto c = client();
  auto locked = io.run(c.login());
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().kind, ErrorKind::Auth);
  EXPECT_NE(locked.error().message.find("User is locked"), std::string::npos);
  EXPECT_FALSE(c.needs_credentials());  // a lock passes; the password may be right
  auto me = raw("GET", "/auth/me");
  EXPECT_NE(me.body.find("\"locked\":true"), std::string::npos) << me.body;
  clock.advance(minutes(6));
  EXPECT_TRUE(io.run(c.login()));
}

TEST_F(KostalSim, ExpiredSessionMidPollCostsOneSilentRelogin) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  values(*d, (*found)[0]);
  clock.advance(minutes(11));  // idle longer than the device keeps sessions
  auto v = values(*d, (*found)[0]);
  EXPECT_GT(v.count("pv.power"), 0u);
  sim->expire_sessions();
  v = values(*d, (*found)[0]);
  EXPECT_GT(v.count("pv.power"), 0u);
  EXPECT_EQ(sim->sessions(), 1u);
}

TEST_F(KostalSim, RestartAnd503BurstAreTransportErrorsThenPollingRecovers) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  sim->restart(seconds(30));
  auto during = io.run(d->poll((*found)[0]));
  ASSERT_FALSE(during);
  EXPECT_EQ(during.error().kind, ErrorKind::Transport);
  EXPECT_NE(during.error().message.find("Internal communication error"), std::string::npos);
  clock.advance(seconds(31));
  auto v = values(*d, (*found)[0]);  // the old session died with the restart: re-login
  EXPECT_GT(v.count("battery.soc"), 0u);
  sim->unavailable_for(seconds(10));
  EXPECT_FALSE(io.run(d->poll((*found)[0])));
  clock.advance(seconds(11));
  EXPECT_TRUE(io.run(d->poll((*found)[0])));
}

TEST_F(KostalSim, MalformedBodyIsAProtocolErrorNamingTheCall) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  sim->set_faults({.malformed_rate = 1.0});
  auto r = io.run(d->poll((*found)[0]));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
  EXPECT_NE(r.error().message.find("KOSTAL processdata"), std::string::npos) << r.error().message;
  sim->set_faults({});
  EXPECT_TRUE(io.run(d->poll((*found)[0])));
}

TEST_F(KostalSim, EveryControlIsWrittenReadBackAndChangesTheSite) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  const auto& dev = (*found)[0];
  auto run = [&](Command c) {
    c.device = dev.id;
    auto r = io.run(d->apply(dev, c));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : CommandOutcome{};
  };
  auto min_soc = run({"", CommandType::MinSoc, 40});
  EXPECT_TRUE(min_soc.verified) << min_soc.detail;
  EXPECT_EQ(min_soc.before, 5);
  EXPECT_EQ(min_soc.after, 40);
  EXPECT_EQ(sim->with_site([](sim::Site& s) { return s.reserve_soc(); }), 40);

  auto home = run({"", CommandType::MinHomeConsumption, 300});
  EXPECT_TRUE(home.verified) << home.detail;
  EXPECT_EQ(sim->setting("devices:local", "Battery:MinHomeComsumption"), "300.0");
  EXPECT_EQ(sim->with_site([](sim::Site& s) { return s.discharge_threshold(); }), 300);

  Command strategy{"", CommandType::BatteryStrategy};
  strategy.argument = "auto-economy";
  EXPECT_TRUE(run(strategy).verified);
  EXPECT_EQ(sim->setting("devices:local", "Battery:Strategy"), "2");

  EXPECT_TRUE(run({"", CommandType::SmartControl, 1}).verified);
  EXPECT_EQ(sim->setting("devices:local", "Battery:SmartBatteryControl:Enable"), "1");

  // No charging on Wednesday 12:00-12:15 local (10:00 UTC is 12:00 in Berlin in summer).
  std::string wed(96, '0');
  wed[48] = '1';
  std::string plan;
  for (int i = 0; i < 7; ++i) plan += (i ? "," : "") + (i == 2 ? wed : std::string(96, '0'));
  Command tc{"", CommandType::TimeControl};
  tc.argument = plan;
  auto timed = run(tc);
  EXPECT_TRUE(timed.verified) << timed.detail;
  EXPECT_EQ(sim->setting("devices:local", "Battery:TimeControl:ConfWed"), wed);
  EXPECT_EQ(sim->with_site([&](sim::Site& s) { return s.slot_rule_at(clock.now()); }),
            sim::SlotRule::NoCharge);
  tc.argument = "off";
  EXPECT_TRUE(run(tc).verified);
  EXPECT_EQ(sim->setting("devices:local", "Battery:TimeControl:Enable"), "0");
}

TEST_F(KostalSim, AWriteTheInverterIgnoresIsReportedUnverified) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  sim->ignore_next_write("Battery:MinSoc");
  auto r = io.run(d->apply((*found)[0], {(*found)[0].id, CommandType::MinSoc, 30}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->verified);
  EXPECT_EQ(r->after, 5);
  EXPECT_NE(r->detail.find("Battery:MinSoc reads '5', not '30'"), std::string::npos) << r->detail;
  // Unsupported commands say why.
  auto power = io.run(d->apply((*found)[0], {(*found)[0].id, CommandType::BatteryPower, 1000}));
  ASSERT_FALSE(power);
  EXPECT_EQ(power.error().kind, ErrorKind::NotSupported);
}

TEST_F(KostalSim, LogDataBackfillsAGapWithTheSitesValues) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  // The site has run since local midnight (22:00 UTC the day before).
  TimeRange range{summer_noon() - hours(3), summer_noon() - hours(1)};
  auto h = io.run(d->history((*found)[0], range));
  ASSERT_TRUE(h) << h.error().message;
  std::map<std::string, int> per_metric;
  for (const auto& s : *h) {
    ++per_metric[s.metric];
    EXPECT_EQ(s.quality, Quality::Backfilled);
    EXPECT_GE(s.time, range.from);
    EXPECT_LT(s.time, range.to);
  }
  EXPECT_EQ(per_metric["pv.power"], 24);  // two hours of 5-minute rows
  EXPECT_EQ(per_metric["battery.soc"], 24);
  // A row agrees with the site at its time: PV is a pure function of time.
  for (const auto& s : *h)
    if (s.metric == "pv.string.1.power") {
      auto expect = sim->with_site([&](sim::Site& site) { return site.pv_at(s.time)[0].power_w; });
      EXPECT_NEAR(s.value, expect, 0.5);
    }
}

TEST_F(KostalSim, WireShapesMatchTheRealDevice) {
  auto v = raw("GET", "/info/version");
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.body,
            R"({"sw_version":"01.26.09454","name":"PUCK RESTful API","api_version":"0.2.0",)"
            R"("hostname":"scb"})");
  auto me = raw("GET", "/auth/me");
  EXPECT_EQ(me.body,
            R"({"role":"NONE","anonymous":true,"locked":false,"permissions":[],"active":false,)"
            R"("authenticated":false})");
  EXPECT_EQ(raw("GET", "/modules").status, 401);
  auto bad_user = raw("POST", "/auth/start", R"({"username":"admin","nonce":"AQIDBAUGBwgJCgsM"})");
  EXPECT_EQ(bad_user.status, 400);
  EXPECT_EQ(bad_user.body, R"({"message":"Invalid user"})");
  auto start = raw("POST", "/auth/start", R"({"username":"user","nonce":"AQIDBAUGBwgJCgsM"})");
  ASSERT_EQ(start.status, 200);
  auto o = parse_json_object(start.body, "start");
  ASSERT_TRUE(o);
  auto nonce = std::string((*o)["nonce"].as_string());
  EXPECT_EQ(nonce.size(), 32u);
  EXPECT_TRUE(nonce.starts_with("AQIDBAUGBwgJCgsM"));
  EXPECT_EQ(std::string((*o)["transactionId"].as_string()).size(), 64u);
  EXPECT_EQ(std::string((*o)["salt"].as_string()).size(), 16u);
  EXPECT_EQ(raw("DELETE", "/auth/start").status, 405);
  EXPECT_EQ(raw("GET", "/nothing").status, 404);

  auto c = client();
  ASSERT_TRUE(io.run(c.login()));
  // Process data ids come sorted whatever the order asked for; units and values as numbers.
  auto pd = io.run(c.process_data("devices:local:battery", {"SoC", "P", "I"}));
  ASSERT_TRUE(pd);
  ASSERT_EQ(pd->values.size(), 3u);
  EXPECT_EQ(pd->values[0].id, "I");
  EXPECT_EQ(pd->values[1].id, "P");
  EXPECT_EQ(pd->values[2].id, "SoC");
  EXPECT_EQ(pd->values[2].unit, "%");
  auto missing = io.run(c.process_data("devices:local", {"Nope"}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
  EXPECT_NE(missing.error().message.find("Module or process-data not found"), std::string::npos);
  // Settings are strings both ways; '/' is escaped as the device does.
  auto tz = io.run(c.settings("scb:time", {"Timezone"}));
  ASSERT_TRUE(tz);
  EXPECT_EQ((*tz)[0].value, "Europe/Berlin");
  auto ids = io.run(c.process_data_ids());
  ASSERT_TRUE(ids);
  EXPECT_GE(ids->size(), 6u);
  auto events = io.run(c.events(1));
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].code, 6260);
  auto fw = io.run(c.firmware_status());
  ASSERT_TRUE(fw);
  EXPECT_EQ(fw->status, "idle");
  auto out_of_range = io.run(c.write_settings("devices:local", {{"Battery:MinSoc", "3"}}));
  ASSERT_FALSE(out_of_range);
  EXPECT_EQ(out_of_range.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(out_of_range.error().message.find("outside 5..100"), std::string::npos)
      << out_of_range.error().message;
  auto bad_plan =
      io.run(c.write_settings("devices:local", {{"Battery:TimeControl:ConfMon", "01"}}));
  ASSERT_FALSE(bad_plan);
  EXPECT_EQ(bad_plan.error().kind, ErrorKind::InvalidArgument);
}

TEST_F(KostalSim, TheSettingsPublicClientsReadInOnePostAreAllThere) {
  // The ioBroker plenticore adapter's settings poll (older firmware ids); one unknown id would
  // fail the whole POST with 404.
  sim->stop();
  kostal::SimOptions o;
  o.rounds = 1000;
  o.legacy_network_ids = true;
  sim = std::make_unique<kostal::Simulator>(io.executor(), clock, sim::SiteConfig{}, o);
  ASSERT_TRUE(sim->listen("127.0.0.1", 0));
  auto c = client();
  ASSERT_TRUE(io.run(c.login()));
  std::map<std::string, std::vector<std::string>> wanted = {
      {"devices:local",
       {"Battery:DynamicSoc:Enable", "Battery:MinHomeComsumption", "Battery:MinSoc",
        "Battery:SmartBatteryControl:Enable", "Battery:Strategy", "Battery:SupportedTypes",
        "Battery:Type", "Battery:ExternControl", "Battery:ExternControl:DcPowerAbs",
        "Battery:ExternControl:MaxChargePowerAbs", "Inverter:MaxApparentPower",
        "EnergySensor:InstalledSensor", "OptionKeys:StateKey0", "Generator:ExtModuleControl:Enable",
        "Generator:ShadowMgmt:Enable"}},
      {"scb:network",
       {"Hostname", "IPv4Address", "IPv4Auto", "IPv4DNS1", "IPv4DNS2", "IPv4Gateway",
        "IPv4Subnetmask"}},
      {"scb:time", {"NTPuse", "NTPservers", "Timezone"}},
      {"scb:modbus", {"ModbusEnable", "ModbusUnitId"}},
      {"scb:export", {"LastExport", "LastExportOk", "Portal", "ExportEnable"}}};
  for (const auto& [module, ids] : wanted) {
    auto got = io.run(c.settings(module, ids));
    ASSERT_TRUE(got) << module << ": " << got.error().message;
    EXPECT_EQ(got->size(), ids.size()) << module;
  }
  auto host = io.run(c.settings("scb:network", {"Hostname"}));
  ASSERT_TRUE(host);
  EXPECT_EQ((*host)[0].value, "scb");
  // Newer firmware's id is not there on the older one.
  auto newer = io.run(c.settings("scb:network", {"Network:Hostname"}));
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().kind, ErrorKind::NotFound);
  // scb:export is listed once although it has both process data and settings.
  auto modules = io.run(c.modules());
  ASSERT_TRUE(modules);
  EXPECT_EQ(std::count_if(modules->begin(), modules->end(),
                          [](const kostal::ModuleInfo& m) { return m.id == "scb:export"; }),
            1);
}

TEST_F(KostalSim, EscapedSlashesAndEmptyUnitsAreUnderstood) {
  EXPECT_EQ(kostal::escape_slashes(R"({"Timezone":"Europe/Berlin"})"),
            R"({"Timezone":"Europe\/Berlin"})");
  // 2019 firmware: every unit is "" and the values still map.
  std::vector<kostal::ModuleValues> ms = {
      {"devices:local:battery", {{"P", "", -305}, {"SoC", "", 76}}},
      {"devices:local", {{"Grid_P", "", 487}, {"Home_P", "", 512}, {"Inverter:State", "", 6}}}};
  std::map<std::string, double> m;
  for (const auto& s : kostal::map_process_data(ms, "inv:1", summer_noon())) m[s.metric] = s.value;
  EXPECT_EQ(m["battery.power"], -305);  // charging
  EXPECT_EQ(m["grid.power"], 487);
  EXPECT_EQ(m["load.power"], 512);
  EXPECT_EQ(m["device.state"], double(DeviceState::Running));
  // A state code past int's range (its cast was undefined behaviour) or below 0 is unknown.
  for (double code : {1e300, -1.0, 2147483648.0}) {
    ms[1].values[2].value = code;
    m.clear();
    for (const auto& s : kostal::map_process_data(ms, "inv:1", summer_noon()))
      m[s.metric] = s.value;
    EXPECT_EQ(m["device.state"], double(DeviceState::Unknown)) << code;
    EXPECT_EQ(m["vendor.kostal.inverter_state"], code);
  }
}

TEST(KostalDriverConfig, BadOptionsAreClearErrors) {
  ConnectionConfig c;
  c.name = "inv";
  c.host = "127.0.0.1";
  c.where = "sunbridge.yaml:7";
  TestIo io;
  ManualClock clock{summer_noon()};
  ManualSleeper sleeper{clock};
  HttpClient http{io.executor()};
  DriverEnv env{io.executor(), clock, http, sleeper};
  auto none = kostal::registry_entry().factory(c, env);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "sunbridge.yaml:7: connection 'inv': option password is required: the plant owner's "
            "password, or the master key with role: master");
  c.options["password"] = "x";
  c.options["role"] = "admin";
  auto role = kostal::registry_entry().factory(c, env);
  ASSERT_FALSE(role);
  EXPECT_NE(role.error().message.find("option role = 'admin' is not one of user, master"),
            std::string::npos);
  c.options["role"] = "master";
  auto code = kostal::registry_entry().factory(c, env);
  ASSERT_FALSE(code);
  EXPECT_NE(code.error().message.find("needs option service_code"), std::string::npos);
}

TEST(KostalLogData, MalformedRowsNameTheLineAndColumn) {
  std::string text =
      "Wechselrichter Typ:\tPLENTICORE plus 10\nZeit\tDC1 P\tSOC H\n1781690400\t1200\t55\n"
      "1781690700\tx\t55\n";
  auto r = kostal::parse_log_data(text, "inv:1", {from_ms(0), from_ms(4'000'000'000'000)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "KOSTAL logdata line 4, column 'DC1 P': 'x' is not a number");
  // A time far beyond any clock overflowed the cast and then the ×1000 (UBSan); infinity too.
  auto huge = kostal::parse_log_data("Zeit\tDC1 P\n1e300\t1200\n", "inv:1",
                                     {from_ms(0), from_ms(4'000'000'000'000)});
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().message,
            "KOSTAL logdata line 2: field 'Zeit' = 1e+300 is outside 0..9007199254740");
  auto inf = kostal::parse_log_data("Zeit\tDC1 P\n1781690400\tinf\n", "inv:1",
                                    {from_ms(0), from_ms(4'000'000'000'000)});
  ASSERT_FALSE(inf);
  EXPECT_EQ(inf.error().message, "KOSTAL logdata line 2, column 'DC1 P': 'inf' is not a number");
  auto ok = kostal::parse_log_data(text.substr(0, text.rfind("1781690700")), "inv:1",
                                   {from_ms(0), from_ms(4'000'000'000'000)});
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->size(), 3u);  // string power, PV power and SoC; nothing invented
  EXPECT_EQ((*ok)[0].metric, "pv.string.1.power");
  EXPECT_EQ((*ok)[0].value, 1200);
  EXPECT_EQ((*ok)[2].metric, "battery.soc");
  EXPECT_EQ((*ok)[2].value, 55);
}
