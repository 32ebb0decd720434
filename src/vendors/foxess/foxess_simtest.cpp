// The FoxESS client against the simulator over real HTTP: a multi-plant account, real-time
// values that balance, settings written and read back, every authentication failure, the
// rate limits and the daily quota (on a manual clock), transient errno bursts, malformed bodies,
// history and reports that agree with the counters.
#include "vendors/foxess/sim_fixture.hpp"

using namespace sb;
using namespace sb::net;
using namespace std::chrono;
using sb::foxess_test::FoxSim;
using sb::foxess_test::summer_noon;

TEST_F(FoxSim, AMultiPlantAccountIsListedPageByPage) {
  auto c = client();
  auto plants = io.run(c.plants());
  ASSERT_TRUE(plants) << plants.error().message;
  ASSERT_EQ(plants->size(), 3u);
  EXPECT_EQ((*plants)[1].timezone, "Europe/Berlin");
  auto devices = io.run(c.devices());
  ASSERT_TRUE(devices) << devices.error().message;
  ASSERT_EQ(devices->size(), 12u);
  EXPECT_EQ(std::count_if(devices->begin(), devices->end(),
                          [](const foxess::Device& d) { return d.has_battery; }),
            8);
  // Pages of ten: the second page holds the last two.
  auto page2 = io.run(c.call("POST", "/op/v0/device/list", {},
                             boost::json::object{{"currentPage", 2}, {"pageSize", 10}}));
  ASSERT_TRUE(page2);
  EXPECT_EQ(page2->as_object().at("data").as_array().size(), 2u);
  EXPECT_EQ(page2->as_object().at("total").as_int64(), 12);
  auto small = io.run(c.call("POST", "/op/v0/device/list", {},
                             boost::json::object{{"currentPage", 1}, {"pageSize", 5}}));
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(small.error().message.find("errno 40257"), std::string::npos);

  auto detail = io.run(c.plant((*plants)[0].station_id));
  ASSERT_TRUE(detail) << detail.error().message;
  EXPECT_EQ(detail->modules.size(), 4u);
  EXPECT_EQ(detail->city, "Berlin");
  auto dev = io.run(c.device((*devices)[0].sn));
  ASSERT_TRUE(dev) << dev.error().message;
  ASSERT_EQ(dev->batteries.size(), 1u);
  EXPECT_DOUBLE_EQ(dev->batteries[0].capacity_wh, 10000);  // from `capicty`
  EXPECT_TRUE(dev->scheduler);
  auto vars = io.run(c.variables());
  ASSERT_TRUE(vars);
  EXPECT_EQ(vars->size(), 120u);
  EXPECT_EQ(vars->at("ambientTemperation"), "℃");
}

TEST_F(FoxSim, RealTimeValuesAreInKilowattsAndBalance) {
  auto c = client();
  auto devices = io.run(c.devices());
  ASSERT_TRUE(devices);
  std::vector<std::string> sns;
  for (const auto& d : *devices) sns.push_back(d.sn);
  auto rt = io.run(c.real_time(sns, {}));
  ASSERT_TRUE(rt) << rt.error().message;
  ASSERT_EQ(rt->size(), 12u);
  for (const auto& dev : *rt) {
    auto v = values(dev);
    double bat = v.contains("invBatPower") ? v["invBatPower"] : 0;
    double grid = v["gridConsumptionPower"] - v["feedinPower"];
    EXPECT_NEAR(v["pvPower"] + bat + grid, v["loadsPower"], 0.01) << dev.sn;
    EXPECT_GT(v["pvPower"], 0.5) << "summer noon in Germany";
    EXPECT_LT(v["pvPower"], 10);  // kW, not W
    EXPECT_EQ(v["runningState"], 163);
    EXPECT_GT(v["generation"], 1000);  // kWh lifetime
  }
  auto without = values((*rt)[2]);  // the third has no battery
  EXPECT_FALSE(without.contains("SoC"));
  EXPECT_TRUE(values((*rt)[0]).contains("SoC"));
  auto some = io.run(c.real_time({(*devices)[0].sn}, {"SoC", "pvPower"}));
  ASSERT_TRUE(some);
  EXPECT_EQ((*some)[0].data.size(), 2u);
  // Names a device does not report are left out, as the cloud does for public clients that
  // ask for every possible string (pv24Power) or a second battery.
  auto unknown = io.run(c.real_time({(*devices)[0].sn}, {"SoC", "pvPowr", "pv24Power"}));
  ASSERT_TRUE(unknown) << unknown.error().message;
  ASSERT_EQ((*unknown)[0].data.size(), 1u);
  EXPECT_EQ((*unknown)[0].data[0].variable, "SoC");
}

TEST_F(FoxSim, SettingsAreWrittenReadBackAndDriveTheBattery) {
  auto c = client();
  auto sn = io.run(c.devices())->front().sn;
  ASSERT_TRUE(io.run(c.set_min_soc(sn, 20, 30)));
  auto soc = io.run(c.min_soc(sn));
  ASSERT_TRUE(soc);
  EXPECT_EQ(*soc, std::pair(20, 30));
  EXPECT_DOUBLE_EQ(sim->with_site(sn, [](sim::Site* s) { return s->reserve_soc(); }), 30);
  auto bad = io.run(c.set_min_soc(sn, 5, 30));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(bad.error().message.find("within 10..100"), std::string::npos);

  ASSERT_TRUE(io.run(c.set_setting(sn, "ExportLimit", "5000")));
  auto limit = io.run(c.setting(sn, "ExportLimit"));
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->value, "5000");
  EXPECT_EQ(limit->unit, "W");
  EXPECT_EQ(limit->max, 30000);
  ASSERT_TRUE(io.run(c.set_setting(sn, "WorkMode", "Backup")));
  auto mode = io.run(c.setting(sn, "WorkMode"));
  ASSERT_TRUE(mode);
  EXPECT_EQ(mode->value, "Backup");
  EXPECT_EQ(mode->choices,
            (std::vector<std::string>{"SelfUse", "Feedin", "Backup", "PeakShaving"}));
  // Backup holds the battery: no discharge over the next hour.
  double before =
      sim->with_site(sn, [](sim::Site* s) { return s->counters().battery_discharge_wh; });
  clock.advance(hours(1));
  double after =
      sim->with_site(sn, [](sim::Site* s) { return s->counters().battery_discharge_wh; });
  EXPECT_DOUBLE_EQ(after, before);
  auto wrong = io.run(c.set_setting(sn, "WorkMode", "Turbo"));
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("'Turbo' is not supported"), std::string::npos);
}

TEST_F(FoxSim, EveryAuthenticationFailureHasItsErrno) {
  const std::string path = "/op/v0/device/list";
  auto key = sim->options().api_key;
  auto ts = to_ms(clock.now());
  auto headers = [&](std::string token, std::int64_t t, std::string sig) {
    return Headers{
        {"token", token}, {"timestamp", std::to_string(t)}, {"signature", sig}, {"lang", "en"}};
  };
  const std::string body = R"({"currentPage":1,"pageSize":10})";
  EXPECT_EQ(raw_errno(path, headers(key, ts, foxess::sign(path, key, ts)), body), 0);
  // Real CR LF, as the document's prose reads: refused.
  EXPECT_EQ(raw_errno(path, headers(key, ts, foxess::sign(path, key, ts, true)), body), 40256);
  // The query string is not signed; signing it fails.
  EXPECT_EQ(raw_errno(path, headers(key, ts, foxess::sign(path + "?x=1", key, ts)), body), 40256);
  EXPECT_EQ(raw_errno(path, {{"token", key}, {"timestamp", std::to_string(ts)}, {"lang", "en"}}),
            40256);
  auto other = std::string("fox-ffffffffffffffffffffffffffffffff");
  EXPECT_EQ(raw_errno(path, headers(other, ts, foxess::sign(path, other, ts)), body), 41808);
  auto stale = ts - 10 * 60 * 1000;
  EXPECT_EQ(raw_errno(path, headers(key, stale, foxess::sign(path, key, stale)), body), 41809);

  auto wrong = io.run(client(other).devices());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::Auth);
  EXPECT_NE(wrong.error().message.find("API key is not valid"), std::string::npos);
}

TEST_F(FoxSim, PacingAndTheDailyQuotaAreEnforcedAndResetAtMidnightUtc) {
  sim->stop();
  foxess::SimOptions o;
  o.plants = foxess::make_account(1, 1);
  o.daily_calls_per_inverter = 5;
  start(o);
  auto c = client();
  ASSERT_TRUE(io.run(c.devices()));
  // A second query of the same interface within a second: 40400.
  auto again = io.run(c.devices());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::RateLimited);
  clock.advance(milliseconds(1000));
  ASSERT_TRUE(io.run(c.devices()));
  // Writes: one per two seconds per interface.
  auto sn = sim->options().plants[0].inverters[0].sn;
  ASSERT_TRUE(io.run(c.set_setting(sn, "MinSoc", "15")));
  clock.advance(milliseconds(1500));
  EXPECT_EQ(io.run(c.set_setting(sn, "MinSoc", "20")).error().kind, ErrorKind::RateLimited);
  auto count = io.run(c.access_count());
  ASSERT_TRUE(count);
  EXPECT_EQ(count->total, 5);
  EXPECT_EQ(count->remaining, 1);  // 3 calls before it, and this one
  clock.advance(seconds(5));
  auto last = io.run(c.min_soc(sn));
  ASSERT_TRUE(last);
  clock.advance(seconds(5));
  auto gone = io.run(c.min_soc(sn));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::RateLimited);
  EXPECT_EQ(sim->quota().used, 5);
  // The next UTC day starts with the whole quota.
  clock.set(summer_noon() + hours(14) + seconds(1));
  auto next_day = io.run(c.min_soc(sn));
  ASSERT_TRUE(next_day) << next_day.error().message;
  EXPECT_EQ(sim->quota().used, 1);
}

TEST_F(FoxSim, TransientErrnoBurstsHttpErrorsAndCutBodies) {
  auto c = client();
  sim->fail_next(1, 41200);
  sim->fail_next(1, 503);
  sim->fail_next(1, 429);
  auto a = io.run(c.access_count());
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::Transport);
  EXPECT_NE(a.error().message.find("errno 41200"), std::string::npos);
  auto b = io.run(c.access_count());
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::Transport);
  EXPECT_NE(b.error().message.find("HTTP 503"), std::string::npos);
  auto d = io.run(c.access_count());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, ErrorKind::RateLimited);
  EXPECT_TRUE(io.run(c.access_count()));
  sim->set_faults({.malformed_rate = 1.0});
  auto cut = io.run(c.access_count());
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().kind, ErrorKind::Protocol);
  sim->set_faults({});
}

TEST_F(FoxSim, HistoryAndReportsAgreeWithTheCounters) {
  auto c = client();
  auto sn = io.run(c.devices())->front().sn;
  clock.advance(hours(6));
  auto now = clock.now();
  auto h = io.run(c.history(sn, {"pvPower", "SoC"}, now - hours(3), now));
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].points.size(), 37u);  // every 5 minutes for 3 hours, both ends included
  auto too_long = io.run(c.history(sn, {}, now - hours(25), now));
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message.find("at most 24 hours"), std::string::npos);

  auto day = io.run(c.report(sn, "day", 2026, 6, 21, {"generation", "feedin"}));
  ASSERT_TRUE(day) << day.error().message;
  ASSERT_EQ((*day)[0].values.size(), 24u);
  double sum = 0;
  for (double v : (*day)[0].values) sum += v;
  auto gen = io.run(c.generation(sn));
  ASSERT_TRUE(gen);
  EXPECT_NEAR(sum, gen->today_kwh, 0.2);  // hourly values (0.01 kWh) add up to today
  EXPECT_GT(gen->today_kwh, 5);
  EXPECT_GT(gen->month_kwh, gen->today_kwh);
  EXPECT_GT(gen->cumulative_kwh, gen->month_kwh);
  auto month = io.run(c.report(sn, "month", 2026, 6, 0, {"gridConsumption"}));
  ASSERT_TRUE(month);
  EXPECT_EQ((*month)[0].values.size(), 30u);
  auto bad = io.run(c.report(sn, "week", 2026, 6, 0, {"generation"}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("dimension must be year, month or day"), std::string::npos);
}

TEST_F(FoxSim, DriverDiscoversTheAccountAndPollsEveryInverterFromOneBatchCall) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 12u);
  EXPECT_EQ((*found)[0].vendor, "foxess");
  EXPECT_EQ((*found)[0].model, "H3-10.0-E");
  auto before = sim->requests();
  for (const auto& dev : *found) {
    auto snap = io.run(d->poll(dev));
    ASSERT_TRUE(snap) << snap.error().message;
    auto m = metrics(*snap);
    EXPECT_NEAR(m["pv.power"] + m["battery.power"] + m["grid.power"], m["load.power"], 10)
        << dev.id;
    EXPECT_GT(m["pv.power"], 500);            // W now
    EXPECT_GT(m["energy.grid_import"], 1e6);  // Wh
    EXPECT_EQ(m["device.state"], double(DeviceState::Running));
    EXPECT_EQ(m["vendor.foxess.quota_left"] + m["vendor.foxess.quota_used"], 1440 * 12);
  }
  EXPECT_EQ(sim->requests() - before, 1u);  // twelve inverters, one call
  EXPECT_TRUE(d->capabilities((*found)[0]).takes(CommandType::MinSoc));
  EXPECT_FALSE(d->capabilities((*found)[2]).takes(CommandType::MinSoc));  // no battery
}

TEST_F(FoxSim, DriverWritesMinSocAndWorkModeAndReadsThemBack) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  const auto& dev = (*found)[0];
  Command cmd{dev.id, CommandType::MinSoc, 35, {}, "test", ""};
  auto r = io.run(d->apply(dev, cmd));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->verified) << r->detail;
  EXPECT_EQ(r->before, 10);
  EXPECT_EQ(r->after, 35);
  EXPECT_EQ(sim->setting(dev.serial, "MinSocOnGrid"), "35");
  EXPECT_EQ(sim->setting(dev.serial, "MinSoc"), "10");
  Command mode{dev.id, CommandType::BatteryStrategy, 0, {}, "test", "Feedin"};
  auto m = io.run(d->apply(dev, mode));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->verified) << m->detail;
  EXPECT_EQ(sim->setting(dev.serial, "WorkMode"), "Feedin");
  Command bad{dev.id, CommandType::BatteryStrategy, 0, {}, "test", "Turbo"};
  auto b = io.run(d->apply(dev, bad));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::InvalidArgument);
  Command power{dev.id, CommandType::BatteryPower, 1000, {}, "test", ""};
  EXPECT_EQ(io.run(d->apply(dev, power)).error().kind, ErrorKind::NotSupported);
}

TEST_F(FoxSim, DriverWithAWrongKeyFailsDiscoveryAsAnAuthError) {
  auto d = driver(config("fox-not-the-key-000000000000000000000"));
  auto found = io.run(d->discover());
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().kind, ErrorKind::Auth);
  auto none = foxess::registry_entry().factory(
      [&] {
        auto c = config();
        c.options.erase("api_key");
        return c;
      }(),
      env);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("option api_key is required"), std::string::npos);
}

TEST_F(FoxSim, DriverNeverRunsIntoTheLimitsAndRecoversTheNextDay) {
  sim->stop();
  foxess::SimOptions o;
  o.plants = foxess::make_account(1, 1);
  o.daily_calls_per_inverter = 40;  // a tiny budget to use up in a test
  start(o);
  auto c = config();
  c.options["daily_calls"] = "40";
  auto d = driver(c);
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  const auto& dev = (*found)[0];
  // A poll every 10 s for a day: the planner spreads 40 calls, the cloud refuses none.
  int ok = 0, failed = 0;
  for (int i = 0; i < 8640; ++i) {
    auto snap = io.run(d->poll(dev));
    snap ? ++ok : ++failed;
    clock.advance(seconds(10));
  }
  EXPECT_EQ(sim->over_limit(), 0u);
  EXPECT_EQ(failed, 0);
  EXPECT_LE(sim->quota().used, 40);
  EXPECT_GE(sim->requests(), 25u);  // the live share of 40 (and the discovery)
  // The next day the budget is back: fresh data again.
  auto snap = io.run(d->poll(dev));
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_GT(snap->time, clock.now() - minutes(15));
}

TEST_F(FoxSim, DriverHistoryBackfillsAGapInDayLongCalls) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  clock.advance(hours(30));
  auto now = clock.now();
  auto h = io.run(d->history((*found)[0], {now - hours(28), now}));
  ASSERT_TRUE(h) << h.error().message;
  std::size_t soc = 0, pv = 0;
  for (const auto& s : *h) {
    if (s.metric == "battery.soc") ++soc;
    if (s.metric == "pv.power") ++pv;
    EXPECT_EQ(s.quality, Quality::Backfilled);
  }
  EXPECT_EQ(soc, 28u * 12);  // every 5 minutes
  EXPECT_EQ(pv, 28u * 12);
  // The lifetime counters come back with the gap, so its energy is not lost either.
  auto load = std::count_if(h->begin(), h->end(),
                            [](const Sample& s) { return s.metric == metric::kEnergyLoad; });
  EXPECT_EQ(load, 28 * 12);
}

TEST_F(FoxSim, DriverRebuildsCountersFromReportsBeyondWhatHistoryKeeps) {
  auto d = driver(config());
  auto found = io.run(d->discover());
  ASSERT_TRUE(found);
  const auto& dev = (*found)[0];
  // The truth at 12:00 and 15:00 local (10:00 and 13:00 UTC) on 21 June, exact in Wh.
  auto truth = [&] {
    return sim->with_site(dev.serial, [](sim::Site* s) { return s->counters(); });
  };
  auto t0 = clock.now();
  auto c0 = truth();
  clock.advance(hours(3));
  auto c3 = truth();
  // Twelve days later history/query has nothing of that afternoon any more (ten days kept).
  clock.advance(hours(24 * 12));
  auto h = io.run(d->history(dev, {t0, t0 + hours(3) + seconds(1)}));
  ASSERT_TRUE(h) << h.error().message;
  std::map<TimePoint, std::map<std::string, double>> at;
  for (const auto& s : *h) {
    EXPECT_EQ(s.quality, Quality::Backfilled);
    at[s.time][s.metric] = s.value;
  }
  ASSERT_EQ(at.size(), 4u);  // 12:00, 13:00, 14:00, 15:00
  EXPECT_EQ(at.begin()->first, t0);
  EXPECT_EQ(at.rbegin()->first, t0 + hours(3));
  // Anchored on today's counters (0.1 kWh), walked back over twelve days (0.01 kWh each) and
  // forward over the hours (0.01 kWh each): within 0.2 kWh of the truth, and an afternoon's
  // load and export (kWh) show it is the right afternoon.
  for (auto [t, c] : {std::pair{t0, c0}, std::pair{t0 + hours(3), c3}}) {
    EXPECT_NEAR(at[t][std::string(metric::kEnergyLoad)], c.load_wh, 200);
    EXPECT_NEAR(at[t][std::string(metric::kEnergyGridExport)], c.grid_export_wh, 200);
    EXPECT_NEAR(at[t][std::string(metric::kEnergyGridImport)], c.grid_import_wh, 200);
    EXPECT_NEAR(at[t][std::string(metric::kEnergyBatteryCharge)], c.battery_charge_wh, 200);
  }
  EXPECT_GT(c3.load_wh - c0.load_wh, 500);
  EXPECT_NEAR(at[t0 + hours(3)][std::string(metric::kEnergyLoad)] -
                  at[t0][std::string(metric::kEnergyLoad)],
              c3.load_wh - c0.load_wh, 50);
}

// An accelerated simulation (demo --speed 60) runs the site an hour a minute while clients sign
// with the real time: the cloud checks signatures against its wall clock, so the account keeps
// answering (it refused every call with 41809 "expired signature" within 40 s).
TEST(FoxSimAccelerated, SignaturesAreCheckedAgainstTheWallClockNotTheSimulatedOne) {
  TestIo io;
  RealClock wall;
  ScaledClock fast(wall.now(), 100'000);
  foxess::SimOptions o;
  o.plants = foxess::make_account(1, 1, 3);
  o.wall_clock = &wall;
  foxess::Simulator sim(io.executor(), fast, o);
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  HttpClient http(io.executor());
  foxess::Client client(http, {"127.0.0.1", sim.port(), false}, o.api_key, wall,
                        net::kTestRequestTimeout);
  // Wait (on a condition) until simulated time is far past the allowed skew.
  auto deadline = steady_clock::now() + seconds(30);
  while (fast.now() - wall.now() < hours(1) && steady_clock::now() < deadline)
    std::this_thread::yield();
  ASSERT_GE(fast.now() - wall.now(), hours(1));
  auto devices = io.run(client.devices());
  ASSERT_TRUE(devices) << devices.error().message;
  EXPECT_EQ(devices->size(), 1u);
  sim.stop();
}
