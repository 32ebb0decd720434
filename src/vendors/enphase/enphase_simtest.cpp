// The Enphase cloud simulator as a client sees it over real HTTP: OAuth (authorization code with
// Basic client auth, single-use codes, rotating refresh tokens, the password grant), the API key
// in either form, the plans' minute and month limits with the seed's 429 bodies, and the System
// Details operations. Every body is also checked against the OpenAPI document by the
// conformance test (tests/conformance).
#include "vendors/enphase/sim_fixture.hpp"

TEST_F(EnphaseSim, BothCredentialsAreNeededAndEachFailureSaysWhich) {
  auto& sys = options.systems[0];
  auto path = "/api/v4/systems/" + std::to_string(sys.id);
  EXPECT_EQ(get(path).status, 200);
  // The key as a query parameter works as well as the header.
  auto q = call("GET", path + "?key=" + options.api_key, {},
                {{"Authorization", "Bearer " + sim->default_access_token()}});
  EXPECT_EQ(q.status, 200) << q.body;
  auto no_key = call("GET", path, {}, {{"Authorization", "Bearer " + sim->default_access_token()}});
  EXPECT_EQ(no_key.status, 401);
  EXPECT_EQ(no_key.body,
            R"({"message":"Not Authorized","details":"API key is missing","code":401})");
  auto bad_key = call("GET", path, {},
                      {{"Authorization", "Bearer " + sim->default_access_token()}, {"key", "x"}});
  EXPECT_EQ(body(bad_key).at("details"), "API Key is invalid");
  auto no_token = call("GET", path, {}, {{"key", options.api_key}});
  EXPECT_EQ(no_token.body,
            R"({"message":"Not Authorized","details":"User is not authorized","code":401})");
  EXPECT_EQ(get("/api/v4/systems/1").status, 404);
  EXPECT_EQ(body(get("/api/v4/systems/1")).at("details"), "System not found for {:id=>\"1\"}");
  auto wrong_method = call("DELETE", path, {}, {});
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.body, R"({"message":["Method not allowed"],"reason":"405"})");
  // A day later the access token has expired.
  clock.advance(hours(24));
  EXPECT_EQ(get(path).status, 401);
}

TEST_F(EnphaseSim, AuthorizationCodeOnceThenRefreshTokensRotate) {
  auto authorize =
      call("GET", "/oauth/authorize?response_type=code&client_id=" + options.client_id +
                      "&redirect_uri=http://127.0.0.1:9/cb&state=xyz");
  ASSERT_EQ(authorize.status, 302);
  auto location = std::string(authorize.header("Location"));
  ASSERT_TRUE(location.starts_with("http://127.0.0.1:9/cb?code=")) << location;
  EXPECT_NE(location.find("&state=xyz"), std::string::npos);
  auto code =
      location.substr(location.find("code=") + 5, location.find('&') - location.find("code=") - 5);
  auto first =
      token("grant_type=authorization_code&redirect_uri=http://127.0.0.1:9/cb&code=" + code);
  ASSERT_EQ(first.status, 200) << first.body;
  auto t = body(first).as_object();
  EXPECT_EQ(t.at("token_type"), "bearer");
  EXPECT_EQ(t.at("expires_in").as_int64(), 86'399);
  EXPECT_EQ(t.at("scope"), "read write");
  auto access = std::string(t.at("access_token").as_string());
  EXPECT_EQ(std::count(access.begin(), access.end(), '.'), 2);  // a JWT
  EXPECT_EQ(get("/api/v4/systems", access).status, 200);
  auto again =
      token("grant_type=authorization_code&redirect_uri=http://127.0.0.1:9/cb&code=" + code);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(body(again).at("error"), "invalid_grant");  // single use
  auto refresh = std::string(t.at("refresh_token").as_string());
  auto next = token("grant_type=refresh_token&refresh_token=" + refresh);
  ASSERT_EQ(next.status, 200);
  EXPECT_NE(body(next).at("refresh_token").as_string(), refresh);                     // rotated
  EXPECT_EQ(token("grant_type=refresh_token&refresh_token=" + refresh).status, 400);  // spent
  auto no_client = call("POST", "/oauth/token?grant_type=refresh_token&refresh_token=x");
  EXPECT_EQ(no_client.status, 401);
  EXPECT_EQ(body(no_client).at("error"), "invalid_client");
  EXPECT_EQ(body(token("grant_type=password&username=owner@example.org&password=owner-password"))
                .at("error"),
            "unauthorized_client");  // not a partner app
  enphase::SimOptions partner;
  partner.partner_app = true;
  start(partner);
  auto pw = token("grant_type=password&username=owner@example.org&password=owner-password");
  EXPECT_EQ(pw.status, 200) << pw.body;
  EXPECT_EQ(body(token("grant_type=password&username=owner@example.org&password=nope")).at("error"),
            "invalid_grant");
  sim->revoke_all_tokens();
  EXPECT_EQ(get("/api/v4/systems").status, 401);
}

TEST_F(EnphaseSim, EachPlanHasItsMinuteAndMonthLimitsWithTheSeeds429Bodies) {
  auto id = std::to_string(options.systems[0].id);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(get("/api/v4/systems/" + id + "/summary").status, 200);
  auto refused = get("/api/v4/systems/" + id + "/summary");
  ASSERT_EQ(refused.status, 429);
  auto o = body(refused).as_object();
  EXPECT_EQ(o.at("details"), "Usage limit exceeded for plan Watt");
  EXPECT_EQ(o.at("limit").as_int64(), 10);
  EXPECT_EQ(o.at("period"), "minute");
  EXPECT_EQ(o.at("period_end").as_int64() - o.at("period_start").as_int64(), 60);
  // listSystems declares the plain body (E1).
  EXPECT_EQ(
      get("/api/v4/systems").body,
      R"({"message":"Too Many Requests","details":"Usage limit exceeded for plan Watt","code":429})");
  clock.advance(minutes(1));
  EXPECT_EQ(get("/api/v4/systems").status, 200);
  EXPECT_EQ(sim->usage().second, 11);  // refused calls are not counted
  // The month: 1,000 calls on Watt. The rest of it in minutes of ten.
  for (int m = 0; sim->usage().second < 1000; ++m) {
    clock.advance(minutes(1));
    for (int i = 0; i < 10 && sim->usage().second < 1000; ++i)
      ASSERT_EQ(get("/api/v4/systems").status, 200);
  }
  clock.advance(minutes(1));
  auto month = body(get("/api/v4/systems/" + id + "/summary")).as_object();
  EXPECT_EQ(month.at("period"), "month");
  EXPECT_EQ(month.at("limit").as_int64(), 1000);
  EXPECT_EQ(month.at("period_end").as_int64(),
            duration_cast<seconds>((sys_days(2026y / 7 / 1)).time_since_epoch()).count());
  sim->set_plan(enphase::Plan::Kilowatt);
  EXPECT_EQ(get("/api/v4/systems").status, 200);
  for (auto [plan, minute, monthly] : {std::tuple{enphase::Plan::Watt, 10, 1000},
                                       {enphase::Plan::Kilowatt, 50, 50'000},
                                       {enphase::Plan::Megawatt, 100, 300'000},
                                       {enphase::Plan::Partner, 300, 1'500'000}}) {
    EXPECT_EQ(enphase::plan_limits(plan).per_minute, minute);
    EXPECT_EQ(enphase::plan_limits(plan).per_month, monthly);
  }
}

TEST_F(EnphaseSim, SystemsAreListedSearchedAndDescribedConsistently) {
  enphase::SimOptions o;
  o.plan = enphase::Plan::Partner;
  o.systems = enphase::make_fleet(5, 3);
  o.systems[4].owner = "someone-else";
  start(o);
  auto list = body(get("/api/v4/systems?size=2&page=2&sort_by=-id")).as_object();
  EXPECT_EQ(list.at("total").as_int64(), 4);  // not the other user's
  EXPECT_EQ(list.at("count").as_int64(), 2);
  EXPECT_EQ(list.at("items"), "systems");
  auto rows = list.at("systems").as_array();
  EXPECT_EQ(rows[0].at("system_id").as_int64(), o.systems[1].id);
  EXPECT_EQ(rows[0].at("energy_lifetime").as_int64(), -1);
  EXPECT_EQ(get("/api/v4/systems?sort_by=name").status, 422);
  EXPECT_EQ(get("/api/v4/systems?size=101").status, 422);
  EXPECT_EQ(get("/api/v4/systems/" + std::to_string(o.systems[4].id)).status, 403);

  auto search = [&](std::string b) {
    return call("POST", "/api/v4/systems/search", std::move(b),
                {{"Authorization", "Bearer " + sim->default_access_token()},
                 {"key", options.api_key},
                 {"Content-Type", "application/json"}});
  };
  auto found = body(search(R"({"system":{"ids":[)" + std::to_string(o.systems[2].id) + "]}}"));
  EXPECT_EQ(found.at("count").as_int64(), 1);
  EXPECT_FALSE(
      found.at("systems").as_array()[0].as_object().at("address").as_object().contains("city"));
  EXPECT_EQ(body(search(R"({"sort_by":"id"})")).at("details"),
            "system is missing at Json body location");
  EXPECT_EQ(search(R"({"system":{"colour":"red"}})").status, 422);
  EXPECT_EQ(body(search(R"({"system":{"name":"Amsterdam"}})")).at("count").as_int64(), 1);

  auto id = std::to_string(o.systems[0].id);
  auto summary = body(get("/api/v4/systems/" + id + "/summary")).as_object();
  EXPECT_EQ(summary.at("modules").as_int64(), o.systems[0].micros);
  EXPECT_EQ(summary.at("size_w").as_int64(), 400 * o.systems[0].micros);
  EXPECT_GT(summary.at("energy_lifetime").as_int64(), 1'000'000);
  auto devices = body(get("/api/v4/systems/" + id + "/devices")).as_object();
  auto& d = devices.at("devices").as_object();
  EXPECT_EQ(d.at("micros").as_array().size(), static_cast<std::size_t>(o.systems[0].micros));
  EXPECT_TRUE(d.contains("ev_chargers"));
  EXPECT_TRUE(d.contains("encharges"));
  EXPECT_EQ(devices.at("total_devices").as_int64(), o.systems[0].micros + 3 + 2 + 1);
  EXPECT_EQ(body(get("/api/v4/systems/retrieve_system_id?serial_num=" + o.systems[0].envoy_serial))
                .at("system_id")
                .as_int64(),
            o.systems[0].id);
  EXPECT_EQ(body(get("/api/v4/systems/retrieve_system_id")).at("details"),
            "Provide envoy serial number");
  EXPECT_EQ(get("/api/v4/systems/retrieve_system_id?serial_num=0").status, 404);
  auto micros =
      body(get("/api/v4/systems/inverters_summary_by_envoy_or_site?site_id=" + id + "&size=3"))
          .as_array();
  ASSERT_EQ(micros.size(), 1u);
  EXPECT_EQ(micros[0].at("micro_inverters").as_array().size(), 3u);
  EXPECT_EQ(body(get("/api/v4/systems/inverters_summary_by_envoy_or_site")).at("details"),
            "Envoy serial number or Site id mandatory");
}

// The lifetime series, the summary and each day's balance come from one history: they agree.
TEST_F(EnphaseSim, LifetimeSeriesAgreeWithTheSummaryAndBalanceEachDay) {
  enphase::SimOptions o;
  o.plan = enphase::Plan::Partner;
  start(o);
  const auto& s = options.systems[0];  // with a battery
  auto id = std::to_string(s.id);
  auto series = [&](const std::string& path, const std::string& query = "") {
    return body(get("/api/v4/systems/" + id + "/" + path + query)).as_object();
  };
  auto production = series("energy_lifetime");
  auto days = production.at("production").as_array();
  EXPECT_EQ(days.size(), static_cast<std::size_t>(s.operational_days));  // to yesterday
  std::int64_t sum = 0;
  for (const auto& d : days) sum += d.as_int64();
  auto today = series("energy_lifetime", "?start_date=2026-06-15&end_date=2026-06-15");
  ASSERT_EQ(today.at("production").as_array().size(), 1u);
  sum += today.at("production").as_array()[0].as_int64();
  auto summary = body(get("/api/v4/systems/" + id + "/summary")).as_object();
  EXPECT_NEAR(summary.at("energy_lifetime").as_int64(), sum, days.size());  // rounding per day
  EXPECT_EQ(summary.at("energy_today").as_int64(), today.at("production").as_array()[0].as_int64());
  EXPECT_GT(summary.at("energy_today").as_int64(), 3'000);  // 11:00 of a June day in Sacramento

  // A week: production + import + discharge = consumption + export + charge, day by day.
  std::string week = "?start_date=2026-06-01&end_date=2026-06-07";
  auto pv = series("energy_lifetime", week).at("production").as_array();
  auto load = series("consumption_lifetime", week).at("consumption").as_array();
  auto bat = series("battery_lifetime", week);
  auto imp = series("energy_import_lifetime", week).at("import").as_array();
  auto exp = series("energy_export_lifetime", week).at("export").as_array();
  ASSERT_EQ(pv.size(), 7u);
  for (std::size_t i = 0; i < 7; ++i) {
    double in = pv[i].as_int64() + imp[i].as_int64() + bat.at("discharge").as_array()[i].as_int64();
    double out = load[i].as_int64() + exp[i].as_int64() + bat.at("charge").as_array()[i].as_int64();
    EXPECT_NEAR(in, out, 3) << "day " << i;
    EXPECT_GT(bat.at("charge").as_array()[i].as_int64(), 0);
  }
  auto all = series("energy_lifetime", week + "&production=all");
  EXPECT_EQ(all.at("meter_production").as_array().size(), 7u);
  EXPECT_GT(all.at("micro_production").as_array()[0].as_int64(), pv[0].as_int64());
  // Date rules.
  EXPECT_EQ(body(get("/api/v4/systems/" + id + "/consumption_lifetime?end_date=2026-06-20"))
                .at("details"),
            "Requested date is in the future");
  EXPECT_EQ(get("/api/v4/systems/" + id + "/energy_lifetime?start_date=2026-6-1").status, 422);
  EXPECT_EQ(body(get("/api/v4/systems/" + id +
                     "/energy_lifetime?start_date=2026-06-07&end_date=2026-06-01"))
                .at("details"),
            "Requested date range is invalid for this system");
  auto clamped = series("energy_lifetime", "?start_date=2000-01-01");
  EXPECT_EQ(clamped.at("production").as_array().size(), days.size());  // from the operational day
  EXPECT_EQ(clamped.at("meta").at("operational_at").as_int64(),
            summary.at("operational_at").as_int64());
  // A system without battery has no battery energy.
  auto bare = std::to_string(options.systems[1].id);
  auto none = body(get("/api/v4/systems/" + bare + "/battery_lifetime" + week)).as_object();
  for (const auto& v : none.at("charge").as_array()) EXPECT_EQ(v.as_int64(), 0);
}

// Telemetry reads the same slots as the lifetime series: a day's intervals sum to its value.
TEST_F(EnphaseSim, TelemetryIntervalsFollowTheGranularityRulesAndSumToTheDay) {
  enphase::SimOptions o;
  o.plan = enphase::Plan::Partner;
  start(o);
  auto id = std::to_string(options.systems[0].id);
  auto t = [&](const std::string& kind, const std::string& query) {
    return body(get("/api/v4/systems/" + id + "/telemetry/" + kind + query)).as_object();
  };
  auto lifetime = [&](const std::string& path, const char* key) {
    return body(get("/api/v4/systems/" + id + "/" + path +
                    "?start_date=2026-06-10&end_date=2026-06-10"))
        .at(key)
        .as_array()[0]
        .as_int64();
  };
  auto micro = t("production_micro", "?start_date=2026-06-10");
  EXPECT_EQ(micro.at("start_date"), "2026-06-10");  // echoed as it was asked
  EXPECT_FALSE(micro.contains("start_at"));
  auto list = micro.at("intervals").as_array();
  ASSERT_EQ(list.size(), 288u);
  std::int64_t pv = 0;
  for (const auto& i : list) pv += i.at("enwh").as_int64();
  EXPECT_NEAR(pv, lifetime("energy_lifetime", "production"), 150);  // rounding per interval
  auto meter = t("production_meter", "?start_date=2026-06-10").at("intervals").as_array();
  ASSERT_EQ(meter.size(), 96u);
  EXPECT_EQ(meter[1].at("end_at").as_int64() - meter[0].at("end_at").as_int64(), 900);
  auto load = t("consumption_meter", "?start_date=2026-06-10").at("intervals").as_array();
  std::int64_t consumed = 0;
  for (const auto& i : load) consumed += i.at("enwh").as_int64();
  EXPECT_NEAR(consumed, lifetime("consumption_lifetime", "consumption"), 50);
  auto battery = t("battery", "?start_date=2026-06-10");
  std::int64_t charged = 0;
  for (const auto& i : battery.at("intervals").as_array())
    charged += i.at("charge").at("enwh").as_int64();
  EXPECT_NEAR(charged, lifetime("battery_lifetime", "charge"), 50);
  EXPECT_TRUE(std::string(battery.at("last_reported_aggregate_soc").as_string()).ends_with("%"));
  // 15mins: one meter interval, three of the microinverters; week: 672 meter intervals.
  auto start_at = t("production_micro", "?start_date=2026-06-10")
                      .at("intervals")
                      .as_array()[0]
                      .at("end_at")
                      .as_int64() -
                  300;
  EXPECT_EQ(t("production_micro", "?granularity=15mins&start_at=" + std::to_string(start_at))
                .at("intervals")
                .as_array()
                .size(),
            3u);
  EXPECT_EQ(t("production_meter", "?granularity=15mins&start_at=" + std::to_string(start_at))
                .at("intervals")
                .as_array()
                .size(),
            1u);
  EXPECT_EQ(
      t("battery", "?granularity=week&start_date=2026-06-01").at("intervals").as_array().size(),
      672u);
  // Today: up to now (18:00 UTC), with start_at in the answer.
  auto today = t("production_meter", "");
  EXPECT_TRUE(today.contains("start_at"));
  EXPECT_EQ(today.at("end_at").as_int64(),
            duration_cast<seconds>(clock.now().time_since_epoch()).count());
  EXPECT_EQ(get("/api/v4/systems/" + id + "/telemetry/battery?granularity=hour").status, 422);
  EXPECT_EQ(get("/api/v4/systems/" + id + "/telemetry/battery?start_date=2026-07-01").status, 422);
  EXPECT_EQ(get("/api/v4/systems/" + id + "/telemetry/battery?start_date=2020-01-01").status, 422);
}

TEST_F(EnphaseSim, ImportExportTelemetryAndTheLatestPowersAgreeWithTheSlots) {
  enphase::SimOptions o;
  o.plan = enphase::Plan::Partner;
  start(o);
  auto id = std::to_string(options.systems[0].id);
  auto day = [&](const std::string& path, const char* key) {
    return body(get("/api/v4/systems/" + id + "/" + path +
                    "?start_date=2026-06-10&end_date=2026-06-10"))
        .at(key)
        .as_array()[0]
        .as_int64();
  };
  for (auto [path, field, lifetime, key] :
       {std::tuple{"energy_import_telemetry", "wh_imported", "energy_import_lifetime", "import"},
        {"energy_export_telemetry", "wh_exported", "energy_export_lifetime", "export"}}) {
    auto t = body(get("/api/v4/systems/" + id + "/" + path + "?start_date=2026-06-10")).as_object();
    EXPECT_EQ(t.at("total_devices").as_int64(), 0);
    auto groups = t.at("intervals").as_array();
    ASSERT_EQ(groups.size(), 1u);
    ASSERT_EQ(groups[0].as_array().size(), 96u);
    std::int64_t sum = 0;
    for (const auto& i : groups[0].as_array()) sum += i.at(field).as_int64();
    EXPECT_NEAR(sum, day(lifetime, key), 50) << path;
  }
  auto latest = body(get("/api/v4/systems/" + id + "/latest_telemetry")).as_object();
  auto meters = latest.at("devices").at("meters").as_array();
  ASSERT_EQ(meters.size(), 6u);
  EXPECT_EQ(meters[0].at("name"), "production");
  EXPECT_GT(meters[0].at("power").as_int64(), 0);  // 11:00 in Sacramento in June
  EXPECT_TRUE(meters[1].at("power").is_null());
  auto enc = latest.at("devices").at("encharges").as_array();
  ASSERT_EQ(enc.size(), 1u);
  auto mode = std::string(enc[0].at("operational_mode").as_string());
  EXPECT_TRUE(mode == "Charging" || mode == "Discharging" || mode == "Idle") << mode;
}

TEST_F(EnphaseSim, EventsAlarmsAndEventTypes) {
  enphase::SimOptions o;
  o.plan = enphase::Plan::Partner;
  start(o);
  const auto& s = options.systems[0];
  auto id = std::to_string(s.id);
  auto epoch = [](TimePoint t) { return duration_cast<seconds>(t.time_since_epoch()).count(); };
  auto now = clock.now();
  // An outage of the gateway that began two hours ago and is still open; a closed one before.
  sim->raise_event(s.id, 28, "", now - hours(2), std::nullopt);
  sim->raise_event(s.id, 1003, "121593620000", now - hours(5), now - hours(5));
  auto from = std::to_string(epoch(now - hours(6)));
  auto events = body(get("/api/v4/systems/" + id + "/events?start_time=" + from)).as_object();
  std::map<std::string, int> statuses;
  for (const auto& e : events.at("events").as_array())
    statuses[std::string(e.at("status").as_string())]++;
  EXPECT_EQ(statuses["Open"], 1);
  EXPECT_EQ(statuses["Info"], 1);
  auto active = body(get("/api/v4/systems/" + id + "/alarms?start_time=" + from)).as_object();
  auto alarms = active.at("alarms").as_array();
  ASSERT_EQ(alarms.size(), 1u);  // open for over an hour
  EXPECT_TRUE(alarms[0].at("alarm_end_time").is_null());
  EXPECT_EQ(alarms[0].at("events").as_array()[0].at("serial_number").as_string(), s.envoy_serial);
  // The seeded history has closed outages too, as cleared alarms.
  auto week = std::to_string(epoch(now - hours(24 * 60)));
  auto to = std::to_string(epoch(now - hours(24 * 53)));
  auto cleared = body(
      get("/api/v4/systems/" + id + "/alarms?cleared=true&start_time=" + week + "&end_time=" + to));
  EXPECT_FALSE(cleared.at("alarms").as_array().empty());
  EXPECT_EQ(body(get("/api/v4/systems/" + id + "/events")).at("details"), "start_time is required");
  EXPECT_EQ(get("/api/v4/systems/" + id + "/events?start_time=" + week).status, 200);
  EXPECT_EQ(get("/api/v4/systems/" + id + "/events?start_time=" + week +
                "&end_time=" + std::to_string(epoch(now)))
                .status,
            422);  // more than a week
  auto types = body(get("/api/v4/systems/event_types")).at("event_types").as_array();
  EXPECT_EQ(types.size(), 4u);
  EXPECT_EQ(body(get("/api/v4/systems/event_types?event_type_id=28"))
                .at("event_types")
                .as_array()[0]
                .at("event_type_key"),
            "envoy_no_report");
  EXPECT_EQ(body(get("/api/v4/systems/event_types?event_type_id=12345")).at("details"),
            "Event type not found for {:id=>\"12345\"}");
}
