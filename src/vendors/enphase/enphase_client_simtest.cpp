// The typed client, call by call, against the simulator over real HTTP: each call's result
// types hold what the cloud sent, and each error body shape becomes an Error that says what the
// cloud said.
#include "vendors/enphase/client.hpp"

#include "net/http_server.hpp"
#include "vendors/enphase/sim_fixture.hpp"

namespace {

struct EnphaseClient : EnphaseSim {
  std::unique_ptr<enphase::Client> c;
  std::int64_t id = 0;
  void SetUp() override {
    enphase::SimOptions o;
    o.plan = enphase::Plan::Partner;
    o.partner_app = true;
    o.live_interval = milliseconds(2);
    o.systems = enphase::make_fleet(4, 1);
    start(o);
    c = std::make_unique<enphase::Client>(http, net::Endpoint{"127.0.0.1", sim->port(), false},
                                          options.api_key, net::kTestRequestTimeout);
    c->use_access_token(sim->default_access_token());
    id = options.systems[0].id;
  }
  std::int64_t now_s() { return duration_cast<seconds>(clock.now().time_since_epoch()).count(); }
};

}  // namespace

TEST_F(EnphaseClient, SystemDetailsEventsAndTheirErrors) {
  auto page = io.run(c->systems(1, 3));
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->total, 4);
  EXPECT_EQ(page->systems.size(), 3u);
  EXPECT_EQ(page->systems[0].timezone, "America/Los_Angeles");
  auto found = io.run(c->search("Amsterdam"));
  ASSERT_TRUE(found);
  ASSERT_EQ(found->systems.size(), 1u);
  EXPECT_EQ(found->systems[0].id, options.systems[1].id);
  auto one = io.run(c->system(id));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->name, options.systems[0].name);
  EXPECT_GT(one->operational_at, 0);
  auto summary = io.run(c->summary(id));
  ASSERT_TRUE(summary);
  EXPECT_GT(summary->energy_lifetime_wh, summary->energy_today_wh);
  EXPECT_EQ(summary->modules, options.systems[0].micros);
  auto devices = io.run(c->devices(id));
  ASSERT_TRUE(devices);
  int micros = 0;
  std::string gateway;
  for (const auto& d : *devices) {
    if (d.kind == "micros") ++micros;
    if (d.kind == "gateways") gateway = d.serial;
  }
  EXPECT_EQ(micros, options.systems[0].micros);
  auto back = io.run(c->system_of_gateway(gateway));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, id);
  auto inverters = io.run(c->inverters(id, 1, 5));
  ASSERT_TRUE(inverters);
  EXPECT_EQ(inverters->size(), 5u);
  EXPECT_GT((*inverters)[0].power_w, 0);
  sim->raise_event(id, 1101, "", clock.now() - hours(3), clock.now() - hours(1));
  auto events = io.run(c->events(id, now_s() - 4 * 3600, now_s()));
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->back().type, 1101);
  EXPECT_EQ(events->back().status, "Closed");
  EXPECT_TRUE(events->back().end);
  auto alarms = io.run(c->alarms(id, now_s() - 4 * 3600, now_s(), true));
  ASSERT_TRUE(alarms);
  ASSERT_EQ(alarms->size(), 1u);
  EXPECT_TRUE((*alarms)[0].cleared);
  EXPECT_EQ((*alarms)[0].severity, 2);
  auto types = io.run(c->event_types());
  ASSERT_TRUE(types);
  EXPECT_EQ(types->size(), 4u);
  // Errors keep the cloud's words and say which call.
  auto unknown = io.run(c->system(1));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(unknown.error().message,
            "Enphase GET /api/v4/systems/1: HTTP 404 Not Found: System not found for {:id=>\"1\"}");
  auto bad_window = io.run(c->events(id, now_s(), now_s() - 60));
  ASSERT_FALSE(bad_window);
  EXPECT_EQ(bad_window.error().kind, ErrorKind::InvalidArgument);
  c->use_access_token("nope");
  auto unauthorized = io.run(c->summary(id));
  ASSERT_FALSE(unauthorized);
  EXPECT_EQ(unauthorized.error().kind, ErrorKind::Auth);
  EXPECT_NE(unauthorized.error().message.find("User is not authorized"), std::string::npos);
}

TEST_F(EnphaseClient, MetersLifetimeSeriesAndTelemetry) {
  auto readings = io.run(c->meter_readings(id));
  ASSERT_TRUE(readings) << readings.error().message;
  ASSERT_EQ(readings->size(), 1u);
  EXPECT_GT((*readings)[0].wh, 1e6);
  auto rgm = io.run(c->rgm_stats(id, now_s() - 86'400 * 3, now_s() - 86'400 * 2));
  ASSERT_TRUE(rgm);
  EXPECT_EQ(rgm->intervals.size(), 96u);
  for (auto kind : {enphase::LifetimeKind::Energy, enphase::LifetimeKind::Consumption,
                    enphase::LifetimeKind::Import, enphase::LifetimeKind::Export}) {
    auto l = io.run(c->lifetime(id, kind, "2026-06-01", "2026-06-07"));
    ASSERT_TRUE(l) << l.error().message;
    EXPECT_EQ(l->start_date, "2026-06-01");
    EXPECT_EQ(l->values.size(), 7u);
  }
  auto battery =
      io.run(c->lifetime(id, enphase::LifetimeKind::Battery, "2026-06-01", "2026-06-07"));
  ASSERT_TRUE(battery);
  EXPECT_EQ(battery->charge.size(), 7u);
  EXPECT_EQ(battery->discharge.size(), 7u);
  auto all =
      io.run(c->lifetime(id, enphase::LifetimeKind::Energy, "2026-06-01", "2026-06-07", true));
  ASSERT_TRUE(all);
  EXPECT_EQ(all->micro_values.size(), 7u);
  EXPECT_EQ(all->meter_values.size(), 7u);
  auto midnight = now_s() - 11 * 3600;  // 11:00 in Sacramento
  auto micro = io.run(c->telemetry(id, "production_micro", midnight, "day"));
  ASSERT_TRUE(micro);
  EXPECT_EQ(micro->intervals.size(), 132u);  // 5-minute intervals to 11:00
  ASSERT_TRUE(micro->intervals.back().power_w);
  auto meter = io.run(c->telemetry(id, "production_meter", midnight, "day"));
  ASSERT_TRUE(meter);
  EXPECT_EQ(meter->intervals.size(), 44u);
  auto load = io.run(c->telemetry(id, "consumption_meter", midnight, "day"));
  ASSERT_TRUE(load);
  auto imp = io.run(c->grid_telemetry(id, true, midnight, "day"));
  auto exp = io.run(c->grid_telemetry(id, false, midnight, "day"));
  ASSERT_TRUE(imp && exp);
  EXPECT_EQ(imp->intervals.size(), 44u);
  auto bat = io.run(c->battery_telemetry(id, midnight, "day"));
  ASSERT_TRUE(bat);
  ASSERT_EQ(bat->intervals.size(), 44u);
  ASSERT_TRUE(bat->last_soc);
  // Each quarter hour balances: pv + import + discharge = load + export + charge.
  for (std::size_t i = 0; i < 44; ++i)
    EXPECT_NEAR(meter->intervals[i].wh + imp->intervals[i].wh + bat->intervals[i].discharge_wh,
                load->intervals[i].wh + exp->intervals[i].wh + bat->intervals[i].charge_wh, 3)
        << i;
  auto devices = io.run(c->devices(id));
  ASSERT_TRUE(devices);
  std::string micro_sn, battery_sn;
  for (const auto& d : *devices) {
    if (d.kind == "micros" && micro_sn.empty()) micro_sn = d.serial;
    if (d.kind == "encharges") battery_sn = d.serial;
  }
  auto one = io.run(c->micro_telemetry(id, micro_sn, midnight, "day"));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->intervals.size(), 132u);
  auto enc = io.run(c->device_battery_telemetry(id, false, battery_sn, midnight, "day"));
  ASSERT_TRUE(enc);
  EXPECT_EQ(enc->intervals.size(), 44u);
  auto acb_system = options.systems[3].id;  // the AC Battery
  auto acb_devices = io.run(c->devices(acb_system));
  ASSERT_TRUE(acb_devices);
  std::string acb_sn;
  for (const auto& d : *acb_devices)
    if (d.kind == "acbs") acb_sn = d.serial;
  ASSERT_FALSE(acb_sn.empty());
  auto acb = io.run(c->device_battery_telemetry(acb_system, true, acb_sn, 0, "15mins"));
  ASSERT_TRUE(acb) << acb.error().message;
  auto latest = io.run(c->latest(id));
  ASSERT_TRUE(latest);
  EXPECT_TRUE(latest->production_w && latest->consumption_w && latest->battery_w);
  auto bad = io.run(c->telemetry(id, "production_meter", 0, "hourly"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(bad.error().message.find("granularity"), std::string::npos);
}

TEST_F(EnphaseClient, ConfigurationLiveDataAndTheEvCharger) {
  auto settings = io.run(c->battery_settings(id));
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->mode, "Self-consumption");
  auto changed =
      io.run(c->set_battery_settings(id, {std::string("Savings Mode"), 30, false, true}));
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(changed->mode, "Savings Mode");
  EXPECT_TRUE(changed->charge_from_grid);
  EXPECT_FALSE(changed->energy_independence);
  auto storm = io.run(c->set_storm_guard(id, true));
  ASSERT_TRUE(storm);
  EXPECT_TRUE(storm->enabled);
  EXPECT_EQ(storm->status, "Enabled (Inactive)");
  auto read = io.run(c->storm_guard(id));
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->enabled);
  auto grid = io.run(c->grid_status(id));
  ASSERT_TRUE(grid);
  EXPECT_EQ(grid->state, "On Grid");
  auto contacts = io.run(c->load_control(id));
  ASSERT_TRUE(contacts);
  ASSERT_EQ(contacts->size(), 2u);
  auto set = io.run(c->set_load_control(id, {"NC1", std::string("Basic"), 45, {}, {}}));
  ASSERT_TRUE(set);
  EXPECT_EQ((*set)[0].soc_low, 45);
  auto none = io.run(c->battery_settings(options.systems[1].id));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("System doesn't have encharges"), std::string::npos);

  auto live = io.run(c->live(id, 30));
  ASSERT_TRUE(live) << live.error().message;
  ASSERT_EQ(live->size(), 30u);
  EXPECT_EQ((*live)[0].battery_mode, "Savings Mode");
  EXPECT_EQ((*live)[0].grid_status, "On Grid");
  EXPECT_NEAR((*live)[0].grid_w, (*live)[0].consumption_w - (*live)[0].pv_w - (*live)[0].battery_w,
              3);
  auto short_stream = io.run(c->live(id, 10));
  ASSERT_FALSE(short_stream);
  EXPECT_NE(short_stream.error().message.find("Duration cannot be less than 30 (INVALID_DURATION)"),
            std::string::npos)
      << short_stream.error().message;
  sim->cut_next_stream(2);
  auto cut = io.run(c->live(id, 30));
  ASSERT_FALSE(cut);

  auto chargers = io.run(c->ev_chargers(id));
  ASSERT_TRUE(chargers);
  ASSERT_EQ(chargers->size(), 1u);
  auto sn = (*chargers)[0].serial;
  EXPECT_EQ((*chargers)[0].id, sn + ":" + std::to_string(id));
  auto sessions = io.run(c->ev_sessions(id, sn, 0, 5));
  ASSERT_TRUE(sessions);
  ASSERT_EQ(sessions->size(), 5u);
  EXPECT_EQ((*sessions)[0].duration_s, 9'000);
  EXPECT_EQ((*sessions)[0].energy_wh, 19'200);
  auto events = io.run(c->ev_events(id, 0, 4));
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), 4u);
  auto schedules = io.run(c->ev_schedules(id, sn));
  ASSERT_TRUE(schedules);
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ((*schedules)[0].type, "Custom");
  auto daily = io.run(c->ev_daily(id, sn, "20260610", "20260611"));
  ASSERT_TRUE(daily);
  EXPECT_EQ(daily->size(), 2u);
  EXPECT_EQ(daily->at("2026-06-10") + daily->at("2026-06-11"), 19'200);
  auto telemetry = io.run(c->ev_telemetry(id, sn, 0, "day"));
  ASSERT_TRUE(telemetry);
  EXPECT_EQ(telemetry->intervals.size(), 96u);  // the previous day
  ASSERT_TRUE(io.run(c->ev_start(id, sn, 40)));
  ASSERT_TRUE(io.run(c->ev_stop(id, sn)));
  auto bad = io.run(c->ev_start(id, "1", 40));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(bad.error().message.find("Invalid system_id or serial_no"), std::string::npos);
}

TEST_F(EnphaseClient, TheTokenCallsOfEachGrant) {
  auto pw = io.run(c->password_grant(options.client_id, options.client_secret, options.username,
                                     options.password));
  ASSERT_TRUE(pw) << pw.error().message;
  EXPECT_EQ(pw->expires_in.count(), 86'399);
  auto refreshed =
      io.run(c->refresh_tokens(options.client_id, options.client_secret, pw->refresh_token));
  ASSERT_TRUE(refreshed);
  EXPECT_NE(refreshed->refresh_token, pw->refresh_token);
  auto spent =
      io.run(c->refresh_tokens(options.client_id, options.client_secret, pw->refresh_token));
  ASSERT_FALSE(spent);
  EXPECT_EQ(spent.error().kind, ErrorKind::Auth);
  EXPECT_NE(spent.error().message.find("invalid_grant"), std::string::npos);
  auto wrong = io.run(
      c->password_grant(options.client_id, "not-the-secret", options.username, options.password));
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("invalid_client"), std::string::npos);
  EXPECT_NE(enphase::Client::authorize_url({"api.enphaseenergy.com", 443, true}, "app id",
                                           "http://127.0.0.1:8765/callback", "s1")
                .find("/oauth/authorize?response_type=code&client_id=app%20id&redirect_uri="
                      "http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&state=s1"),
            std::string::npos);
}

// A cloud answering numbers no system has (found by fuzzing: an epoch time of 1e300 overflowed
// its cast and then the conversion to milliseconds): the call fails naming the field.
TEST(EnphaseClientNumbers, OutOfRangeNumbersFailTheCallNamingTheField) {
  net::TestIo io;
  auto router = std::make_shared<net::Router>();
  router->get("/api/v4/systems/{id}/summary",
              [](net::ServerRequest&) -> boost::asio::awaitable<net::ServerResponse> {
                co_return net::ServerResponse::json(
                    200,
                    R"({"system_id":7,"current_power":1e999,"last_report_at":1e300,"modules":3})");
              });
  router->get("/api/v4/systems/{id}/devices",
              [](net::ServerRequest&) -> boost::asio::awaitable<net::ServerResponse> {
                co_return net::ServerResponse::json(
                    200,
                    R"({"devices":{"micros":[{"serial_number":"1","last_report_at":-1e19}]}})");
              });
  net::HttpServer server(io.executor(), router);
  ASSERT_TRUE(server.listen("127.0.0.1", 0));
  net::HttpClient http(io.executor());
  enphase::Client c(http, {"127.0.0.1", server.port(), false}, "key", net::kTestRequestTimeout);
  auto summary = io.run(c.summary(7));
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().kind, ErrorKind::Protocol);
  EXPECT_EQ(summary.error().message,
            "Enphase GET /api/v4/systems/7/summary: field 'current_power' = inf is not a finite "
            "number");
  auto devices = io.run(c.devices(7));
  ASSERT_FALSE(devices);
  EXPECT_EQ(devices.error().message,
            "Enphase GET /api/v4/systems/7/devices: field 'last_report_at' = -1e+19 is outside "
            "-9007199254740992..9007199254740992");
  server.stop();
}

// At --speed 60 the site runs a day in 24 minutes while tokens last a day of real time: the
// cloud times its tokens by its wall clock (a poll failed with 401 every simulated day).
TEST(EnphaseSimAccelerated, TokensLastByTheWallClockNotTheSimulatedOne) {
  net::TestIo io;
  ManualClock site{time_point_cast<Millis>(sys_days(2026y / 6 / 15) + hours(18))};
  ManualClock wall{site.now()};
  enphase::SimOptions o;
  o.systems = enphase::make_fleet(1, 2);
  o.wall_clock = &wall;
  enphase::Simulator sim(io.executor(), site, o);
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  net::HttpClient http(io.executor());
  enphase::Client c(http, {"127.0.0.1", sim.port(), false}, sim.options().api_key,
                    net::kTestRequestTimeout);
  c.use_access_token(sim.default_access_token());
  auto id = sim.options().systems[0].id;
  site.advance(days(3));  // three simulated days
  auto still = io.run(c.summary(id));
  EXPECT_TRUE(still) << still.error().message;
  wall.advance(days(2));  // two real ones
  auto expired = io.run(c.summary(id));
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().kind, ErrorKind::Auth);
  sim.stop();
}
