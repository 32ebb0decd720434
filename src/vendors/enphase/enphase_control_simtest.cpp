// The Enphase simulator's writes and the figures that follow them: battery settings and storm
// guard steer the simulated battery from the next slot on, EV charging start and stop show in the
// charger's and the site's figures, the live_data stream (and its cut), and the meter and device
// operations agreeing with the site series.
#include "vendors/enphase/sim_fixture.hpp"

namespace {

struct EnphaseControl : EnphaseSim {
  void SetUp() override {
    enphase::SimOptions o;
    o.plan = enphase::Plan::Partner;
    o.access_token_life = hours(24 * 60);  // the tests move the clock by days
    o.live_interval = milliseconds(5);
    start(o);
    id = std::to_string(options.systems[0].id);  // an IQ Battery and an EV charger
  }
  std::string id;
  net::HttpResponse put(std::string target, std::string json_body) {
    return call("PUT", std::move(target), std::move(json_body),
                {{"Authorization", "Bearer " + sim->default_access_token()},
                 {"key", options.api_key},
                 {"Content-Type", "application/json"}});
  }
  net::HttpResponse post(std::string target, std::string json_body = "") {
    return call("POST", std::move(target), std::move(json_body),
                {{"Authorization", "Bearer " + sim->default_access_token()},
                 {"key", options.api_key},
                 {"Content-Type", "application/json"}});
  }
  // The battery's 15-minute intervals from `from` (epoch s) to now.
  json::array battery_since(std::int64_t from) {
    return body(
               get("/api/v4/systems/" + id + "/telemetry/battery?start_at=" + std::to_string(from)))
        .at("intervals")
        .as_array();
  }
  std::int64_t now_s() { return duration_cast<seconds>(clock.now().time_since_epoch()).count(); }
};

}  // namespace

TEST_F(EnphaseControl, BatterySettingsAreReadBackAndSteerTheBatteryFromTheNextSlot) {
  auto path = "/api/v4/systems/config/" + id + "/battery_settings";
  auto before = body(get(path)).as_object();
  EXPECT_EQ(before.at("battery_mode"), "Self-consumption");
  EXPECT_EQ(before.at("reserve_soc").as_int64(), 20);
  EXPECT_EQ(before.at("charge_from_grid"), "disabled");

  // Full Backup with charge from grid: two hours later the battery is full and never discharged.
  auto t0 = now_s();
  auto set = put(path, R"({"battery_mode":"Full Backup","charge_from_grid":"enabled"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(body(set).at("battery_mode"), "Full Backup");
  EXPECT_EQ(body(get(path)).at("charge_from_grid"), "enabled");
  EXPECT_EQ(sim->battery_settings(options.systems[0].id).mode, "Full Backup");
  clock.advance(hours(3));
  auto backup = battery_since(t0);
  ASSERT_EQ(backup.size(), 12u);
  for (const auto& i : backup) EXPECT_EQ(i.at("discharge").at("enwh").as_int64(), 0);
  EXPECT_EQ(backup.back().at("soc").at("percent").as_int64(), 100);

  // Self-consumption with a 60 % reserve, into the night (21:00 to 05:00 in Sacramento): the
  // battery discharges and stops at the reserve.
  ASSERT_EQ(
      put(path,
          R"({"battery_mode":"Self-consumption","reserve_soc":60,"charge_from_grid":"disabled"})")
          .status,
      200);
  clock.set(time_point_cast<Millis>(sys_days(2026y / 6 / 16) + hours(4)));
  auto night_start = now_s();
  clock.advance(hours(8));
  auto night = battery_since(night_start);
  std::int64_t discharged = 0;
  for (const auto& i : night) {
    discharged += i.at("discharge").at("enwh").as_int64();
    EXPECT_GE(i.at("soc").at("percent").as_int64(), 60);
  }
  EXPECT_GT(discharged, 1'000);
  EXPECT_EQ(night.back().at("soc").at("percent").as_int64(), 60);

  // Refusals name the field; the system without a battery says so (one letter apart, as the
  // document has it).
  EXPECT_EQ(body(put(path, R"({"battery_mode":"savings"})")).at("details"),
            "Invalid request because of 'battery_mode must be one of Savings Mode, Full Backup, "
            "Self-consumption'");
  EXPECT_EQ(put(path, R"({"reserve_soc":5})").status, 422);
  EXPECT_EQ(put(path, R"({"colour":"red"})").status, 422);
  auto bare = "/api/v4/systems/config/" + std::to_string(options.systems[1].id);
  EXPECT_EQ(body(get(bare + "/battery_settings")).at("details"), "System doesn't have encharges");
  EXPECT_EQ(body(put(bare + "/battery_settings", R"({"reserve_soc":30})")).at("details"),
            "System doesn't have encharge");
  EXPECT_EQ(body(get(path)).at("reserve_soc").as_int64(), 60);  // nothing refused was applied
}

TEST_F(EnphaseControl, StormGuardHoldsTheBatteryDuringAnAlert) {
  auto path = "/api/v4/systems/config/" + id + "/storm_guard";
  EXPECT_EQ(body(get(path)).at("storm_guard_status"), "disabled");
  auto on = put(path, R"({"storm_guard_status":"enabled"})");
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(body(on).at("storm_guard_status"), "Enabled (Inactive)");  // display words
  EXPECT_EQ(body(get(path)).at("storm_guard_status"), "enabled");
  EXPECT_EQ(put(path, R"({"storm_guard_status":"on"})").status, 422);
  EXPECT_EQ(put(path, "{}").status, 422);

  // The evening (20:00 in Sacramento): an alert holds the battery, its end lets it discharge.
  clock.set(time_point_cast<Millis>(sys_days(2026y / 6 / 16) + hours(3)));
  sim->set_storm_alert(options.systems[0].id, true);
  EXPECT_EQ(body(get(path)).at("storm_alert"), "true");
  auto alert_start = now_s();
  clock.advance(hours(1));
  for (const auto& i : battery_since(alert_start))
    EXPECT_EQ(i.at("discharge").at("enwh").as_int64(), 0);
  sim->set_storm_alert(options.systems[0].id, false);
  auto calm = now_s();
  clock.advance(hours(1));
  std::int64_t discharged = 0;
  for (const auto& i : battery_since(calm)) discharged += i.at("discharge").at("enwh").as_int64();
  EXPECT_GT(discharged, 100);
}

TEST_F(EnphaseControl, LoadControlIsReadAndWrittenPerDryContact) {
  auto path = "/api/v4/systems/config/" + id + "/load_control";
  auto list = body(get(path)).at("load_control_data").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("name"), "NC1");
  auto set = put(path, R"({"name":"NC1","mode":"Advanced_BatteryPowered","soc_low":40})");
  ASSERT_EQ(set.status, 200) << set.body;
  auto nc1 = body(get(path)).at("load_control_data").as_array()[0];
  EXPECT_EQ(nc1.at("mode"), "Advanced_BatteryPowered");
  EXPECT_EQ(nc1.at("soc_low").as_int64(), 40);
  EXPECT_EQ(body(put(path, R"({"name":"NC2","mode":"Advanced_BatteryPowered"})")).at("details"),
            "soc_low is mandatory for Advanced_BatteryPowered mode");
  EXPECT_EQ(put(path, R"({"name":"NC1","soc_low":95})").status, 422);
  EXPECT_EQ(put(path, R"({"name":"NC9","mode":"Basic"})").status, 422);
  EXPECT_EQ(put(path, R"({"mode":"Basic"})").status, 422);
  auto grid = body(get("/api/v4/systems/config/" + id + "/grid_status")).as_object();
  EXPECT_EQ(grid.at("grid_state"), "On Grid");
  sim->raise_event(options.systems[0].id, 1101, "", clock.now() - minutes(10), std::nullopt);
  EXPECT_EQ(body(get("/api/v4/systems/config/" + id + "/grid_status")).at("grid_state"),
            "Off Grid");
}

TEST_F(EnphaseControl, EvChargingStartsAndStopsAndEveryFigureCountsIt) {
  auto sys = options.systems[0].id;
  auto devices = body(get("/api/v4/systems/" + id + "/ev_charger/devices"));
  auto charger = std::string(
      devices.at("devices").at("ev_chargers").as_array()[0].at("serial_number").as_string());
  auto ev = "/api/v4/systems/" + id + "/ev_charger/" + charger;
  EXPECT_EQ(sim->ev_power_now(sys), 0);  // 11:00: no seeded session
  auto t0 = now_s();
  auto started = post(ev + "/start_charging", R"({"connectorId":"1","chargingLevel":"50"})");
  ASSERT_EQ(started.status, 202) << started.body;
  EXPECT_EQ(started.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(body(started).at("message"), "Request sent successfully");
  clock.advance(minutes(5));
  EXPECT_DOUBLE_EQ(sim->ev_power_now(sys), 32 * 240 * 0.5);
  clock.advance(minutes(55));
  ASSERT_EQ(post(ev + "/stop_charging").status, 202);
  clock.advance(minutes(30));
  EXPECT_EQ(sim->ev_power_now(sys), 0);

  // The charger's 15-minute telemetry holds the hour's 3.84 kWh, and the site's consumption
  // holds the charger's energy in every interval.
  auto telemetry = body(get(ev + "/telemetry?start_at=" + std::to_string(t0))).as_object();
  std::int64_t wh = 0;
  for (const auto& i : telemetry.at("consumption").as_array()) wh += i.at("consumption").as_int64();
  EXPECT_NEAR(wh, 3'840, 40);
  auto load = body(get("/api/v4/systems/" + id +
                       "/telemetry/consumption_meter?start_at=" + std::to_string(t0)))
                  .at("intervals")
                  .as_array();
  auto charged = telemetry.at("consumption").as_array();
  ASSERT_EQ(load.size(), charged.size());
  for (std::size_t i = 0; i < load.size(); ++i)
    EXPECT_GE(load[i].at("enwh").as_int64() + 1, charged[i].at("consumption").as_int64());
  // The newest session is this one; the events name it.
  auto sessions = body(get(ev + "/sessions?limit=2")).as_object();
  ASSERT_GE(sessions.at("count").as_int64(), 1);
  auto last = sessions.at("sessions").as_array()[0].as_object();
  EXPECT_NEAR(last.at("start_time").as_int64(), t0, 300);
  EXPECT_NEAR(last.at("energy_added").to_number<double>(), 3'840, 40);
  EXPECT_EQ(last.at("duration").as_int64(), 3'600);
  auto events = body(get("/api/v4/systems/" + id + "/ev_charger/events?limit=2")).as_object();
  EXPECT_NE(std::string(events.at("events").as_array()[0].at("details").as_string())
                .find("Charging stopped"),
            std::string::npos);
  // The seeded evening sessions fill the daily series: a day's value is its telemetry's sum.
  auto daily = body(get(ev + "/lifetime?start_date=20260601&end_date=20260614")).as_object();
  EXPECT_EQ(daily.at("start_date"), "2026-06-01");
  auto days = daily.at("consumption").as_object();
  ASSERT_EQ(days.size(), 14u);
  std::int64_t june10 = 0;
  auto june10_telemetry = body(get(ev + "/telemetry?start_date=20260610"));
  for (const auto& i : june10_telemetry.at("consumption").as_array())
    june10 += i.at("consumption").as_int64();
  EXPECT_NEAR(days.at("2026-06-10").as_int64(), june10, 50);
  EXPECT_GT(days.at("2026-06-10").as_int64() + days.at("2026-06-11").as_int64(), 15'000);

  // Refusals: E5 lists, octet-stream.
  auto bad = post(ev + "/start_charging", R"({"connectorId":"1","chargingLevel":"140"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(
      bad.body,
      R"({"message":"Bad request","code":"400","details":["Charging level should be in the range [0-100]"]})");
  EXPECT_EQ(post(ev + "/start_charging", R"({"connectorId":"0"})").status, 400);
  EXPECT_EQ(post("/api/v4/systems/" + id + "/ev_charger/1/stop_charging").status, 400);
  EXPECT_EQ(get(ev + "/lifetime?start_date=2026-06-01").status, 400);
  EXPECT_EQ(get(ev + "/sessions?limit=0").status, 400);
}

TEST_F(EnphaseControl, LiveDataStreamsBalancedMessagesForItsDurationAndCanBeCut) {
  auto live = [&](std::string duration) {
    net::Headers h{{"Authorization", "Bearer " + sim->default_access_token()},
                   {"key", options.api_key}};
    if (!duration.empty()) h.emplace_back("duration", duration);
    net::HttpRequest r{"GET", "/api/v4/systems/" + id + "/live_data", h, ""};
    return io.run(http.request({"127.0.0.1", sim->port(), false}, r));
  };
  auto res = live("");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->header("Content-Type"), "text/event-stream");
  int messages = 0;
  for (std::size_t at = 0; (at = res->body.find("data: ", at)) != std::string::npos; ++messages) {
    auto end = res->body.find("\n\n", at);
    ASSERT_NE(end, std::string::npos);
    auto m = json::parse(res->body.substr(at + 6, end - at - 6)).at("data").as_object();
    // grid = consumption - pv - battery (battery + while discharging), to rounding.
    EXPECT_NEAR(m.at("grid_power").as_int64(),
                m.at("consumption_power").as_int64() - m.at("pv_power").as_int64() -
                    m.at("battery_power").as_int64(),
                3);
    EXPECT_GT(m.at("pv_power").as_int64(), 1'000);  // 11:00 in June
    EXPECT_EQ(m.at("battery_mode"), "Self-consumption");
    at = end;
  }
  EXPECT_EQ(messages, 30);  // one a (simulated) second of the default 30
  auto sixty = live("60");
  ASSERT_TRUE(sixty);
  EXPECT_EQ(std::count(sixty->body.begin(), sixty->body.end(), '\n'), 120);

  // A cut in the third message: the client sees a broken response, not a clean end.
  sim->cut_next_stream(3);
  EXPECT_FALSE(live("30"));
  EXPECT_TRUE(live("30"));  // the cut was for one stream

  // The stream's own refusals (E7).
  auto short_one = live("10");
  ASSERT_TRUE(short_one);
  EXPECT_EQ(short_one->status, 461);
  EXPECT_EQ(body(*short_one).at("error").at("status"), "INVALID_DURATION");
  EXPECT_EQ(live("thirty")->status, 463);
  EXPECT_EQ(live("901")->status, 462);
  sim->raise_event(options.systems[0].id, 28, "", clock.now() - hours(1), std::nullopt);
  auto silent = live("");
  EXPECT_EQ(silent->status, 473);
  EXPECT_EQ(body(*silent).at("type"), "site_connectivity_error");
  // RGM stats of the hours the gateway missed are "temporarily unavailable".
  auto rgm = get("/api/v4/systems/" + id + "/rgm_stats");
  EXPECT_EQ(rgm.status, 500);
  EXPECT_EQ(rgm.body, R"({"errorCode":7,"errorMessages":["Data is temporarily unavailable"]})");
}

TEST_F(EnphaseControl, MeterAndDeviceFiguresAgreeWithTheSiteSeries) {
  auto sys = "/api/v4/systems/" + id;
  auto summary = body(get(sys + "/summary")).as_object();
  auto readings = body(get(sys + "/production_meter_readings")).at("meter_readings").as_array();
  ASSERT_EQ(readings.size(), 1u);
  // The register is read on the last quarter hour: the summary's lifetime, less up to 15 minutes.
  EXPECT_LE(readings[0].at("value").as_int64(), summary.at("energy_lifetime").as_int64() + 1'000);
  EXPECT_GE(readings[0].at("value").as_int64(), summary.at("energy_lifetime").as_int64() - 2'000);
  EXPECT_EQ(readings[0].at("read_at").as_int64() % 900, 0);
  EXPECT_EQ(get(sys + "/production_meter_readings?end_at=yesterday").status, 422);

  // RGM stats of a day: the production meter telemetry's intervals.
  auto rgm = body(get(sys + "/rgm_stats?start_at=" + std::to_string(now_s() - 86'400 * 5) +
                      "&end_at=" + std::to_string(now_s() - 86'400 * 4)))
                 .as_object();
  ASSERT_EQ(rgm.at("intervals").as_array().size(), 96u);
  auto meter_channel = rgm.at("meter_intervals").as_array()[0].at("intervals").as_array();
  EXPECT_EQ(meter_channel[40].at("curr_w").as_int64(),
            meter_channel[40].at("wh_del").as_int64() * 4);
  EXPECT_EQ(get(sys + "/rgm_stats?start_at=" + std::to_string(now_s() - 3'600) +
                "&end_at=" + std::to_string(now_s() - 7'200))
                .status,
            422);

  // One microinverter's share times their number is the site's production; the only battery's
  // telemetry is the site's battery telemetry.
  auto devices = body(get(sys + "/devices")).at("devices").as_object();
  auto micro = std::string(devices.at("micros").as_array()[0].at("serial_number").as_string());
  auto one = body(get(sys + "/devices/micros/" + micro + "/telemetry?start_date=2026-06-10"))
                 .at("intervals")
                 .as_array();
  auto site = body(get(sys + "/telemetry/production_micro?start_date=2026-06-10"))
                  .at("intervals")
                  .as_array();
  ASSERT_EQ(one.size(), site.size());
  std::int64_t share = 0, all = 0;
  for (std::size_t i = 0; i < one.size(); ++i)
    share += one[i].at("enwh").as_int64(), all += site[i].at("enwh").as_int64();
  EXPECT_NEAR(share * options.systems[0].micros, all, 300);
  EXPECT_EQ(body(get(sys + "/devices/micros/1/telemetry")).at("details"),
            "Micro not found for {:id=>\"1\"}");
  auto battery = std::string(devices.at("encharges").as_array()[0].at("serial_number").as_string());
  auto enc = body(get(sys + "/devices/encharges/" + battery + "/telemetry?start_date=2026-06-10"))
                 .as_object();
  auto site_battery = body(get(sys + "/telemetry/battery?start_date=2026-06-10")).as_object();
  EXPECT_EQ(enc.at("intervals").as_array()[50].at("charge"),
            json::value(json::object{
                {"enwh", site_battery.at("intervals").as_array()[50].at("charge").at("enwh")}}));
  EXPECT_TRUE(std::string(enc.at("last_reported_soc").as_string()).ends_with("%"));
  EXPECT_EQ(body(get(sys + "/devices/acbs/" + battery + "/telemetry")).at("details"),
            json::value("ACB not found for {:id=>\"" + battery + "\"}"));
}
