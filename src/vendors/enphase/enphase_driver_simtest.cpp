// The Enphase driver against the simulator over real HTTP on a manual clock: the first
// authorization and the token file, refresh and rotation across a restart, revocation; reads
// mapped to canonical metrics with counters that agree with the cloud's lifetime series; history
// for backfill; battery commands read back; a 429 that teaches the driver the plan.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/metric.hpp"
#include "core/test_time.hpp"
#include "net/driver_env.hpp"
#include "net/retry.hpp"
#include "net/token_file.hpp"
#include "vendors/enphase/client.hpp"
#include "vendors/enphase/driver.hpp"
#include "vendors/enphase/sim_fixture.hpp"

namespace {

struct EnphaseDriverTest : EnphaseSim {
  net::ManualSleeper sleeper{clock};
  DriverEnv env{io.executor(), clock, http, sleeper, nullptr};
  std::string file;

  void SetUp() override {
    enphase::SimOptions o;
    o.plan = enphase::Plan::Partner;
    start(o);
    file = (std::filesystem::temp_directory_path() /
            ("sb-enphase-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json"))
               .string();
    std::filesystem::remove(file);
  }
  void TearDown() override { std::filesystem::remove(file); }

  enphase::Client client() {
    return enphase::Client(http, {"127.0.0.1", sim->port(), false}, options.api_key,
                           net::kTestRequestTimeout);
  }
  // What `sunbridge auth enphase` does: a code from the authorize page traded for tokens, saved.
  void sign_in() {
    auto c = client();
    auto code = sim->issue_code("http://127.0.0.1:9/callback");
    auto t = io.run(c.exchange_code(options.client_id, options.client_secret, code,
                                    "http://127.0.0.1:9/callback"));
    ASSERT_TRUE(t) << t.error().message;
    ASSERT_TRUE(net::save_token_file(
        file, {options.client_id, t->access_token, t->refresh_token, clock.now() + t->expires_in}));
  }
  ConnectionConfig config(std::string plan = "partner") {
    ConnectionConfig c;
    c.name = "enphase";
    c.vendor = "enphase";
    c.site = "home";
    c.host = "127.0.0.1";
    c.port = sim->port();
    c.poll_interval = Millis(60'000);
    c.timeout = net::kTestRequestTimeout;
    c.options = {{"api_key", options.api_key},
                 {"client_id", options.client_id},
                 {"client_secret", options.client_secret},
                 {"token_file", file},
                 {"plan", plan}};
    return c;
  }
  std::unique_ptr<Driver> driver(const ConnectionConfig& c) {
    auto made = enphase::registry_entry().factory(c, env);
    EXPECT_TRUE(made) << made.error().message;
    return made ? std::move(*made) : nullptr;
  }
  // Signed in, a driver made and its devices found.
  std::vector<DeviceInfo> devices_of(Driver& d) {
    auto devices = io.run(d.discover());
    EXPECT_TRUE(devices) << devices.error().message;
    return devices ? *devices : std::vector<DeviceInfo>{};
  }
  static std::map<std::string, double> latest(const Snapshot& s) {
    std::map<std::string, double> m;
    for (const auto& x : s.samples)
      if (x.time == s.time || x.metric.starts_with("vendor.")) m[x.metric] = x.value;
    return m;
  }
};

}  // namespace

TEST_F(EnphaseDriverTest, OptionsAreCheckedWithTheirReasons) {
  auto c = config();
  c.options.erase("token_file");
  c.where = "sunbridge.yaml:7";
  auto made = enphase::registry_entry().factory(c, env);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find(
                "sunbridge.yaml:7: connection 'enphase': option token_file is required"),
            std::string::npos)
      << made.error().message;
  c = config("gigawatt");
  made = enphase::registry_entry().factory(c, env);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("option plan = 'gigawatt' is not one of watt"),
            std::string::npos);
}

TEST_F(EnphaseDriverTest, FirstSignInThenRefreshRotatesTheFileAndSurvivesARestart) {
  auto d = driver(config());
  auto none = io.run(d->discover());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::Auth);
  EXPECT_NE(none.error().message.find("does not exist yet; run `sunbridge auth enphase"),
            std::string::npos)
      << none.error().message;
  // A file that is not a token file: its name, the field, and the Enphase sign-in to run.
  {
    std::ofstream(file) << R"({"client_id":"x","access_token":"a"})";
    auto broken = io.run(driver(config())->discover());
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().message,
              "Enphase OAuth: " + file +
                  ": refresh_token is missing (not a token file sunbridge wrote); run `sunbridge "
                  "auth enphase -c <config> --connection enphase`");
  }

  sign_in();
  d = driver(config());
  auto devices = io.run(d->discover());
  ASSERT_TRUE(devices) << devices.error().message;
  ASSERT_EQ(devices->size(), 3u);  // two systems, the first with an EV charger
  EXPECT_EQ((*devices)[0].kind, "inverter");
  EXPECT_EQ((*devices)[1].kind, "ev_charger");
  EXPECT_EQ((*devices)[0].serial, std::to_string(options.systems[0].id));
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  // Four minutes before the access token expires the driver refreshes and writes the rotated
  // refresh token at once.
  auto before = net::load_token_file(file);
  ASSERT_TRUE(before);
  clock.advance(hours(24) - minutes(4));
  ASSERT_TRUE(io.run(d->poll((*devices)[0]))) << "poll after the refresh";
  auto after = net::load_token_file(file);
  ASSERT_TRUE(after);
  EXPECT_NE(after->refresh_token, before->refresh_token);
  EXPECT_NE(after->access_token, before->access_token);
  EXPECT_GT(after->expires_at, clock.now() + hours(23));
  // The old refresh token is spent: only the file's new one works, and a restart uses it.
  auto c = client();
  EXPECT_FALSE(
      io.run(c.refresh_tokens(options.client_id, options.client_secret, before->refresh_token)));
  auto restarted = driver(config());
  auto again = io.run(restarted->discover());
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_TRUE(io.run(restarted->poll((*again)[0])));

  // The user revokes the app: the next refresh is refused and the message says what to run.
  sim->revoke_all_tokens();
  clock.advance(hours(25));
  auto revoked = io.run(restarted->poll((*again)[0]));
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().kind, ErrorKind::Auth);
  EXPECT_NE(revoked.error().message.find("refused the refresh token"), std::string::npos)
      << revoked.error().message;
}

TEST_F(EnphaseDriverTest, ReadsMapToCanonicalMetricsAndTheCountersAgreeWithTheCloud) {
  sign_in();
  auto d = driver(config());
  auto devices = devices_of(*d);
  ASSERT_FALSE(devices.empty());
  const auto& system = devices[0];
  auto snap = io.run(d->poll(system));
  ASSERT_TRUE(snap) << snap.error().message;
  auto v = latest(*snap);
  EXPECT_GT(v[std::string(metric::kPvPower)], 1'000);  // 11:00 in Sacramento in June
  EXPECT_GT(v[std::string(metric::kLoadPower)], 0);
  EXPECT_NEAR(v[std::string(metric::kGridPower)],
              v[std::string(metric::kLoadPower)] - v[std::string(metric::kPvPower)] -
                  v[std::string(metric::kBatteryPower)],
              1);
  EXPECT_GE(v[std::string(metric::kBatterySoc)], 10);
  EXPECT_LE(v[std::string(metric::kBatterySoc)], 100);
  // Today's quarter hours came as samples, each with the counters.
  std::map<TimePoint, std::map<std::string, double>> at;
  for (const auto& s : snap->samples) at[s.time][s.metric] = s.value;
  std::size_t quarters = 0;
  double last_pv = 0;
  for (const auto& [t, m] : at)
    if (m.contains(std::string(metric::kEnergyPvYield))) {
      ++quarters;
      EXPECT_GE(m.at(std::string(metric::kEnergyPvYield)), last_pv);
      last_pv = m.at(std::string(metric::kEnergyPvYield));
      EXPECT_EQ(duration_cast<seconds>(t.time_since_epoch()).count() % 900, 0);
    }
  EXPECT_EQ(quarters, 44u);  // 00:00 to 11:00 local
  // The PV counter is the summary's lifetime (to the quarter hour it was read at).
  auto summary = body(get("/api/v4/systems/" + std::to_string(options.systems[0].id) + "/summary"))
                     .as_object();
  EXPECT_NEAR(last_pv, summary.at("energy_lifetime").to_number<double>(),
              options.systems[0].operational_days + 5.0);
  // The EV charger: its counter and power.
  auto ev = io.run(d->poll(devices[1]));
  ASSERT_TRUE(ev) << ev.error().message;
  auto e = latest(*ev);
  EXPECT_TRUE(e.contains(std::string(metric::kEnergyEvCharge)));
  EXPECT_GT(e[std::string(metric::kEnergyEvCharge)], 100'000);  // a year of evening sessions
  EXPECT_EQ(e[std::string(metric::kEvPower)], 0);

  // Polls within the refresh interval answer from what was fetched: no calls.
  auto calls = sim->requests();
  ASSERT_TRUE(io.run(d->poll(system)));
  EXPECT_EQ(sim->requests(), calls);
  auto budget = d->budget();
  ASSERT_TRUE(budget);
  EXPECT_EQ(budget->limit, 1'500'000);
  EXPECT_GT(budget->used, 10);
  // Half an hour later: two more quarter hours, the counters grown.
  clock.advance(minutes(30));
  auto later = io.run(d->poll(system));
  ASSERT_TRUE(later);
  double pv = 0;
  std::size_t fresh = 0;
  for (const auto& s : later->samples)
    if (s.metric == metric::kEnergyPvYield) pv = s.value, ++fresh;
  EXPECT_EQ(fresh, 2u);
  EXPECT_GT(pv, last_pv);
}

TEST_F(EnphaseDriverTest, HistoryGivesADayOfQuarterHoursWithCountersThatMeetTodays) {
  sign_in();
  auto d = driver(config());
  auto devices = devices_of(*d);
  ASSERT_FALSE(devices.empty());
  const auto& system = devices[0];
  auto snap = io.run(d->poll(system));
  ASSERT_TRUE(snap);
  double first_today = 0;
  for (const auto& s : snap->samples)
    if (s.metric == metric::kEnergyPvYield) {
      first_today = s.value;
      break;
    }
  // Yesterday, local (Sacramento: UTC-7).
  TimeRange yesterday{sb::test::at("2026-06-14T07:00:00Z"), sb::test::at("2026-06-15T07:00:00Z")};
  auto h = io.run(d->history(system, yesterday));
  ASSERT_TRUE(h) << h.error().message;
  std::vector<double> pv;
  for (const auto& s : *h)
    if (s.metric == metric::kEnergyPvYield) pv.push_back(s.value);
  // Stamped at their ends: 00:15 to 23:45 (the one ending at midnight is the range's end).
  ASSERT_EQ(pv.size(), 95u);
  // The day's rise is its lifetime value, and it ends where today's counters start.
  auto day = body(get("/api/v4/systems/" + std::to_string(options.systems[0].id) +
                      "/energy_lifetime?start_date=2026-06-14&end_date=2026-06-14"))
                 .at("production")
                 .as_array()[0]
                 .as_int64();
  EXPECT_NEAR(pv.back() - pv.front(), day, 1'500);
  EXPECT_LE(pv.back(), first_today);
  EXPECT_NEAR(pv.back(), first_today, 100);  // 00:00-00:15 at night
}

TEST_F(EnphaseDriverTest, BatteryModeAndReserveAreWrittenAndReadBack) {
  sign_in();
  auto d = driver(config());
  auto devices = devices_of(*d);
  ASSERT_FALSE(devices.empty());
  const auto& system = devices[0];
  auto caps = d->capabilities(system);
  EXPECT_TRUE(caps.takes(CommandType::MinSoc));
  ASSERT_TRUE(caps.takes(CommandType::BatteryStrategy));
  EXPECT_EQ(caps.command(CommandType::BatteryStrategy)->choices.size(), 3u);
  EXPECT_FALSE(
      d->capabilities(devices[2]).takes(CommandType::MinSoc));  // the system without a battery
  Command mode{system.id, CommandType::BatteryStrategy, 0, std::nullopt, "test", "Full Backup"};
  auto m = io.run(d->apply(system, mode));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->verified);
  EXPECT_EQ(m->detail, "battery mode 'Self-consumption' -> 'Full Backup'");
  EXPECT_EQ(sim->battery_settings(options.systems[0].id).mode, "Full Backup");
  Command reserve{system.id, CommandType::MinSoc, 35, std::nullopt, "test", ""};
  auto r = io.run(d->apply(system, reserve));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->verified);
  EXPECT_EQ(r->before, 20);
  EXPECT_EQ(r->after, 35);
  EXPECT_EQ(sim->battery_settings(options.systems[0].id).reserve_soc, 35);
  // What the cloud refuses comes back with its words.
  Command bad{system.id, CommandType::MinSoc, 5, std::nullopt, "test", ""};
  auto refused = io.run(d->apply(system, bad));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(refused.error().message.find("reserve_soc"), std::string::npos)
      << refused.error().message;
}

TEST_F(EnphaseDriverTest, A429TeachesThePlanAndTheDriverWaitsOutTheMinute) {
  // The connection says Partner; the cloud's plan is Watt (10 calls a minute).
  sim->set_plan(enphase::Plan::Watt);
  sign_in();
  auto d = driver(config("partner"));
  auto devices = devices_of(*d);
  ASSERT_FALSE(devices.empty());             // 3 calls
  auto first = io.run(d->poll(devices[0]));  // needs 13 more: refused in the minute
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().kind, ErrorKind::RateLimited);
  EXPECT_NE(first.error().message.find("429"), std::string::npos) << first.error().message;
  // From the 429's quota fields the driver knows the minute's limit and waits for it.
  auto waits = sleeper.waits().size();
  auto second = io.run(d->poll(devices[0]));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_GT(sleeper.waits().size(), waits);
  auto [minute, month] = sim->usage();
  EXPECT_LE(minute, 10);
}

TEST_F(EnphaseDriverTest, ChargeFromGridStormGuardLoadControlAndEvCharging) {
  sign_in();
  auto d = driver(config());
  auto devices = devices_of(*d);
  ASSERT_FALSE(devices.empty());
  const auto& system = devices[0];
  const auto& charger = devices[1];
  auto caps = d->capabilities(system);
  EXPECT_TRUE(caps.takes(CommandType::ChargeFromGrid));
  EXPECT_TRUE(caps.takes(CommandType::StormGuard));
  ASSERT_TRUE(caps.takes(CommandType::LoadControl));
  EXPECT_EQ(caps.command(CommandType::LoadControl)->choices,
            (std::vector<std::string>{"NC1", "NC2"}));
  EXPECT_FALSE(caps.takes(CommandType::EvCharging));
  EXPECT_TRUE(d->capabilities(charger).takes(CommandType::EvCharging));
  auto id = options.systems[0].id;

  auto grid = io.run(d->apply(system, {system.id, CommandType::ChargeFromGrid, 1}));
  ASSERT_TRUE(grid) << grid.error().message;
  EXPECT_TRUE(grid->verified);
  EXPECT_EQ(grid->detail, "charge from grid off -> on");
  EXPECT_TRUE(sim->battery_settings(id).charge_from_grid);

  auto storm = io.run(d->apply(system, {system.id, CommandType::StormGuard, 1}));
  ASSERT_TRUE(storm) << storm.error().message;
  EXPECT_TRUE(storm->verified);
  EXPECT_TRUE(sim->battery_settings(id).storm_guard);

  Command load{system.id, CommandType::LoadControl,
               0,         std::nullopt,
               "test",    "NC2 mode=Scheduled start=08:30 end=17:00"};
  auto lc = io.run(d->apply(system, load));
  ASSERT_TRUE(lc) << lc.error().message;
  EXPECT_TRUE(lc->verified);
  EXPECT_EQ(lc->detail, "NC2: mode Scheduled, soc_low 30 %, essential 08:30-17:00");
  load.argument = "NC2 mode=Advanced_BatteryPowered";
  auto refused = io.run(d->apply(system, load));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("needs soc_low"), std::string::npos);
  // What the control forms show: the settings as the commands left them.
  auto shown = io.run(d->settings(system));
  ASSERT_TRUE(shown) << shown.error().message;
  std::map<CommandType, Setting> by;
  for (const auto& s : *shown) by[s.command] = s;
  EXPECT_EQ(by[CommandType::ChargeFromGrid].value, 1);
  EXPECT_EQ(by[CommandType::StormGuard].value, 1);
  EXPECT_EQ(by[CommandType::MinSoc].value, sim->battery_settings(id).reserve_soc);
  EXPECT_EQ(by[CommandType::BatteryStrategy].argument, sim->battery_settings(id).mode);
  EXPECT_NE(by[CommandType::LoadControl].argument.find("NC2 mode=Scheduled soc_low=30 "
                                                       "start=08:30 end=17:00"),
            std::string::npos)
      << by[CommandType::LoadControl].argument;
  EXPECT_TRUE(io.run(d->settings(charger))->empty());  // nothing lasting to show

  // EV charging: accepted, and the charger draws from the next slot on.
  auto start = io.run(d->apply(charger, {charger.id, CommandType::EvCharging, 50}));
  ASSERT_TRUE(start) << start.error().message;
  EXPECT_FALSE(start->verified);
  EXPECT_NE(start->detail.find("accepted it (202)"), std::string::npos);
  clock.advance(minutes(5));
  EXPECT_DOUBLE_EQ(sim->ev_power_now(id), 32 * 240 * 0.5);
  auto stop = io.run(d->apply(charger, {charger.id, CommandType::EvCharging, 0}));
  ASSERT_TRUE(stop);
  clock.advance(minutes(5));
  EXPECT_EQ(sim->ev_power_now(id), 0);
  // The charger's next poll, past the refresh interval, shows the 5 minutes it drew.
  clock.advance(minutes(20));
  auto ev = io.run(d->poll(charger));
  ASSERT_TRUE(ev) << ev.error().message;
  double drawn = 0;
  for (const auto& s : ev->samples)
    if (s.metric == metric::kEvPower && s.time != ev->time) drawn += s.value / 4;
  EXPECT_NEAR(drawn, 320, 1);
}

// Each plan's minute limit, met by a fleet too big for it, and a month spent by someone else:
// the driver learns the numbers from the 429 and never retries into the limit.
TEST_F(EnphaseDriverTest, EveryPlansLimitsAreLearnedAndTheMonthIsNotBurnt) {
  for (auto [plan, name, systems] : {std::tuple{enphase::Plan::Watt, "Watt", 2},
                                     {enphase::Plan::Kilowatt, "Kilowatt", 6},
                                     {enphase::Plan::Megawatt, "Megawatt", 10},
                                     {enphase::Plan::Partner, "Partner", 26}}) {
    SCOPED_TRACE(name);
    enphase::SimOptions o;
    o.plan = plan;
    o.partner_app = true;
    o.systems = enphase::make_fleet(systems, 3);
    for (auto& s : o.systems) s.operational_days = 20;
    start(o);
    sign_in();
    // The connection claims more than the plan has (Partner; for Partner, its minute is the
    // limit all the same).
    auto d = driver(config("partner"));
    auto devices = devices_of(*d);
    ASSERT_FALSE(devices.empty());
    int refused = 0, ok = 0;
    for (int round = 0; round < 2; ++round)
      for (const auto& dev : devices) {
        auto s = io.run(d->poll(dev));
        if (s)
          ++ok;
        else if (s.error().kind == ErrorKind::RateLimited)
          ++refused;
        else
          ADD_FAILURE() << s.error().message;
      }
    // One refusal at most (the first one that taught the minute), then everything waits for it.
    EXPECT_LE(sim->over_limit(), 1u);
    EXPECT_LE(refused, 1);
    EXPECT_GE(ok, static_cast<int>(devices.size()) * 2 - 1);
    sim->stop();
  }
  // The month spent by another program with the same key: one 429 tells the driver, which
  // stops calling until the month turns, and says when that is.
  enphase::SimOptions o;
  o.plan = enphase::Plan::Kilowatt;
  start(o);
  sign_in();
  auto d = driver(config("kilowatt"));
  auto devices = devices_of(*d);
  ASSERT_FALSE(devices.empty());
  sim->spend_month(50'000);
  auto first = io.run(d->poll(devices[0]));
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().kind, ErrorKind::RateLimited);
  EXPECT_EQ(sim->over_limit(), 1u);
  auto calls = sim->requests();
  for (int i = 0; i < 30; ++i) {
    clock.advance(minutes(10));
    auto again = io.run(d->poll(devices[0]));
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("resets at 2026-07-01T00:00:00Z"), std::string::npos)
        << again.error().message;
  }
  EXPECT_LE(sim->requests(), calls + 1);  // at most a token refresh, no API call
  EXPECT_EQ(sim->over_limit(), 1u);
  EXPECT_EQ(d->budget()->used, d->budget()->limit);
}

// The cloud failing mid-poll: a 5xx burst, cut bodies, dropped connections, the simulator gone.
// Each poll says what happened, nothing half-read is taken for values, and the next good answer
// carries on with no quarter hour lost.
TEST_F(EnphaseDriverTest, FaultsFailThePollWithTheirReasonAndLoseNothing) {
  sign_in();
  auto d = driver(config());
  auto devices = devices_of(*d);
  ASSERT_FALSE(devices.empty());
  const auto& system = devices[0];
  ASSERT_TRUE(io.run(d->poll(system)));
  auto kind_of = [&](sim::FaultSpec f) {
    sim->set_faults(f);
    clock.advance(minutes(15));
    auto s = io.run(d->poll(system));
    EXPECT_FALSE(s);
    return s ? std::make_pair(ErrorKind::Internal, std::string())
             : std::make_pair(s.error().kind, s.error().message);
  };
  sim::FaultSpec burst;
  burst.error_rate = 1;
  auto [k1, m1] = kind_of(burst);
  EXPECT_EQ(k1, ErrorKind::Transport);
  EXPECT_NE(m1.find("HTTP 500 Internal Server Error: unable to fetch data"), std::string::npos)
      << m1;
  sim::FaultSpec cut;
  cut.malformed_rate = 1;
  auto [k2, m2] = kind_of(cut);
  EXPECT_EQ(k2, ErrorKind::Protocol);
  EXPECT_NE(m2.find("not JSON"), std::string::npos) << m2;
  sim::FaultSpec drop;
  drop.drop_rate = 1;
  auto [k3, m3] = kind_of(drop);
  EXPECT_TRUE(k3 == ErrorKind::Transport || k3 == ErrorKind::Timeout) << m3;
  // Back to health: the quarter hours of the bad hour come with the next poll.
  sim->set_faults({});
  clock.advance(minutes(15));
  auto good = io.run(d->poll(system));
  ASSERT_TRUE(good) << good.error().message;
  std::set<TimePoint> quarters;
  for (const auto& s : good->samples)
    if (s.metric == metric::kEnergyPvYield) quarters.insert(s.time);
  EXPECT_EQ(quarters.size(), 4u);  // 11:00 to 12:00
  // The simulator gone altogether: a transport error naming the call.
  sim->stop();
  clock.advance(minutes(15));
  auto gone = io.run(d->poll(system));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::Transport);
  EXPECT_NE(gone.error().message.find("Enphase GET /api/v4/systems/"), std::string::npos)
      << gone.error().message;
}

// At the first refresh of a new local day the closed day's events come into the event store.
TEST_F(EnphaseDriverTest, AClosedDaysEventsBecomeSunbridgeEvents) {
  sign_in();
  auto d = driver(config());
  auto devices = devices_of(*d);
  ASSERT_FALSE(devices.empty());
  const auto& system = devices[0];
  ASSERT_TRUE(io.run(d->poll(system)));
  auto id = options.systems[0].id;
  sim->raise_event(id, 1101, "", clock.now() + hours(1), clock.now() + hours(3));
  sim->raise_event(id, 502, "482100100003", clock.now() + hours(4), std::nullopt);
  clock.advance(hours(14));  // 01:00 the next day in Sacramento
  auto s = io.run(d->poll(system));
  ASSERT_TRUE(s) << s.error().message;
  std::map<std::string, std::string> got;
  for (const auto& e : s->events) got[e.code] = e.message;
  ASSERT_TRUE(got.contains("enphase.event.1101"));
  EXPECT_NE(got["enphase.event.1101"].find("Enphase: Grid outage ("), std::string::npos)
      << got["enphase.event.1101"];
  EXPECT_NE(got["enphase.event.1101"].find(", until "), std::string::npos);
  ASSERT_TRUE(got.contains("enphase.event.502"));
  EXPECT_NE(got["enphase.event.502"].find("Microinverter not reporting (482100100003), still open"),
            std::string::npos)
      << got["enphase.event.502"];
  auto again = io.run(d->poll(system));  // handed out once
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->events.empty());
}
