// The FoxESS interfaces beyond live data, against the simulator over real HTTP: the scheduler
// (v1 and the deprecated v0) with the cloud's validation rules, force-charge windows, the
// device clock, peak shaving, meters, plant create / update / delete, fault codes, OAuth 2.0;
// each write seen in the simulated battery; and the driver's controls read back.
#include <unistd.h>

#include <filesystem>

#include "net/token_file.hpp"
#include "vendors/foxess/sim_fixture.hpp"

using namespace sb;
using namespace sb::net;
using namespace std::chrono;
using sb::foxess_test::FoxSim;
using sb::foxess_test::summer_noon;

namespace {

namespace json = boost::json;

foxess::SchedulerGroup group(int sh, int sm, int eh, int em, std::string mode, int min_soc = 10,
                             int fd_soc = 20, double fd_pwr = 3000) {
  foxess::SchedulerGroup g;
  g.enable = 1;
  g.start_hour = sh;
  g.start_minute = sm;
  g.end_hour = eh;
  g.end_minute = em;
  g.work_mode = std::move(mode);
  g.min_soc_on_grid = min_soc;
  g.fd_soc = fd_soc;
  g.fd_pwr = fd_pwr;
  g.max_soc = 100;
  return g;
}

}  // namespace

TEST_F(FoxSim, SchedulerGroupsAreCheckedStoredPaddedAndDriveTheBattery) {
  auto c = client();
  auto sn = io.run(c.devices())->front().sn;
  auto flag = io.run(c.scheduler_flag(sn));
  ASSERT_TRUE(flag) << flag.error().message;
  EXPECT_TRUE(flag->supported);
  EXPECT_FALSE(flag->enabled);
  // 12:00 in Berlin (the battery is full by now): a forced discharge of 4 kW from 11:00 to
  // 14:00 local, a forced charge in the evening.
  ASSERT_TRUE(io.run(c.set_scheduler(sn, {group(11, 0, 14, 0, "ForceDischarge", 10, 30, 4000),
                                          group(17, 0, 21, 0, "ForceCharge", 10, 20, 2500)})));
  EXPECT_TRUE(sim->scheduler_enabled(sn));  // writing a schedule turns it on
  EXPECT_DOUBLE_EQ(sim->with_site(sn, [](sim::Site* s) { return s->state().battery_w; }), 4000);
  auto evening = sim->with_site(sn, [&](sim::Site* s) {
    return *s->segment_at(clock.now() + hours(6));  // 18:00 local
  });
  EXPECT_EQ(evening.mode, sim::SegmentMode::Charge);
  EXPECT_EQ(evening.power_w, 2500);
  auto got = io.run(c.scheduler(sn));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_TRUE(got->enabled);
  ASSERT_EQ(got->groups.size(), 8u);  // always eight slots
  EXPECT_EQ(got->groups[0], group(11, 0, 14, 0, "ForceDischarge", 10, 30, 4000));
  EXPECT_EQ(got->groups[1].work_mode, "ForceCharge");
  EXPECT_EQ(got->groups[2].work_mode, "Invalid");
  EXPECT_EQ(got->limits.fd_soc_min, 11);
  EXPECT_EQ(got->limits.fd_pwr_max, 8000);
  // The raw v1 answer: enable and maxSoc are strings, fdPwr an integer.
  auto raw =
      io.run(c.call("POST", "/op/v1/device/scheduler/get", {}, json::object{{"deviceSN", sn}}));
  ASSERT_TRUE(raw);
  EXPECT_TRUE(raw->as_object().at("enable").is_string());
  EXPECT_TRUE(raw->as_object().at("groups").as_array()[0].as_object().at("maxSoc").is_string());
  EXPECT_TRUE(raw->as_object().contains("properties"));
  // v0 reads the same schedule without maxSoc or properties.
  auto v0 =
      io.run(c.call("POST", "/op/v0/device/scheduler/get", {}, json::object{{"deviceSN", sn}}));
  ASSERT_TRUE(v0);
  EXPECT_FALSE(v0->as_object().at("groups").as_array()[0].as_object().contains("maxSoc"));
  EXPECT_FALSE(v0->as_object().contains("properties"));

  auto refused = [&](std::vector<foxess::SchedulerGroup> g, bool v1 = true) {
    auto r = io.run(c.set_scheduler(sn, std::move(g), v1));
    return r ? std::pair(0, std::string()) : std::pair(r.error().vendor_code, r.error().message);
  };
  EXPECT_EQ(refused({group(1, 0, 3, 0, "SelfUse"), group(2, 0, 4, 0, "Backup")}).first, 42023);
  auto midnight = refused({group(22, 0, 2, 0, "SelfUse")});
  EXPECT_EQ(midnight.first, 40257);
  EXPECT_NE(midnight.second.find("crosses midnight"), std::string::npos) << midnight.second;
  auto low = refused({group(1, 0, 2, 0, "ForceDischarge", 30, 20)});
  EXPECT_NE(low.second.find("fdSoc (20) must not be below minSocOnGrid (30)"), std::string::npos)
      << low.second;
  EXPECT_NE(refused({group(1, 0, 2, 0, "SelfUse", 10, 10)})
                .second.find("fdSoc must be an integer "
                             "within 11..100"),
            std::string::npos);
  EXPECT_NE(
      refused({group(1, 0, 2, 0, "SelfUse", 10, 20, 0)}).second.find("fdPwr must be within 1"),
      std::string::npos);
  EXPECT_NE(refused({group(1, 0, 2, 0, "Turbo")}).second.find("workMode must be one of"),
            std::string::npos);
  std::vector<foxess::SchedulerGroup> nine;
  for (int i = 0; i < 9; ++i) nine.push_back(group(i, 0, i, 30, "SelfUse"));
  EXPECT_NE(refused(nine).second.find("at most 8 groups"), std::string::npos);
  // The deprecated v0 allows fdSoc 10 and fdPwr 0 but knows no maxSoc.
  auto g0 = group(1, 0, 2, 0, "SelfUse", 10, 10, 0);
  g0.max_soc.reset();
  EXPECT_EQ(refused({g0}, false).first, 0);
  auto extra =
      io.run(c.call("POST", "/op/v1/device/scheduler/enable", {},
                    json::object{{"deviceSN", sn}, {"groups", json::array{[] {
                                                      auto o = foxess::to_request_json(
                                                          group(1, 0, 2, 0, "SelfUse"), true);
                                                      o["colour"] = "red";
                                                      return o;
                                                    }()}}}));
  ASSERT_FALSE(extra);
  EXPECT_NE(extra.error().message.find("unknown field 'colour'"), std::string::npos);
  // The flag turns it off (the groups stay) and the battery is in self-use again.
  ASSERT_TRUE(io.run(c.set_scheduler_flag(sn, false)));
  EXPECT_FALSE(sim->scheduler_enabled(sn));
  EXPECT_GE(sim->with_site(sn, [](sim::Site* s) { return s->state().battery_w; }), -4600);
  EXPECT_TRUE(sim->with_site(sn, [](sim::Site* s) { return s->day_plan().empty(); }));
  // The seed's code example sets the flag through the undocumented /op/v0/device/scheduler/set.
  ASSERT_TRUE(io.run(c.call("POST", "/op/v0/device/scheduler/set", {},
                            json::object{{"deviceSN", sn}, {"enable", 1}})));
  EXPECT_TRUE(sim->scheduler_enabled(sn));
  // While it is on, the work mode and force-charge times are refused with 44096.
  auto mode = io.run(c.set_setting(sn, "WorkMode", "Backup"));
  ASSERT_FALSE(mode);
  EXPECT_EQ(mode.error().vendor_code, 44096);
  EXPECT_EQ(mode.error().kind, ErrorKind::Conflict);
  // An inverter without a battery has no scheduler.
  auto devices = io.run(c.devices());
  auto plain = std::find_if(devices->begin(), devices->end(),
                            [](const foxess::Device& d) { return !d.has_battery; });
  ASSERT_NE(plain, devices->end());
  EXPECT_FALSE(io.run(c.scheduler_flag(plain->sn))->supported);
  EXPECT_FALSE(io.run(c.scheduler(plain->sn)));
}

TEST_F(FoxSim, ForceChargeWindowsChargeFromTheGridAndReadBackWithStringFlags) {
  auto c = client();
  auto sn = io.run(c.devices())->front().sn;
  auto before = io.run(c.force_charge(sn));
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_FALSE((*before)[0].enable);
  foxess::ForceCharge w{};
  w[0] = {true, 11, 30, 12, 45};  // now (12:00 local) is inside
  w[1] = {false, 2, 0, 4, 0};
  ASSERT_TRUE(io.run(c.set_force_charge(sn, w)));
  auto after = io.run(c.force_charge(sn));
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, w);
  // A grid charge at full power up to MaxSoc while the window lasts.
  auto seg = sim->with_site(sn, [&](sim::Site* s) { return *s->segment_at(clock.now()); });
  EXPECT_EQ(seg.mode, sim::SegmentMode::Charge);
  EXPECT_EQ(seg.power_w, sim->options().plants[0].inverters[0].site.battery.max_charge_w);
  EXPECT_EQ(seg.max_soc_percent, 100);
  auto raw = io.run(
      c.call("GET", "/op/v0/device/battery/forceChargeTime/get", {{"sn", sn}}, std::nullopt));
  EXPECT_EQ(raw->as_object().at("enable1"), json::value("true"));  // a string, as documented
  auto bad = io.run(c.call("POST", "/op/v0/device/battery/forceChargeTime/set", {},
                           json::object{{"sn", sn}, {"enable1", "true"}}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("enable1 is required (a boolean)"), std::string::npos);
}

TEST_F(FoxSim, DeviceClockIsReadAndSetInThePlantZone) {
  auto c = client();
  auto sn = io.run(c.devices())->front().sn;
  auto t = io.run(c.device_time(sn));
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->year, 2026);
  EXPECT_EQ(t->hour, 12);                                              // 10:00 UTC in Berlin summer
  ASSERT_TRUE(io.run(c.set_device_time(sn, {26, 6, 21, 13, 30, 0})));  // two-digit year
  auto moved = io.run(c.device_time(sn));
  EXPECT_EQ(moved->hour, 13);
  EXPECT_EQ(moved->minute, 30);
  auto bad = io.run(c.set_device_time(sn, {2026, 2, 30, 1, 0, 0}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("2026-2 has no day 30"), std::string::npos);
  auto range = io.run(c.set_device_time(sn, {2026, 13, 1, 1, 0, 0}));
  EXPECT_NE(range.error().message.find("month must be a string of an integer within 1..12"),
            std::string::npos);
}

TEST_F(FoxSim, PeakShavingHoldsImportWhenTheWorkModeSaysSo) {
  auto c = client();
  auto sn = io.run(c.devices())->front().sn;
  auto ps = io.run(c.peak_shaving(sn));
  ASSERT_TRUE(ps) << ps.error().message;
  EXPECT_EQ(ps->import_limit.unit, "kW");
  EXPECT_EQ(ps->import_limit.max, 50);
  ASSERT_TRUE(io.run(c.set_peak_shaving(sn, 1.5, 30)));
  ps = io.run(c.peak_shaving(sn));
  EXPECT_EQ(ps->import_limit.value, "1.5");
  EXPECT_EQ(ps->soc.value, "30");
  EXPECT_FALSE(sim->with_site(sn, [](sim::Site* s) { return s->import_limit().has_value(); }));
  ASSERT_TRUE(io.run(c.set_setting(sn, "WorkMode", "PeakShaving")));
  EXPECT_DOUBLE_EQ(*sim->with_site(sn, [](sim::Site* s) { return s->import_limit(); }), 1500);
  EXPECT_FALSE(io.run(c.set_peak_shaving(sn, 1.55, 30)));  // steps of 0.1 kW
  EXPECT_FALSE(io.run(c.set_peak_shaving(sn, 2, 5)));
  auto devices = io.run(c.devices());
  auto plain = std::find_if(devices->begin(), devices->end(),
                            [](const foxess::Device& d) { return !d.has_battery; });
  auto none = io.run(c.peak_shaving(plain->sn));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("peak shaving not available"), std::string::npos);
}

TEST_F(FoxSim, MetersListSettingsAndAFeedInLimitThatClipsThePlantsExport) {
  auto c = client();
  auto meters = io.run(c.meters());
  ASSERT_TRUE(meters) << meters.error().message;
  ASSERT_EQ(meters->size(), 3u);  // one per plant
  auto m = meters->front();
  auto settings = io.run(c.meter_settings(m.sn));
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_EQ(settings->size(), 8u);
  EXPECT_EQ(settings->at("mode").value, "normal");
  EXPECT_EQ(settings->at("mode").choices,
            (std::vector<std::string>{"normal", "feedinLimit", "G100"}));
  EXPECT_EQ(settings->at("deviceQuantity").value, "4");
  auto normal = io.run(c.set_meter_settings(m.sn, {{"mode", "normal"}, {"feedinPower", "100"}}));
  ASSERT_FALSE(normal);
  EXPECT_NE(normal.error().message.find("feedinPower is only available in a non-normal mode"),
            std::string::npos);
  auto g100 =
      io.run(c.set_meter_settings(m.sn, {{"mode", "feedinLimit"}, {"inputMaxCurrent", "40"}}));
  EXPECT_NE(g100.error().message.find("only available in G100 mode"), std::string::npos);
  EXPECT_FALSE(io.run(c.set_meter_settings(m.sn, {{"mode", "G100"}, {"deviceQuantity", "2"}})));
  // Noon in June: the plant's four inverters export; a 2 kW feed-in limit holds each to 500 W.
  ASSERT_TRUE(
      io.run(c.set_meter_settings(m.sn, {{"mode", "feedinLimit"}, {"feedinPower", "2000"}})));
  EXPECT_EQ(io.run(c.meter_settings(m.sn))->at("feedinPower").value, "2000");
  auto devices = io.run(c.devices());
  int in_plant = 0;
  for (const auto& d : *devices) {
    if (d.station_id != m.station_id) continue;
    ++in_plant;
    EXPECT_DOUBLE_EQ(*sim->with_site(d.sn, [](sim::Site* s) { return s->export_limit(); }), 500);
    EXPECT_GE(sim->with_site(d.sn, [](sim::Site* s) { return s->state().grid_w; }), -500 - 1e-6);
  }
  EXPECT_EQ(in_plant, 4);
}

TEST_F(FoxSim, PlantsAreCreatedUpdatedAndDeletedWithTheirModules) {
  auto c = client();
  auto modules = io.run(c.modules());
  ASSERT_TRUE(modules) << modules.error().message;
  ASSERT_EQ(modules->size(), 12u);
  foxess::PlantSpec spec{"Garage",  "DE",
                         "Potsdam", "Am Hang 3",
                         "14467",   "Europe/Berlin",
                         2,         {{modules->back().sn, "k1"}, {"NOPE0000", "k2"}}};
  auto made = io.run(c.create_plant(spec));
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_FALSE(made->station_id.empty());
  ASSERT_EQ(made->modules.size(), 2u);
  EXPECT_EQ(made->modules[0].second, 0);  // ours: moved to the new plant
  EXPECT_NE(made->modules[1].second, 0);  // unknown: unusable
  EXPECT_EQ(io.run(c.plants())->size(), 4u);
  auto detail = io.run(c.plant(made->station_id));
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->city, "Potsdam");
  EXPECT_EQ(detail->modules.size(), 1u);
  spec.name = "Garage West";
  spec.modules.clear();
  ASSERT_TRUE(io.run(c.update_plant(made->station_id, spec)));
  EXPECT_EQ(io.run(c.plant(made->station_id))->name, "Garage West");
  auto bad = spec;
  bad.timezone = "Mars/Olympus";
  auto refused = io.run(c.create_plant(bad));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("timezone 'Mars/Olympus' is not an IANA zone"),
            std::string::npos);
  bad = spec;
  bad.country_code = "Germany";
  EXPECT_NE(io.run(c.create_plant(bad)).error().message.find("ISO 3166-1 alpha-2"),
            std::string::npos);
  // Deleting a plant unbinds its inverter from the account; the quota shrinks with it.
  int total = sim->quota().total;
  ASSERT_TRUE(io.run(c.delete_plant(made->station_id)));
  EXPECT_EQ(io.run(c.devices())->size(), 11u);
  EXPECT_EQ(sim->quota().total, total - 1440);
  EXPECT_FALSE(io.run(c.delete_plant(made->station_id)));
}

TEST_F(FoxSim, FaultCodesAndTheDeprecatedRealTimeQuery) {
  auto c = client();
  auto faults = io.run(c.fault_codes());
  ASSERT_TRUE(faults) << faults.error().message;
  EXPECT_EQ(faults->at(1), "Grid lost");
  EXPECT_GE(faults->size(), 10u);
  auto all = io.run(c.real_time_v0("", {"pvPower"}));  // no sn: every device of the account
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->size(), 12u);
  EXPECT_EQ(all->front().data.size(), 1u);
  auto one = io.run(c.real_time_v0(all->back().sn, {}));
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_GT(one->front().data.size(), 40u);
}

TEST_F(FoxSim, OAuthCodeTokenBearerRefreshRotationRevokeAndExpiry) {
  auto c = client();
  Endpoint cloud{"127.0.0.1", sim->port(), false};
  // The authorize page redirects the (auto-approving) user back with a code and the state.
  auto url =
      foxess::Client::authorize_url(cloud, "fox-app", "http://127.0.0.1:9/cb", "read", "xyz");
  auto page = io.run(http.request(cloud, {"GET", url.substr(cloud.str().size()), {}, ""}));
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 302);
  std::string location(page->header("Location"));
  ASSERT_TRUE(location.starts_with("http://127.0.0.1:9/cb?code=")) << location;
  EXPECT_NE(location.find("&state=xyz"), std::string::npos);
  auto code = location.substr(location.find("code=") + 5);
  code = code.substr(0, code.find('&'));
  auto wrong = io.run(c.exchange_code("fox-app", "nope", code, "http://127.0.0.1:9/cb"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::Auth);
  auto tokens = io.run(c.exchange_code("fox-app", "fox-app-secret", code, "http://127.0.0.1:9/cb"));
  ASSERT_TRUE(tokens) << tokens.error().message;
  EXPECT_EQ(tokens->expires_in, seconds(86400));
  // Single use.
  auto again = io.run(c.exchange_code("fox-app", "fox-app-secret", code, "http://127.0.0.1:9/cb"));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("invalid_grant"), std::string::npos);
  // Bearer mode: the token signs in the API key's place.
  auto bearer = client("unused");
  bearer.use_access_token(tokens->access_token);
  auto devices = io.run(bearer.devices());
  ASSERT_TRUE(devices) << devices.error().message;
  EXPECT_EQ(devices->size(), 12u);
  // Refresh rotates: the old refresh token is spent.
  auto fresh = io.run(c.refresh_tokens("fox-app", "fox-app-secret", tokens->refresh_token));
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_NE(fresh->refresh_token, tokens->refresh_token);
  EXPECT_FALSE(io.run(c.refresh_tokens("fox-app", "fox-app-secret", tokens->refresh_token)));
  // Revoked: 41808; expired after a day: 41809.
  ASSERT_TRUE(io.run(c.revoke("fox-app", "fox-app-secret", tokens->access_token)));
  auto revoked = io.run(bearer.devices());
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().vendor_code, 41808);
  bearer.use_access_token(fresh->access_token);
  ASSERT_TRUE(io.run(bearer.devices()));
  clock.advance(hours(24) + seconds(1));
  auto expired = io.run(bearer.devices());
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().vendor_code, 41809);
  EXPECT_EQ(expired.error().kind, ErrorKind::Auth);
}

TEST_F(FoxSim, DriverAppliesEveryControlAndReadsItBack) {
  auto d = driver(config());
  auto devices = io.run(d->discover());
  ASSERT_TRUE(devices) << devices.error().message;
  const auto& dev = devices->front();
  auto caps = d->capabilities(dev);
  EXPECT_TRUE(caps.takes(CommandType::ExportLimit));
  ASSERT_TRUE(caps.takes(CommandType::TouSchedule));
  EXPECT_EQ(caps.command(CommandType::TouSchedule)->count, 8);
  ASSERT_TRUE(caps.takes(CommandType::ChargeWindows));
  EXPECT_EQ(caps.command(CommandType::ChargeWindows)->count, 2);
  EXPECT_TRUE(caps.takes(CommandType::PeakShaving));
  auto run = [&](CommandType type, double value, std::string argument = "") {
    Command cmd{dev.id, type, value, {}, "test", std::move(argument)};
    auto r = io.run(d->apply(dev, cmd));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : CommandOutcome{};
  };
  auto limit = run(CommandType::ExportLimit, 4200);
  EXPECT_TRUE(limit.verified) << limit.detail;
  EXPECT_EQ(sim->setting(dev.serial, "ExportLimit"), "4200");
  EXPECT_DOUBLE_EQ(*sim->with_site(dev.serial, [](sim::Site* s) { return s->export_limit(); }),
                   4200);

  auto off_grid = run(CommandType::MinSocOffGrid, 15);
  EXPECT_TRUE(off_grid.verified) << off_grid.detail;
  EXPECT_EQ(sim->setting(dev.serial, "MinSoc"), "15");

  auto windows = run(CommandType::ChargeWindows, 0, "11:00-13:00,02:00-04:00");
  EXPECT_TRUE(windows.verified) << windows.detail;
  EXPECT_EQ(windows.detail, "charge windows 02:00-04:00,11:00-13:00 read back from the cloud");
  EXPECT_EQ(
      sim->with_site(dev.serial, [&](sim::Site* s) { return s->segment_at(clock.now())->mode; }),
      sim::SegmentMode::Charge);

  auto shaving = run(CommandType::PeakShaving, 0, "limit=2500 soc=35");
  EXPECT_TRUE(shaving.verified) << shaving.detail;
  EXPECT_EQ(sim->setting(dev.serial, "WorkMode"), "PeakShaving");
  EXPECT_DOUBLE_EQ(*sim->with_site(dev.serial, [](sim::Site* s) { return s->import_limit(); }),
                   2500);
  auto shaving_off = run(CommandType::PeakShaving, 0, "off");
  EXPECT_TRUE(shaving_off.verified) << shaving_off.detail;
  EXPECT_EQ(sim->setting(dev.serial, "WorkMode"), "SelfUse");

  auto tou = run(CommandType::TouSchedule, 0,
                 "11:00-14:00 discharge power=3000 min-soc=20; 17:00-21:00 charge power=2500 "
                 "max-soc=90; 21:00-24:00 backup");
  EXPECT_TRUE(tou.verified) << tou.detail;
  EXPECT_TRUE(sim->scheduler_enabled(dev.serial));
  EXPECT_DOUBLE_EQ(sim->with_site(dev.serial, [](sim::Site* s) { return s->state().battery_w; }),
                   3000);
  // A schedule the device's ranges cannot hold is refused before anything is written.
  Command low{dev.id, CommandType::TouSchedule,
              0,      {},
              "test", "01:00-02:00 discharge power=1000 min-soc=5"};
  auto refused = io.run(d->apply(dev, low));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("a discharge must stop at 11 % or above"),
            std::string::npos)
      << refused.error().message;
  // While the schedule runs, the cloud refuses a work mode: the command says why.
  Command mode{dev.id, CommandType::BatteryStrategy, 0, {}, "test", "Backup"};
  auto busy = io.run(d->apply(dev, mode));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().kind, ErrorKind::Conflict);
  // What the control forms show: the settings as the commands left them.
  auto shown = io.run(d->settings(dev));
  ASSERT_TRUE(shown) << shown.error().message;
  std::map<CommandType, Setting> by;
  for (const auto& s : *shown) by[s.command] = s;
  EXPECT_EQ(by[CommandType::ExportLimit].value, 4200);
  EXPECT_EQ(by[CommandType::MinSocOffGrid].value, 15);
  EXPECT_EQ(by[CommandType::MinSoc].value,
            std::strtod(sim->setting(dev.serial, "MinSocOnGrid").c_str(), nullptr));
  EXPECT_EQ(by[CommandType::BatteryStrategy].argument, "SelfUse");
  EXPECT_EQ(by[CommandType::ChargeWindows].argument, "02:00-04:00,11:00-13:00");
  EXPECT_EQ(by[CommandType::PeakShaving].argument, "off");
  EXPECT_EQ(by[CommandType::TouSchedule].argument,
            tou.detail.substr(9, tou.detail.find(" read back") - 9));
  auto tou_off = run(CommandType::TouSchedule, 0, "off");
  EXPECT_TRUE(tou_off.verified) << tou_off.detail;
  EXPECT_FALSE(sim->scheduler_enabled(dev.serial));
  // Controls on an inverter without a battery: only the export limit.
  auto plain = std::find_if(devices->begin(), devices->end(), [&](const DeviceInfo& x) {
    return !d->capabilities(x).takes(CommandType::TouSchedule);
  });
  ASSERT_NE(plain, devices->end());
  EXPECT_TRUE(d->capabilities(*plain).takes(CommandType::ExportLimit));
  EXPECT_FALSE(d->capabilities(*plain).takes(CommandType::PeakShaving));
}

TEST_F(FoxSim, DriverInOAuthModeRefreshesRotatesSavesAndSaysWhatToRunWhenRevoked) {
  auto dir =
      std::filesystem::temp_directory_path() / ("sb-foxess-oauth-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = (dir / "tokens.json").string();
  std::filesystem::remove(file);
  auto c = config();
  c.options.erase("api_key");
  c.options["client_id"] = "fox-app";
  c.options["client_secret"] = "fox-app-secret";
  c.options["token_file"] = file;
  // No tokens yet: discovery says which command gets them.
  {
    auto d = driver(c);
    auto none = io.run(d->discover());
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().kind, ErrorKind::Auth);
    EXPECT_NE(none.error().message.find(file + " does not exist yet; run `sunbridge auth foxess "
                                               "-c <config> --connection fox`"),
              std::string::npos)
        << none.error().message;
  }
  // What `sunbridge auth foxess` leaves behind.
  auto cl = client();
  auto code = sim->issue_code("http://127.0.0.1:9/cb");
  auto t = io.run(cl.exchange_code("fox-app", "fox-app-secret", code, "http://127.0.0.1:9/cb"));
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_TRUE(net::save_token_file(
      file, {"fox-app", t->access_token, t->refresh_token, clock.now() + t->expires_in}));
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  auto d = driver(c);
  auto found = io.run(d->discover());
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 12u);
  const auto& dev = found->front();
  auto snap = io.run(d->poll(dev));
  ASSERT_TRUE(snap) << snap.error().message;
  // Four minutes before the day-long access token runs out the driver refreshes it; the cloud
  // rotates the refresh token and the file follows.
  clock.advance(hours(24) - minutes(4));
  snap = io.run(d->poll(dev));
  ASSERT_TRUE(snap) << snap.error().message;
  auto saved = net::load_token_file(file);
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_NE(saved->refresh_token, t->refresh_token);
  EXPECT_NE(saved->access_token, t->access_token);
  EXPECT_EQ(saved->expires_at, clock.now() + hours(24));
  // The old refresh token is spent: a second gateway with the old file could not refresh.
  auto reuse = io.run(cl.refresh_tokens("fox-app", "fox-app-secret", t->refresh_token));
  EXPECT_FALSE(reuse);
  // A restart reads the rotated tokens and goes on without a refresh.
  auto d2 = driver(c);
  auto again = io.run(d2->discover());
  ASSERT_TRUE(again) << again.error().message;

  // Revoked in the personal center: the next poll fails with the access token's reason, the
  // one after tries to refresh and says to authorize again.
  sim->revoke_all_tokens();
  clock.advance(seconds(30));
  auto revoked = io.run(d->poll(dev));
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().kind, ErrorKind::Auth);
  EXPECT_NE(revoked.error().message.find("the OAuth access token is not valid"), std::string::npos)
      << revoked.error().message;
  clock.advance(seconds(30));
  auto refused = io.run(d->poll(dev));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("the cloud refused the refresh token in " + file),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("run `sunbridge auth foxess"), std::string::npos);

  // Tokens of another app, and a connection with both an API key and OAuth.
  c.options["client_id"] = "other-app";
  auto other = driver(c);
  auto mismatch = io.run(other->discover());
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("belong to app 'fox-app', not 'other-app'"),
            std::string::npos)
      << mismatch.error().message;
  c.options["api_key"] = sim->options().api_key;
  auto both = foxess::registry_entry().factory(c, env);
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("set either api_key or client_id"), std::string::npos);
  c.options.erase("api_key");
  c.options.erase("token_file");
  auto partial = foxess::registry_entry().factory(c, env);
  ASSERT_FALSE(partial);
  EXPECT_NE(partial.error().message.find("token_file is missing"), std::string::npos);
  std::filesystem::remove_all(dir);
}
