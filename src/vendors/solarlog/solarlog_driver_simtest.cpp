// The Solar-Log driver against the simulator over real HTTP on a manual clock, for a User Basic,
// a User Advanced and a Portal client: discovery, the capabilities each package allows, every
// read mapped to canonical metrics and checked against what the plant measured, history for
// backfill, events, token expiry, the quota, 5xx bursts and malformed bodies.
#include <gtest/gtest.h>

#include <set>

#include "core/metric.hpp"
#include "net/driver_env.hpp"
#include "net/http_client.hpp"
#include "net/retry.hpp"
#include "net/test_io.hpp"
#include "vendors/solarlog/driver.hpp"
#include "vendors/solarlog/sim_fixture.hpp"
#include "vendors/solarlog/simulator.hpp"

using namespace sb;
using namespace std::chrono;

namespace {

struct SolarLogDriverTest : SolarLogFixture {
  net::ManualSleeper sleeper{clock};
  DriverEnv env{io.executor(), clock, http, sleeper, nullptr};

  ConnectionConfig config(const std::string& client) {
    ConnectionConfig c;
    c.name = "sl";
    c.vendor = "solarlog";
    c.site = "fleet";
    c.host = "127.0.0.1";
    c.port = sim->port();
    c.poll_interval = Millis(60'000);
    c.timeout = net::kTestRequestTimeout;
    c.where = "sunbridge.yaml:4";
    c.options = {{"portal", "solarCompanyXYZ"},
                 {"client_id", client},
                 {"client_secret", client + "-secret"}};
    return c;
  }
  std::unique_ptr<Driver> driver(const ConnectionConfig& c) {
    auto made = solarlog::registry_entry().factory(c, env);
    EXPECT_TRUE(made) << made.error().message;
    return made ? std::move(*made) : nullptr;
  }
  std::vector<DeviceInfo> discover(Driver& d) {
    auto devices = io.run(d.discover());
    EXPECT_TRUE(devices) << devices.error().message;
    return devices ? *devices : std::vector<DeviceInfo>{};
  }
  static std::map<std::string, double> latest(const Snapshot& s) {
    std::map<std::string, double> m;
    for (const auto& x : s.samples)
      if (x.time == s.time) m[x.metric] = x.value;
    return m;
  }
  solarlog::PlantModel& model(int i) { return *sim->model(sim->options().plants[i].id); }
  // The plant's lifetime production up to now, as the simulator computed it.
  double produced(int i) {
    auto& m = model(i);
    auto now = clock.now();
    auto today = m.day_of(now);
    return m.before(today, now).prod + m.totals(today, now).prod;
  }
};

bool has(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

TEST_F(SolarLogDriverTest, OptionsAreCheckedWithTheirReasons) {
  auto c = config("user-basic");
  c.options.erase("portal");
  auto made = solarlog::registry_entry().factory(c, env);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find(
                "sunbridge.yaml:4: connection 'sl': option portal is required: the first label"),
            std::string::npos)
      << made.error().message;
  c = config("user-basic");
  c.options["package"] = "premium";
  made = solarlog::registry_entry().factory(c, env);
  ASSERT_FALSE(made);
  EXPECT_NE(
      made.error().message.find("option package = 'premium' is not one of basic, advanced, auto"),
      std::string::npos);
  c = config("user-basic");
  c.options["portal"] = "solar.company";
  made = solarlog::registry_entry().factory(c, env);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("is not a host label"), std::string::npos);
  c = config("user-basic");
  c.options["client_secret"] = "wrong";
  auto d = driver(c);
  auto refused = io.run(d->discover());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Auth);
  EXPECT_NE(refused.error().message.find("unauthorized_client"), std::string::npos)
      << refused.error().message;
}

TEST_F(SolarLogDriverTest, BasicUserGetsThePlantTotalsOfItsPlants) {
  auto d = driver(config("user-basic"));
  auto devices = discover(*d);
  ASSERT_EQ(devices.size(), 2u);  // its two plants; no wallbox device without component values
  EXPECT_EQ(devices[0].serial, sim->options().plants[0].id);
  EXPECT_EQ(devices[0].kind, "battery");
  EXPECT_EQ(devices[0].vendor, "solarlog");
  auto caps = d->capabilities(devices[0]);
  EXPECT_TRUE(caps.history);
  EXPECT_EQ(caps.history_step, minutes(5));
  EXPECT_TRUE(has(caps.metrics, "energy.pv_yield"));
  EXPECT_TRUE(has(caps.metrics, "battery.soc"));
  EXPECT_FALSE(has(caps.metrics, "pv.string.1.power"));
  EXPECT_FALSE(has(caps.metrics, "vendor.solarlog.performance_ratio"));
  EXPECT_TRUE(caps.commands.empty());  // the API is read-only

  auto snap = io.run(d->poll(devices[0]));
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(snap->time, clock.now());  // the slot that just ended
  auto v = latest(*snap);
  EXPECT_GT(v["pv.power"], 1000);
  EXPECT_NEAR(v["grid.power"], v["load.power"] - v["pv.power"] - v["battery.power"], 0.01);
  EXPECT_NEAR(v["energy.pv_yield"], produced(0), 1);
  EXPECT_FALSE(v.contains("pv.string.1.power"));
  // Today's slots so far came as samples too, each metric once per slot.
  int pv = 0;
  for (const auto& s : snap->samples) pv += s.metric == "pv.power";
  EXPECT_EQ(pv, 144);
  // Five minutes later one new slot; polls in between give the newest slot again without a call.
  auto before = sim->requests();
  auto again = io.run(d->poll(devices[0]));
  ASSERT_TRUE(again);
  EXPECT_EQ(sim->requests(), before);
  clock.advance(minutes(5));
  auto next = io.run(d->poll(devices[0]));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->time, clock.now());
  pv = 0;
  for (const auto& s : next->samples) pv += s.metric == "pv.power";
  EXPECT_EQ(pv, 1);
  EXPECT_NEAR(latest(*next)["energy.pv_yield"], produced(0), 1);
}

TEST_F(SolarLogDriverTest, AdvancedUserGetsComponentsTheWallboxAndKpis) {
  auto d = driver(config("user-advanced"));
  auto devices = discover(*d);
  ASSERT_EQ(devices.size(), 4u);  // three plants, and the first one's wallbox
  EXPECT_EQ(devices[1].kind, "ev_charger");
  EXPECT_EQ(devices[1].manufacturer, "KEBA");
  EXPECT_EQ(devices[3].kind, "inverter");  // the third plant has no battery
  auto caps = d->capabilities(devices[0]);
  EXPECT_TRUE(has(caps.metrics, "pv.string.2.voltage"));
  EXPECT_TRUE(has(caps.metrics, "vendor.solarlog.irradiance"));
  EXPECT_TRUE(has(d->capabilities(devices[1]).metrics, "energy.ev_charge"));
  EXPECT_FALSE(has(d->capabilities(devices[3]).metrics, "battery.soc"));

  auto snap = io.run(d->poll(devices[0]));
  ASSERT_TRUE(snap) << snap.error().message;
  auto v = latest(*snap);
  EXPECT_NEAR(v["pv.string.1.power"] + v["pv.string.2.power"], v["pv.power"] / 0.97,
              0.05 * v["pv.power"]);  // DC before the inverter
  EXPECT_GT(v["pv.string.1.voltage"], 200);
  EXPECT_GT(v["vendor.solarlog.irradiance"], 300);
  // The wallbox's values came with the same refresh.
  auto before = sim->requests();
  auto ev = io.run(d->poll(devices[1]));
  ASSERT_TRUE(ev) << ev.error().message;
  EXPECT_EQ(sim->requests(), before);
  EXPECT_EQ(latest(*ev)["ev.power"], 0);  // Monday noon: not charging
  EXPECT_GT(latest(*ev)["energy.ev_charge"], 100'000);
  auto plant3 = io.run(d->poll(devices[3]));
  ASSERT_TRUE(plant3) << plant3.error().message;
  EXPECT_FALSE(latest(*plant3).contains("battery.soc"));

  // The first refresh of the evening: yesterday's KPIs were read at the first one (dated at
  // today's start), and the wallbox charges.
  bool kpi = false;
  for (const auto& s : snap->samples)
    if (s.metric == "vendor.solarlog.performance_ratio") {
      kpi = true;
      EXPECT_GT(s.value, 50);
      EXPECT_LT(s.value, 130);
    }
  EXPECT_TRUE(kpi);
  clock.advance(hours(8) + minutes(30));  // 20:30 local
  ASSERT_TRUE(io.run(d->poll(devices[0])));
  auto evening = io.run(d->poll(devices[1]));
  ASSERT_TRUE(evening);
  EXPECT_EQ(latest(*evening)["ev.power"], 3700);
  EXPECT_EQ(latest(*evening)["ev.charging"], 1);
}

TEST_F(SolarLogDriverTest, PortalAccountSeesEveryPlantOrOneFleet) {
  auto all = driver(config("portal-basic"));
  EXPECT_EQ(discover(*all).size(), 4u);
  auto c = config("portal-advanced");
  c.options["fleet"] = "fleet-south";
  auto south = driver(c);
  auto devices = discover(*south);
  ASSERT_EQ(devices.size(), 3u);  // plants 1 and 3, and the first one's wallbox
  EXPECT_EQ(devices[2].serial, sim->options().plants[2].id);
  // A user's client cannot name a fleet.
  c = config("user-advanced");
  c.options["fleet"] = "fleet-south";
  auto user = driver(c);
  auto refused = io.run(user->discover());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("Fleets are part of the Portal API"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("option fleet needs a Portal API client"),
            std::string::npos);
  // One plant by id; a plant the user does not have is refused with the portal's reason.
  c = config("user-basic");
  c.options["plant_id"] = sim->options().plants[3].id;
  auto other = driver(c);
  auto no = io.run(other->discover());
  ASSERT_FALSE(no);
  EXPECT_NE(no.error().message.find("is not assigned to client user-basic"), std::string::npos)
      << no.error().message;
}

TEST_F(SolarLogDriverTest, HistoryGivesPastDaysAndADayMissedIsFilledIn) {
  auto d = driver(config("user-basic"));
  auto devices = discover(*d);
  ASSERT_FALSE(devices.empty());
  auto snap = io.run(d->poll(devices[0]));
  ASSERT_TRUE(snap);
  // Yesterday, for backfill: 288 slots that end where today's counter starts.
  auto& m = model(0);
  auto today = m.day_start(m.day_of(clock.now()));
  auto h = io.run(d->history(devices[0], {today - hours(24) + Millis(1), today + Millis(1)}));
  ASSERT_TRUE(h) << h.error().message;
  std::vector<Sample> yield;
  for (const auto& s : *h)
    if (s.metric == "energy.pv_yield") yield.push_back(s);
  ASSERT_EQ(yield.size(), 288u);
  EXPECT_EQ(yield.back().time, today);
  EXPECT_NEAR(yield.back().value, m.before(m.day_of(clock.now()), clock.now()).prod, 0.01);
  // 40 days: two range calls of at most 31 days.
  auto before = sim->requests();
  auto long_h = io.run(d->history(devices[0], {today - hours(24 * 40), today}));
  ASSERT_TRUE(long_h) << long_h.error().message;
  EXPECT_EQ(sim->requests() - before, 2u);
  // Two days without a poll: the next one brings every slot since the last.
  clock.advance(hours(48));
  auto later = io.run(d->poll(devices[0]));
  ASSERT_TRUE(later) << later.error().message;
  std::set<TimePoint> slots;
  for (const auto& s : later->samples)
    if (s.metric == "energy.pv_yield") slots.insert(s.time);
  EXPECT_EQ(slots.size(), 2u * 288);
  EXPECT_EQ(*slots.rbegin(), clock.now());
  EXPECT_NEAR(latest(*later)["energy.pv_yield"], produced(0), 1);
}

TEST_F(SolarLogDriverTest, InverterEventsGoIntoTheEventStream) {
  auto d = driver(config("user-basic"));
  auto devices = discover(*d);
  ASSERT_FALSE(devices.empty());
  std::vector<Event> events;
  for (int day = 0; day < 30 && events.empty(); ++day) {
    auto snap = io.run(d->poll(devices[0]));
    ASSERT_TRUE(snap) << snap.error().message;
    for (const auto& e : snap->events)
      if (e.severity == Severity::Error) events.push_back(e);
    clock.advance(hours(24));
  }
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].code, "solarlog.event.e207");
  EXPECT_NE(events[0].message.find("WR 1: Grid voltage too high"), std::string::npos)
      << events[0].message;
  EXPECT_EQ(events[0].device, devices[0].id);
}

TEST_F(SolarLogDriverTest, ExpiredAndRevokedTokensAreRenewed) {
  auto d = driver(config("user-basic"));
  auto devices = discover(*d);
  ASSERT_FALSE(devices.empty());
  ASSERT_TRUE(io.run(d->poll(devices[0])));
  // The 300 s token ran out between two refreshes; then an administrator revokes it.
  clock.advance(minutes(6));
  auto a = io.run(d->poll(devices[0]));
  ASSERT_TRUE(a) << a.error().message;
  sim->expire_all_tokens();
  clock.advance(minutes(5));
  auto b = io.run(d->poll(devices[0]));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->time, clock.now() - minutes(1));  // 10:10, the newest slot at 10:11
}

TEST_F(SolarLogDriverTest, TheQuotaIsKeptAndA429TeachesIt) {
  solarlog::SimOptions o;
  o.per_minute = 4;
  start(o);
  // Configured right: discovery of four plants (1 + 4 components + 1 package probe) waits for
  // the next minute instead of running into the quota.
  auto c = config("portal-basic");
  c.options["per_minute"] = "4";
  auto d = driver(c);
  auto devices = discover(*d);
  ASSERT_EQ(devices.size(), 4u);
  EXPECT_EQ(sim->over_limit(), 0u);
  for (const auto& dev : devices) ASSERT_TRUE(io.run(d->poll(dev))) << dev.id;
  EXPECT_EQ(sim->over_limit(), 0u);
  auto b = d->budget();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->limit, 4);
  // Configured wrong (the default 60): one 429, which fails discovery with the portal's words,
  // and the next attempt keeps to what went through.
  clock.advance(minutes(1));
  auto wrong = driver(config("portal-advanced"));
  auto first = io.run(wrong->discover());
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().kind, ErrorKind::RateLimited);
  EXPECT_NE(first.error().message.find("Quota of 4 calls a minute exceeded"), std::string::npos)
      << first.error().message;
  ASSERT_TRUE(first.error().retry_after);
  clock.advance(minutes(1));
  EXPECT_EQ(discover(*wrong).size(), 5u);
  EXPECT_EQ(sim->over_limit(), 1u);
}

TEST_F(SolarLogDriverTest, BurstsAndMalformedBodiesFailThePollAndTheNextOneCatchesUp) {
  auto d = driver(config("user-advanced"));
  auto devices = discover(*d);
  ASSERT_FALSE(devices.empty());
  ASSERT_TRUE(io.run(d->poll(devices[0])));
  clock.advance(minutes(5));
  sim->fail_next(1);
  auto down = io.run(d->poll(devices[0]));
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().kind, ErrorKind::Transport);
  EXPECT_NE(down.error().message.find("HTTP 503 The service is temporarily unavailable"),
            std::string::npos)
      << down.error().message;
  clock.advance(minutes(5));
  sim->malform_next(1);
  auto cut = io.run(d->poll(devices[0]));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().kind, ErrorKind::Protocol);
  EXPECT_NE(cut.error().message.find("Solar-Log values of plant"), std::string::npos)
      << cut.error().message;
  // The next good poll has the three slots since the last good one.
  clock.advance(minutes(5));
  auto ok = io.run(d->poll(devices[0]));
  ASSERT_TRUE(ok) << ok.error().message;
  int slots = 0;
  for (const auto& s : ok->samples) slots += s.metric == "energy.pv_yield";
  EXPECT_EQ(slots, 3);
  // A simulator that vanished: the poll names the connection's failure.
  sim->stop();
  clock.advance(minutes(5));
  auto gone = io.run(d->poll(devices[0]));
  ASSERT_FALSE(gone);
  EXPECT_TRUE(gone.error().transient()) << gone.error().message;
}

TEST_F(SolarLogDriverTest, JustAfterMidnightTheLastSlotOfYesterdayStaysTheNewest) {
  // Started at 00:03 local: today has no slot yet.
  clock.set(time_point_cast<Millis>(sys_days(2026y / 6 / 15) + hours(22) + minutes(3)));
  auto d = driver(config("user-basic"));
  auto devices = discover(*d);
  ASSERT_FALSE(devices.empty());
  auto early = io.run(d->poll(devices[0]));
  ASSERT_TRUE(early) << early.error().message;
  auto midnight = time_point_cast<Millis>(sys_days(2026y / 6 / 15) + hours(22));
  EXPECT_EQ(early->time, midnight);
  clock.advance(minutes(5));
  auto next = io.run(d->poll(devices[0]));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->time, midnight + minutes(5));
  EXPECT_NEAR(latest(*next)["energy.pv_yield"], produced(0), 0.01);
}
