// A month of polling one Enphase system (IQ Battery, EV charger) on the free Watt plan, 1,000
// calls a month and 10 a minute, on a manual clock: the driver stays within the plan without a
// single 429, hands out every quarter hour of the month, and its counters rise each local day by
// what the cloud's lifetime series says the day was. Prints the figures.
#include <cstdio>
#include <filesystem>
#include <set>

#include "core/metric.hpp"
#include "core/test_time.hpp"
#include "net/driver_env.hpp"
#include "net/retry.hpp"
#include "net/token_file.hpp"
#include "vendors/enphase/client.hpp"
#include "vendors/enphase/driver.hpp"
#include "vendors/enphase/sim_fixture.hpp"

TEST(EnphaseMonth, AMonthOnTheWattPlanStaysWithinItAndMissesNoQuarterHour) {
  net::TestIo io;
  ManualClock clock{sb::test::at("2026-06-01T00:00:00Z")};
  net::HttpClient http{io.executor()};
  enphase::SimOptions o;
  o.plan = enphase::Plan::Watt;
  o.systems = enphase::make_fleet(1, 7);  // Sacramento, battery and EV charger
  o.access_token_life = hours(24);
  o.refresh_token_life = hours(24 * 7);
  enphase::Simulator sim(io.executor(), clock, o);
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto file = (std::filesystem::temp_directory_path() /
               ("sb-enphase-month-" + std::to_string(::getpid()) + ".json"))
                  .string();
  auto t = sim.issue_tokens();
  ASSERT_TRUE(net::save_token_file(
      file, {o.client_id, t.access_token, t.refresh_token, clock.now() + t.expires_in}));
  net::ManualSleeper sleeper{clock};
  DriverEnv env{io.executor(), clock, http, sleeper, nullptr};
  ConnectionConfig c;
  c.name = "enphase";
  c.vendor = "enphase";
  c.site = "home";
  c.host = "127.0.0.1";
  c.port = sim.port();
  c.poll_interval = Millis(60'000);
  c.timeout = net::kTestRequestTimeout;
  c.options = {{"api_key", o.api_key},
               {"client_id", o.client_id},
               {"client_secret", o.client_secret},
               {"token_file", file},
               {"plan", "watt"}};
  auto made = enphase::registry_entry().factory(c, env);
  ASSERT_TRUE(made) << made.error().message;
  auto& d = **made;
  auto devices = io.run(d.discover());
  ASSERT_TRUE(devices) << devices.error().message;
  ASSERT_EQ(devices->size(), 2u);

  // A poll of both devices a minute, as the gateway would, for the whole of June (UTC).
  std::map<TimePoint, double> pv;  // energy.pv_yield by time
  std::set<TimePoint> ev_quarters;
  int polls = 0, failed = 0;
  std::vector<TimePoint> refreshes;
  auto end = sb::test::at("2026-07-01T00:00:00Z");
  while (clock.now() < end) {
    for (const auto& dev : *devices) {
      auto calls = sim.requests();
      auto s = io.run(d.poll(dev));
      ++polls;
      if (!s) {
        ++failed;
        ADD_FAILURE() << format_iso8601(clock.now()) << ": " << s.error().message << " (used "
                      << d.budget()->used << ", cloud calls " << sim.requests() << ")";
        continue;
      }
      if (sim.requests() > calls + 2) refreshes.push_back(clock.now());
      for (const auto& x : s->samples) {
        if (x.metric == metric::kEnergyPvYield) pv[x.time] = x.value;
        if (x.metric == metric::kEnergyEvCharge && x.time != s->time) ev_quarters.insert(x.time);
      }
    }
    clock.advance(minutes(1));
  }
  // Within the plan, never refused.
  // API calls as the plan counts them (the token endpoint's daily refreshes are not counted).
  auto june_calls = static_cast<std::uint64_t>(sim.usage().second);
  EXPECT_EQ(sim.over_limit(), 0u);
  EXPECT_LE(june_calls, 1'000u);
  EXPECT_GT(june_calls, 800u);  // and it used what it had
  // Every quarter hour from the first full local day on (June 1, 00:15 PDT) to the last
  // refresh, in order and never falling.
  auto first = sb::test::at("2026-06-01T07:15:00Z");
  std::size_t missing = 0;
  double before = 0;
  for (auto q = first; q <= refreshes.back() - minutes(15); q += minutes(15)) {
    auto it = pv.find(q);
    if (it == pv.end()) {
      ++missing;
      continue;
    }
    EXPECT_GE(it->second, before) << format_iso8601(q);
    before = it->second;
  }
  EXPECT_EQ(missing, 0u);
  // Each local day's rise is the cloud's own figure for it.
  auto client =
      enphase::Client(http, {"127.0.0.1", sim.port(), false}, o.api_key, net::kTestRequestTimeout);
  double worst = 0;
  int days = 0;
  auto id = o.systems[0].id;
  {
    // The cloud's month is spent by now: the check reads with the Partner plan's room.
    sim.set_plan(enphase::Plan::Partner);
    auto tok = sim.issue_tokens();
    client.use_access_token(tok.access_token);
    auto series =
        io.run(client.lifetime(id, enphase::LifetimeKind::Energy, "2026-06-02", "2026-06-29"));
    ASSERT_TRUE(series) << series.error().message;
    for (std::size_t i = 0; i < series->values.size(); ++i) {
      // Local midnights in Sacramento (PDT, UTC-7) bound each day.
      auto from = sb::test::at("2026-06-02T07:00:00Z") + hours(24 * i);
      auto a = pv.find(from), b = pv.find(from + hours(24));
      if (a == pv.end() || b == pv.end()) continue;
      ++days;
      worst = std::max(worst, std::abs((b->second - a->second) - series->values[i]));
    }
  }
  EXPECT_EQ(days, 28);
  EXPECT_LT(worst, 100);  // rounding of 96 quarter hours
  std::vector<double> gaps;
  for (std::size_t i = 1; i < refreshes.size(); ++i)
    gaps.push_back(duration_cast<minutes>(refreshes[i] - refreshes[i - 1]).count());
  std::sort(gaps.begin(), gaps.end());
  std::printf(
      "Watt plan, June, one system with battery and EV charger, polled every minute:\n"
      "  API calls %llu of 1000, refused 0; polls %d, failed %d; refreshes %zu, %.0f min apart "
      "(median), longest %.0f min\n"
      "  quarter hours missing %zu; EV quarter hours %zu; days checked %d, worst daily PV "
      "difference %.0f Wh\n",
      static_cast<unsigned long long>(june_calls), polls, failed, refreshes.size(),
      gaps.empty() ? 0 : gaps[gaps.size() / 2], gaps.empty() ? 0 : gaps.back(), missing,
      ev_quarters.size(), days, worst);
  std::filesystem::remove(file);
}
