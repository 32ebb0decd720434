// The engine's services on a manual clock, against the simulators over real HTTP: gaps found
// after outages of the vendor and of sunbridge itself, filled from history where the vendor
// has it (KOSTAL's 5-minute log), recorded where it has not (sonnen v1), counters estimated
// across what is left; and the records served by the REST API.
// Just over ~700 lines on purpose: one manual-clock fixture serves them all.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <mutex>

#include "core/log.hpp"
#include "core/metric.hpp"
#include "core/test_time.hpp"
#include "engine/drivers.hpp"
#include "engine/gateway.hpp"
#include "loopback.hpp"
#include "net/http_server.hpp"
#include "net/json.hpp"
#include "net/test_io.hpp"
#include "outputs/rest/rest_api.hpp"
#include "vendors/foxess/simulator.hpp"
#include "vendors/kostal/simulator.hpp"
#include "vendors/sonnen/simulator.hpp"

using namespace sb;
using sb::test::at;
using namespace std::chrono;
namespace asio = boost::asio;

namespace {

template <class Pred>
bool eventually(Pred p, milliseconds limit = seconds(15)) {
  auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return p();
}

struct Services : ::testing::Test {
  // The clock outlives the I/O threads: a poll still running at teardown reads it.
  ManualClock clock{at("2026-06-15T08:00:00Z")};
  net::TestIo io{2};
  asio::thread_pool pool{2};
  net::HttpClient http{io.executor()};
  std::unique_ptr<store::Store> store = std::move(*store::open_sqlite(":memory:"));
  std::unique_ptr<engine::Gateway> gw;

  void start(ConnectionConfig c, std::vector<PvArray> pv = {}) {
    c.timeout = Millis(2000);
    auto cfg = test::one_site_config(c);
    cfg.sites[0].pv = std::move(pv);
    gw = std::make_unique<engine::Gateway>(
        engine::GatewayDeps{io.executor(), clock, *store, engine::builtin_drivers(), pool, http},
        std::move(cfg));
    ASSERT_TRUE(gw->start());
  }
  void stop_gateway() {
    gw->close(seconds(3));
    gw.reset();
    (void)store->flush();
  }
  void TearDown() override {
    if (gw) gw->close(seconds(5));  // the loops end before the pool goes
    pool.wait();
    store->close();
  }
  bool online(const std::string& device) {
    for (const auto& l : gw->live())
      if (l.device.id == device) return l.online;
    return false;
  }
  std::int64_t failures() {
    auto h = gw->health();
    return h.empty() ? 0 : h[0].consecutive_failures;
  }
  std::vector<Gap> gaps(const std::string& device, std::vector<std::string> statuses = {}) {
    auto g = store->gaps({.device = device, .statuses = std::move(statuses)});
    EXPECT_TRUE(g) << g.error().message;
    return g ? *g : std::vector<Gap>{};
  }
  std::optional<Gap> device_gap(const std::string& device) {
    for (const auto& g : gaps(device))
      if (g.metric.empty()) return g;
    return std::nullopt;
  }
  // Waits until the device's hole has been through backfill (no longer open).
  std::optional<Gap> settled_gap(const std::string& device) {
    std::optional<Gap> g;
    eventually([&] {
      g = device_gap(device);
      return g && g->status != "open";
    });
    return g;
  }
  std::vector<store::SeriesPoint> points(const std::string& device, std::string_view metric,
                                         TimeRange r) {
    (void)store->flush();
    auto h = store->history({device, std::string(metric), r});
    EXPECT_TRUE(h);
    return h ? *h : std::vector<store::SeriesPoint>{};
  }
};

// The REST API over the fixture's gateway and store on a loopback port; stopped when it goes.
struct RestApi {
  Services& f;
  asio::thread_pool pool{1};
  net::HttpServer server;
  explicit RestApi(Services& fixture)
      : f(fixture),
        server(f.io.executor(),
               rest::make_router(*f.gw, *f.store, pool, f.clock, {"t0123456789", true})) {}
  ~RestApi() {
    server.stop();
    pool.join();
  }
  bool listening() { return static_cast<bool>(server.listen("127.0.0.1", 0)); }
  net::HttpResponse get(const std::string& target) {
    auto r = f.io.run(f.http.request({"127.0.0.1", server.port(), false}, {"GET", target, {}, {}}));
    EXPECT_TRUE(r);
    return r ? *r : net::HttpResponse{};
  }
};

kostal::SimOptions fast_kostal() {
  kostal::SimOptions so;
  so.rounds = 1000;
  return so;
}

ConnectionConfig kostal_connection(std::uint16_t port) {
  auto c = test::loopback_connection("inv", "kostal", port, Millis(50));
  c.options["password"] = "owner-password";
  return c;
}

}  // namespace

TEST_F(Services, AnOutageOfTheInverterIsFoundAndFilledFromItsLog) {
  kostal::Simulator sim(io.executor(), clock, sim::SiteConfig{}, fast_kostal());
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  start(kostal_connection(sim.port()));
  const std::string dev = "inv:" + sim.options().serial;
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  auto before_outage = clock.now();

  sim.unavailable_for(hours(3));  // the SCB answers 503 for three hours
  ASSERT_TRUE(eventually([&] { return failures() >= 2; }));
  clock.advance(hours(3) + minutes(1));
  auto g = settled_gap(dev);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->from, before_outage);
  EXPECT_GE(g->to, before_outage + hours(3));
  EXPECT_NE(g->reason.find("no answer"), std::string::npos) << g->reason;
  EXPECT_NE(g->reason.find("503"), std::string::npos) << g->reason;
  // The log gives the powers and SoC every 5 minutes; the lifetime counters are not in it.
  EXPECT_EQ(g->status, "partial") << g->detail;
  EXPECT_GE(g->filled, 35 * 10);  // 36 rows, a dozen metrics each
  auto pv = points(dev, metric::kPvPower, {g->from + Millis(1), g->to});
  ASSERT_GE(pv.size(), 35u);
  for (const auto& p : pv) EXPECT_EQ(p.quality, Quality::Backfilled);
  for (std::size_t i = 1; i < pv.size(); ++i) EXPECT_LE(pv[i].time - pv[i - 1].time, minutes(5));
  auto soc = points(dev, metric::kBatterySoc, {g->from + Millis(1), g->to});
  EXPECT_GE(soc.size(), 35u);

  // What the log lacks is recorded per metric, and counters are estimated hour by hour.
  auto rows = gaps(dev);
  std::map<std::string, Gap> by_metric;
  for (const auto& r : rows)
    if (!r.metric.empty()) by_metric[r.metric] = r;
  EXPECT_FALSE(by_metric.contains(std::string(metric::kPvPower)));
  EXPECT_FALSE(by_metric.contains(std::string(metric::kBatterySoc)));
  ASSERT_TRUE(by_metric.contains(std::string(metric::kEnergyPvYield)));
  auto& yield = by_metric[std::string(metric::kEnergyPvYield)];
  EXPECT_EQ(yield.status, "estimated") << yield.detail;
  EXPECT_EQ(yield.parent, g->id);
  auto est = points(dev, metric::kEnergyPvYield, {g->from + Millis(1), g->to});
  ASSERT_EQ(est.size(), 3u);  // 09:00, 10:00, 11:00 between 08:00 and 11:01
  auto v0 = store->sample_at_or_before(dev, std::string(metric::kEnergyPvYield), g->from);
  auto v1 = store->sample_at_or_after(dev, std::string(metric::kEnergyPvYield), g->to);
  ASSERT_TRUE(v0 && *v0 && v1 && *v1);
  double last = (*v0)->value;
  for (const auto& p : est) {
    EXPECT_EQ(p.quality, Quality::Estimated);
    EXPECT_GE(p.value, last);  // monotonic, between the values either side
    EXPECT_LE(p.value, (*v1)->value);
    last = p.value;
  }
  auto health = gw->health()[0];
  EXPECT_EQ(health.gaps_found, 1);
  EXPECT_EQ(health.gaps_open, 0);
  EXPECT_EQ(health.samples_backfilled, g->filled);
  EXPECT_EQ(health.samples_estimated, 3 * 6);  // six counters, three hours each
  auto events = store->events({.device = dev});
  ASSERT_TRUE(events);
  EXPECT_TRUE(std::any_of(events->begin(), events->end(),
                          [](const Event& e) { return e.code == "history.gap"; }));

  // A replay of the same backfill (the gap opened again, a new gateway on the same store) adds
  // no sample and no record.
  auto count_all = [&] {
    std::size_t n = 0;
    for (auto m : {metric::kPvPower, metric::kBatterySoc, metric::kEnergyPvYield})
      n += points(dev, m, {g->from, g->to + Millis(1)}).size();
    return n;
  };
  auto n_before = count_all();
  auto rows_before = gaps(dev).size();
  stop_gateway();
  auto reopened = *g;
  reopened.status = "open";
  reopened.done_until = g->from;
  reopened.filled = 0;
  ASSERT_TRUE(store->update_gap(reopened));
  start(kostal_connection(sim.port()));
  auto again = settled_gap(dev);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, "partial");
  EXPECT_EQ(count_all(), n_before);
  EXPECT_EQ(gaps(dev).size(), rows_before);
  sim.stop();
}

TEST_F(Services, SunbridgesOwnDowntimeIsAGapToo) {
  kostal::Simulator sim(io.executor(), clock, sim::SiteConfig{}, fast_kostal());
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  start(kostal_connection(sim.port()));
  const std::string dev = "inv:" + sim.options().serial;
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  stop_gateway();
  auto stopped = clock.now();
  clock.advance(minutes(90));
  start(kostal_connection(sim.port()));
  auto g = settled_gap(dev);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->from, stopped);
  EXPECT_NE(g->reason.find("sunbridge was not running"), std::string::npos) << g->reason;
  EXPECT_EQ(points(dev, metric::kPvPower, {g->from + Millis(1), g->to}).size(),
            17u);  // 08:05 .. 09:25
  sim.stop();
}

TEST_F(Services, ABatteryWithoutHistoryHasItsGapRecordedAndServed) {
  sonnen::Simulator sim(io.executor(), clock, sim::SiteConfig{});
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto c = test::loopback_connection("bat", "sonnen", sim.port(), Millis(50));
  start(c);
  ASSERT_TRUE(eventually([&] { return online("bat:battery"); }));
  auto from = clock.now();
  sim.set_faults({.error_rate = 1.0});
  ASSERT_TRUE(eventually([&] { return !online("bat:battery"); }));
  clock.advance(minutes(3));  // short: no history resolution excuses it
  sim.set_faults({});
  auto g = settled_gap("bat:battery");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->from, from);
  EXPECT_EQ(g->status, "unfillable");
  EXPECT_NE(g->detail.find("sonnen offers no history"), std::string::npos) << g->detail;
  // Every metric its polls give has its own record of the hole.
  auto rows = gaps("bat:battery", {"unfillable"});
  std::set<std::string> metrics;
  for (const auto& r : rows)
    if (!r.metric.empty()) {
      metrics.insert(r.metric);
      EXPECT_EQ(r.from, from);
      EXPECT_EQ(r.parent, g->id);
    }
  for (auto m : {metric::kBatteryPower, metric::kBatterySoc, metric::kPvPower, metric::kLoadPower})
    EXPECT_TRUE(metrics.contains(std::string(m))) << m;
  EXPECT_FALSE(metrics.contains(std::string(metric::kDeviceOnline)));

  // The REST API serves them, filters by status and names a bad filter.
  RestApi api(*this);
  ASSERT_TRUE(api.listening());
  auto get = [&](const std::string& target) { return api.get(target); };
  auto all = get("/api/v1/gaps?device=bat:battery");
  ASSERT_EQ(all.status, 200);
  auto arr = boost::json::parse(all.body).as_array();
  EXPECT_EQ(arr.size(), rows.size());
  bool found_device_row = false;
  for (const auto& v : arr) {
    auto o = v.as_object();
    if (o.at("metric").is_null()) {
      found_device_row = true;
      EXPECT_EQ(o.at("status").as_string(), "unfillable");
      EXPECT_EQ(o.at("seconds").as_int64(), 180);
      EXPECT_EQ(o.at("from").as_string(), format_iso8601(from));
      // An ended gap: how far backfill came, and no end to expect.
      EXPECT_TRUE(o.at("progress").is_number()) << boost::json::serialize(o);
      EXPECT_TRUE(o.at("estimated_end").is_null()) << boost::json::serialize(o);
    }
  }
  EXPECT_TRUE(found_device_row);
  EXPECT_EQ(boost::json::parse(get("/api/v1/gaps?status=open").body).as_array().size(), 0u);
  auto bad = get("/api/v1/gaps?status=closed");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("status 'closed' is not one of open"), std::string::npos) << bad.body;
  auto health = boost::json::parse(get("/api/v1/health").body).as_object();
  auto conn = health["connections"].as_array()[0].as_object();
  EXPECT_EQ(conn["gaps"].as_object()["found"].as_int64(), 1);
  sim.stop();
}

// A day whose PV fell far below what the site's arrays give under a clear sky raises
// site.pv_low, at the first hourly check after the site's midnight, stamped at the day's end.
TEST_F(Services, ADayFarBelowTheClearSkyRaisesAnEvent) {
  clock.set(at("2026-06-15T21:30:00Z"));  // 23:30 in Berlin
  kostal::Simulator sim(io.executor(), clock, sim::SiteConfig{}, fast_kostal());
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  start(kostal_connection(sim.port()), {{100'000, 180, 30}});  // 100 kWp said; 8 kWp there
  const std::string dev = "inv:" + sim.options().serial;
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  std::vector<store::SeriesPoint> pv;
  auto stored = [&] {
    pv = points(dev, metric::kEnergyPvYield, {clock.now() - hours(1), clock.now() + Millis(1)});
    return !pv.empty() && pv.back().time == clock.now();
  };
  ASSERT_TRUE(eventually(stored));
  // The inverter's count at the day's start, as if sunbridge had run all day: 5 kWh less.
  ASSERT_TRUE(store->write_samples({{dev, std::string(metric::kEnergyPvYield),
                                     at("2026-06-14T21:58:00Z"), pv.back().value - 5'000}}));
  clock.set(at("2026-06-15T21:50:00Z"));  // polls near the day's end
  ASSERT_TRUE(eventually(stored));
  clock.set(at("2026-06-15T22:05:00Z"));  // 00:05 on the 16th in Berlin: a new hour, a new day
  std::vector<Event> low;
  ASSERT_TRUE(eventually(
      [&] {
        auto e = store->events({.device = std::string("site:home")});
        low.clear();
        if (e)
          for (const auto& x : *e)
            if (x.code == "site.pv_low") low.push_back(x);
        return !low.empty();
      },
      seconds(30)));
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(low[0].time, at("2026-06-15T22:00:00Z"));
  EXPECT_EQ(low[0].severity, Severity::Warning);
  EXPECT_TRUE(low[0].message.starts_with(
      "PV lower than expected on 2026-06-15 (site home): 5.0 kWh against "))
      << low[0].message;
  // The clock's jumps left holes whose backfill is still under way: done before the test ends.
  EXPECT_TRUE(eventually([&] {
    auto g = gaps(dev);
    return std::none_of(g.begin(), g.end(), [](const Gap& x) { return x.status == "open"; });
  }));
  sim.stop();
}

// The site's own history over HTTP: its power curve on its own midnight and round buckets, its
// CSV export, sums rounded for people, and each bad parameter named.
TEST_F(Services, ASitesPowerCurveAndExportAreServedOnItsOwnBoundaries) {
  sonnen::Simulator sim(io.executor(), clock, sim::SiteConfig{});
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  start(test::loopback_connection("bat", "sonnen", sim.port(), Millis(50)));
  ASSERT_TRUE(eventually([&] { return online("bat:battery"); }));
  ASSERT_TRUE(eventually([&] {
    return !points("bat:battery", metric::kPvPower,
                   {clock.now() - hours(1), clock.now() + hours(1)})
                .empty();
  }));
  RestApi api(*this);
  ASSERT_TRUE(api.listening());
  auto get = [&](const std::string& target) { return api.get(target); };
  // Today so far (08:00 UTC is 10:00 in Berlin): from Berlin's midnight in 2-minute buckets.
  auto power = get("/api/v1/sites/home/power");
  ASSERT_EQ(power.status, 200) << power.body;
  auto p = boost::json::parse(power.body).as_object();
  EXPECT_EQ(p["from"], "2026-06-14T22:00:00Z");
  EXPECT_EQ(p["step_s"], 120);
  EXPECT_EQ(p["columns"].as_array()[1], "pv.power");
  const auto& rows = p["points"].as_array();
  ASSERT_EQ(rows.size(), 300u);  // 22:00 .. 08:00; the bucket at 08:00 starts at `to`
  EXPECT_TRUE(rows.front().as_array()[1].is_null());  // nothing stored at midnight
  // The same figure the live view sums, to 0.1 W.
  auto live = boost::json::parse(get("/api/v1/live").body).as_object();
  double pv_now = live["sites"].as_object()["home"].as_object()["pv.power"].to_number<double>();
  EXPECT_DOUBLE_EQ(std::round(pv_now * 10) / 10, pv_now);
  auto curve = get("/api/v1/sites/home/power?from=2026-06-15T07:53:00Z&to=2026-06-15T08:10:00Z");
  ASSERT_EQ(curve.status, 200) << curve.body;
  auto c = boost::json::parse(curve.body).as_object();
  EXPECT_EQ(c["from"], "2026-06-15T07:53:00Z");
  EXPECT_EQ(c["step_s"], 60);
  auto at8 = c["points"].as_array()[7].as_array();
  EXPECT_EQ(at8[0].as_int64(), to_ms(at("2026-06-15T08:00:00Z")));
  EXPECT_NEAR(at8[1].to_number<double>(), pv_now, 1.0);
  EXPECT_EQ(boost::json::serialize(c["peak"].as_object()["pv.power"].as_object()["at"]),
            "\"2026-06-15T08:00:00Z\"");

  // A device's history in 15-minute buckets asked from 07:07: the buckets start at 07:00.
  auto hist = get(
      "/api/v1/devices/bat:battery/history?metric=pv.power&from=2026-06-15T07:07:00Z&to=2026-06-"
      "15T08:30:00Z&step=15m");
  ASSERT_EQ(hist.status, 200) << hist.body;
  EXPECT_EQ(boost::json::parse(hist.body).as_object()["from"], "2026-06-15T07:00:00Z");

  auto csv = get("/api/v1/sites/home/export?from=2026-06-15T07:00:00Z&to=2026-06-15T09:00:00Z");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.header("Content-Disposition"),
            "attachment; filename=\"sunbridge-home-2026-06-15-2026-06-15.csv\"");
  EXPECT_TRUE(csv.body.starts_with("time_utc,time_local,bat:battery ac.voltage (V),"))
      << csv.body.substr(0, 200);
  EXPECT_NE(csv.body.find(",bat:battery battery.power (W),"), std::string::npos);
  EXPECT_NE(csv.body.find("\r\n2026-06-15T08:00:00Z,2026-06-15 10:00:00,"), std::string::npos)
      << csv.body.substr(0, 400);

  struct Bad {
    std::string target;
    int status;
    std::string says;
  };
  for (const auto& b : std::vector<Bad>{
           {"/api/v1/sites/nowhere/power", 404, "unknown site 'nowhere' (known: home)"},
           {"/api/v1/sites/nowhere/export", 404, "unknown site 'nowhere' (known: home)"},
           {"/api/v1/sites/home/power?step=0s", 400, "'step' = '0s'"},
           {"/api/v1/sites/home/power?from=yesterday", 400, "'from' = 'yesterday'"},
           {"/api/v1/sites/home/power?from=2026-01-01&step=1m", 400, "over 20000 points"},
           {"/api/v1/sites/home/export?format=xlsx", 400, "'format' = 'xlsx' must be csv"},
           {"/api/v1/sites/home/export?from=2026-05-01", 400, "give a step"},
           {"/api/v1/sites/home/energy?period=week", 400, "must be day, month or year"}}) {
    auto r = get(b.target);
    EXPECT_EQ(r.status, b.status) << b.target << ": " << r.body;
    EXPECT_NE(r.body.find(b.says), std::string::npos) << b.target << ": " << r.body;
  }
  sim.stop();
}

// A cloud that keeps serving an inverter's last upload: the device answers, but its values get
// older; past three of the vendor's updates it is reported unavailable with its values marked
// stale, and it comes back when its values are new again (with the hole as a gap).
TEST_F(Services, AnInverterWhoseValuesStopChangingIsReportedStaleNotCurrent) {
  foxess::SimOptions so;
  so.plants = foxess::make_account(1, 1);
  so.query_gap = so.write_gap = Millis(0);
  foxess::Simulator sim(io.executor(), clock, so);
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto c = test::loopback_connection("fox", "foxess", sim.port(), Millis(50));
  c.options["api_key"] = so.api_key;
  start(c);
  const std::string sn = so.plants[0].inverters[0].sn, dev = "fox:" + sn;
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  auto live_of = [&] {
    for (const auto& l : gw->live())
      if (l.device.id == dev) return l;
    return DeviceLive{};
  };
  sim.stop_uploading(sn, true);
  // One more fetch after the stop: the cloud keeps that upload from now on.
  clock.advance(minutes(1));
  auto frozen_at = clock.now();
  ASSERT_TRUE(eventually([&] {
    auto l = live_of();
    return l.last_success && *l.last_success >= frozen_at;
  }));
  auto n = sim.requests();     // before the step, which releases the next fetch
  clock.advance(minutes(10));  // ten minutes old: within three 5-minute uploads
  ASSERT_TRUE(eventually([&] { return sim.requests() > n; }));
  EXPECT_TRUE(online(dev));
  clock.advance(minutes(10));  // twenty minutes old: stale
  ASSERT_TRUE(eventually([&] { return live_of().stale; }));
  auto l = live_of();
  EXPECT_FALSE(l.online);
  ASSERT_FALSE(l.values.empty());
  for (const auto& v : l.values) EXPECT_EQ(v.quality, Quality::Stale) << v.metric;
  EXPECT_EQ(*l.last_success, frozen_at);  // the values' own time, not the poll's
  // The event is recorded just after the live values turn stale: wait for it to be stored.
  auto has = [&](std::string_view code) {
    (void)store->flush();
    auto events = store->events({.device = dev});
    return events && std::any_of(events->begin(), events->end(),
                                 [&](const Event& e) { return e.code == code; });
  };
  EXPECT_TRUE(eventually([&] { return has("device.stale"); }));

  sim.stop_uploading(sn, false);
  clock.advance(minutes(1));
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  EXPECT_FALSE(live_of().stale);
  // The 22 minutes without new values are a gap, filled from the cloud's history.
  auto g = settled_gap(dev);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->from, frozen_at);
  EXPECT_EQ(g->reason, "no new values from the device");
  EXPECT_GT(g->filled, 0) << g->detail;
  EXPECT_TRUE(eventually([&] { return has("device.fresh"); }));
  sim.stop();
}

// The hour's energy of a KOSTAL site balances (the simulated site keeps it): judged once, not
// flagged; served by the health endpoint's sites.
TEST_F(Services, EachWholeHourOfASiteIsCheckedForItsEnergyBalance) {
  clock.set(at("2026-06-15T09:50:00Z"));
  kostal::Simulator sim(io.executor(), clock, sim::SiteConfig{}, fast_kostal());
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  start(kostal_connection(sim.port()));
  const std::string dev = "inv:" + sim.options().serial;
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  auto polled_now = [&] {
    for (const auto& l : gw->live())
      if (l.device.id == dev && l.last_success && *l.last_success == clock.now()) return true;
    return false;
  };
  // Polls every five minutes up to 11:05: 10:00..11:00 is the first whole hour.
  while (clock.now() < at("2026-06-15T11:05:00Z")) {
    clock.advance(minutes(5));
    ASSERT_TRUE(eventually(polled_now));
  }
  // 09:00..10:00 (sunbridge started at 09:50) is judged not checkable at 10:00; the check of
  // 10:00..11:00 runs off the I/O thread after the 11:00 poll: wait for that one (a loaded
  // machine finished the loop above before it).
  ASSERT_TRUE(eventually([&] {
    auto q = gw->quality();
    return !q.empty() && q[0].last_window == at("2026-06-15T10:00:00Z");
  }));
  auto q = gw->quality()[0];
  EXPECT_EQ(q.balance_uncheckable, 1) << q.last_result;
  EXPECT_EQ(q.site, "home");
  EXPECT_EQ(q.balance_checks, 1) << q.last_result;
  EXPECT_EQ(q.balance_flagged, 0) << q.last_result;
  EXPECT_EQ(*q.last_window, at("2026-06-15T10:00:00Z"));
  EXPECT_GT(q.last_in_wh, 100) << q.last_result;  // a June morning: the PV yields
  EXPECT_NEAR(q.last_in_wh, q.last_out_wh, 0.05 * q.last_in_wh) << q.last_result;
  sim.stop();
}

namespace {

Command min_soc(double percent, std::optional<seconds> duration, std::string who = "test") {
  Command c;
  c.device = "";
  c.type = CommandType::MinSoc;
  c.value = percent;
  c.duration = duration;
  c.requested_by = std::move(who);
  return c;
}

}  // namespace

// A setting given for a while is held, refuses what would conflict with it, and gets its old
// value back when the time is up, when sunbridge stops, and at the next start after a crash.
TEST_F(Services, ASettingWithADurationIsHandedBackWhenItEndsWhenSunbridgeStopsAndAfterACrash) {
  kostal::Simulator sim(io.executor(), clock, sim::SiteConfig{}, fast_kostal());
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  start(kostal_connection(sim.port()));
  const std::string dev = "inv:" + sim.options().serial;
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  auto reserve = [&] { return sim.setting("devices:local", "Battery:MinSoc"); };
  ASSERT_EQ(reserve(), "5");
  auto run = [&](Command c) {
    c.device = dev;
    return io.run(gw->execute(c));
  };
  auto active = [&] {
    auto l = store->leases(true, 10);
    EXPECT_TRUE(l);
    return l ? *l : std::vector<Lease>{};
  };

  // 1. Held for 30 minutes, then handed back.
  auto held = run(min_soc(40, minutes(30)));
  ASSERT_TRUE(held) << held.error().message;
  EXPECT_EQ(held->status, "verified");
  EXPECT_NE(held->detail.find("held until 2026-06-15T08:30:00Z, then handed back (lease 1)"),
            std::string::npos)
      << held->detail;
  EXPECT_EQ(reserve(), "40");
  ASSERT_EQ(active().size(), 1u);
  EXPECT_EQ(active()[0].restore, "5");
  auto refused = run(min_soc(60, std::nullopt, "other"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Conflict);
  EXPECT_EQ(refused.error().message,
            dev +
                " is held by min-soc 40 by test until 2026-06-15T08:30:00Z (lease 1); send "
                "release to end it first");
  EXPECT_EQ(reserve(), "40");
  clock.advance(minutes(31));
  ASSERT_TRUE(eventually([&] { return active().empty(); }));
  EXPECT_EQ(reserve(), "5");
  auto ended = store->leases(false, 10);
  ASSERT_TRUE(ended && ended->size() == 1);
  EXPECT_EQ((*ended)[0].state, "released");
  EXPECT_NE((*ended)[0].detail.find("its time was up; handed back"), std::string::npos)
      << (*ended)[0].detail;
  auto audit = store->commands({.devices = {dev}, .limit = 10});
  ASSERT_TRUE(audit && !audit->empty());
  EXPECT_EQ((*audit)[0].requested_by, "lease:1");  // the hand-back is audited too
  EXPECT_EQ((*audit)[0].value, 5);
  EXPECT_EQ((*audit)[0].status, "verified");

  // 2. sunbridge stops while it holds: handed back on the way out.
  ASSERT_TRUE(run(min_soc(30, hours(2))));
  EXPECT_EQ(reserve(), "30");
  stop_gateway();
  EXPECT_EQ(reserve(), "5");
  EXPECT_TRUE(active().empty());

  // 3. sunbridge dies while it holds (no close): the next start hands it back.
  start(kostal_connection(sim.port()));
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  ASSERT_TRUE(run(min_soc(50, hours(2))));
  EXPECT_EQ(reserve(), "50");
  gw->stop();  // polling ends, nothing is handed back: as good as a kill for the lease
  std::this_thread::sleep_for(200ms);
  gw.reset();
  EXPECT_EQ(reserve(), "50");
  ASSERT_EQ(active().size(), 1u);
  start(kostal_connection(sim.port()));
  ASSERT_TRUE(eventually([&] { return active().empty(); }));
  EXPECT_EQ(reserve(), "5");
  auto last = store->leases(false, 1);
  ASSERT_TRUE(last && last->size() == 1);
  EXPECT_EQ((*last)[0].state, "released");
  EXPECT_NE((*last)[0].detail.find("found active at start"), std::string::npos);

  // 4. A release ends a setting's lease early, although the inverter has no release of its own.
  ASSERT_TRUE(run(min_soc(45, hours(1))));
  EXPECT_EQ(reserve(), "45");
  Command release;
  release.type = CommandType::Release;
  release.requested_by = "owner";
  auto early = run(release);
  ASSERT_TRUE(early) << early.error().message;
  EXPECT_EQ(early->status, "verified");
  EXPECT_EQ(early->requested_by, "owner");
  EXPECT_EQ(reserve(), "5");
  EXPECT_TRUE(active().empty());
  auto latest = store->leases(false, 1);
  ASSERT_TRUE(latest && latest->size() == 1);
  EXPECT_EQ((*latest)[0].state, "released");
  EXPECT_NE((*latest)[0].detail.find("ended early by owner"), std::string::npos);

  // Commands that cannot be held say so.
  Command plan;
  plan.type = CommandType::TimeControl;
  plan.argument = "off";
  plan.duration = minutes(10);
  auto no = run(plan);
  ASSERT_FALSE(no);
  EXPECT_EQ(no.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(no.error().message.find("time-control takes no duration"), std::string::npos);
  sim.stop();
}

// "Charge at 2 kW for 30 minutes" on a sonnenBatterie over API v2: manual mode for the lease,
// the setpoint written again before the battery forgets it, the operating mode it had handed
// back when the time is up, and after sunbridge was killed mid-lease, at the next start.
TEST_F(Services, ASetpointLeaseOnSonnenV2IsKeptAliveAndHandsBackTheOperatingMode) {
  sonnen::SimOptions so;
  so.token = "v2-token-0123456789";
  so.setpoint_timeout = seconds(60);  // this firmware forgets a setpoint after a minute
  sonnen::Simulator sim(io.executor(), clock, sim::SiteConfig{}, sim::FaultSpec{}, so);
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto conn = test::loopback_connection("bat", "sonnen", sim.port(), Millis(50));
  conn.options["token"] = so.token;
  conn.options["setpoint_keepalive"] = "20";
  conn.options["verify_timeout"] = "3";
  start(conn);
  ASSERT_TRUE(eventually([&] { return online("bat:battery"); }));
  ASSERT_EQ(sim.configuration("EM_OperatingMode"), "2");
  auto battery_w = [&] { return sim.with_site([](sim::Site& s) { return s.state().battery_w; }); };
  Command charge;
  charge.device = "bat:battery";
  charge.type = CommandType::BatteryPower;
  charge.value = -2000;
  charge.duration = minutes(30);
  charge.requested_by = "test";
  auto rec = io.run(gw->execute(charge));
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->status, "verified") << rec->detail;
  EXPECT_EQ(sim.configuration("EM_OperatingMode"), "1");
  auto active = [&] {
    auto l = store->leases(true, 10);
    return l ? *l : std::vector<Lease>{};
  };
  ASSERT_EQ(active().size(), 1u);
  EXPECT_EQ(active()[0].restore, "EM_OperatingMode=2");
  // Three minutes in 10-second steps: without the keep-alive the battery would stop after one.
  // (Counted before the step: the polls it releases may all be answered before the count.)
  for (int i = 0; i < 18; ++i) {
    auto n = sim.requests();
    clock.advance(seconds(10));
    ASSERT_TRUE(eventually([&] { return sim.requests() > n + 1; }));
  }
  EXPECT_NEAR(battery_w(), -2000, 1);
  EXPECT_EQ(sim.configuration("EM_OperatingMode"), "1");
  clock.advance(minutes(28));
  ASSERT_TRUE(eventually([&] { return active().empty(); }));
  EXPECT_EQ(sim.configuration("EM_OperatingMode"), "2");
  EXPECT_FALSE(sim.with_site([](sim::Site& s) { return s.battery_setpoint().has_value(); }));

  // Killed mid-lease: the next start hands the battery back to its own mode.
  auto tou = io.run(gw->execute(
      {"bat:battery", CommandType::BatteryStrategy, 0, std::nullopt, "test", "time-of-use"}));
  ASSERT_TRUE(tou && tou->status == "verified");
  rec = io.run(gw->execute(charge));
  ASSERT_TRUE(rec && rec->status == "verified");
  EXPECT_EQ(sim.configuration("EM_OperatingMode"), "1");
  gw->stop();
  std::this_thread::sleep_for(200ms);
  gw.reset();
  EXPECT_EQ(sim.configuration("EM_OperatingMode"), "1");
  start(conn);
  ASSERT_TRUE(eventually([&] { return active().empty(); }));
  EXPECT_EQ(sim.configuration("EM_OperatingMode"), "10");  // time of use, as it was
  sim.stop();
}

// A restart of a minute leaves a hole shorter than the KOSTAL log's five minutes: expected,
// not a gap (it gave 33 "unfillable" rows, one per metric); a longer one is still a gap.
TEST_F(Services, AHoleShorterThanTheVendorsHistoryStepIsNoGap) {
  kostal::Simulator sim(io.executor(), clock, sim::SiteConfig{}, fast_kostal());
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  start(kostal_connection(sim.port()));
  const std::string dev = "inv:" + sim.options().serial;
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  stop_gateway();
  clock.advance(seconds(63));
  start(kostal_connection(sim.port()));
  ASSERT_TRUE(eventually([&] { return online(dev); }));
  // The first poll after the restart has been judged once the backfiller knows the device.
  ASSERT_TRUE(eventually([&] { return gw->health()[0].polls >= 3; }));
  EXPECT_TRUE(gaps(dev).empty());
  stop_gateway();
  clock.advance(minutes(6));
  start(kostal_connection(sim.port()));
  auto g = settled_gap(dev);
  ASSERT_TRUE(g);
  EXPECT_NE(g->reason.find("sunbridge was not running"), std::string::npos) << g->reason;
  sim.stop();
}

// Another process holds the database (an exclusive lock, as a backup tool or `sqlite3` takes)
// while the queue behind it overflows: the samples the store could not keep are a gap in the
// history, not only a counter (46 samples vanished without a record).
TEST(StoreHeldByAnotherProcess, SamplesTheStoreCouldNotKeepBecomeAGap) {
  // The clock outlives the I/O threads: a poll still running at teardown reads it.
  ManualClock clock{at("2026-06-15T08:00:00Z")};
  net::TestIo io{2};
  asio::thread_pool pool{2};
  net::HttpClient http{io.executor()};
  auto dir =
      std::filesystem::temp_directory_path() / ("sunbridge-locked-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto file = (dir / "s.db").string();
  store::SqliteOptions so;
  so.queue_capacity = 100;  // a few polls' worth: the lock overflows it
  auto store = std::move(*store::open_sqlite(file, so));
  sonnen::Simulator sim(io.executor(), clock, sim::SiteConfig{});
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto c = test::loopback_connection("bat", "sonnen", sim.port(), Millis(50));
  c.timeout = Millis(2000);
  engine::Gateway gw({io.executor(), clock, *store, engine::builtin_drivers(), pool, http},
                     test::one_site_config(c));
  ASSERT_TRUE(gw.start());
  ASSERT_TRUE(eventually([&] {
    auto l = gw.live();
    return !l.empty() && l[0].online;
  }));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &other), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> close_other{other, sqlite3_close};
  // The gateway's writer may be inside a transaction at this moment (a slow sanitizer build
  // makes that likely): wait for it, as `sqlite3` with a busy timeout would.
  sqlite3_busy_timeout(other, 60'000);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto locked_at = clock.now();
  ASSERT_TRUE(eventually(
      [&] {
        clock.advance(seconds(1));
        return store->stats().samples_dropped > 0;
      },
      seconds(60)));
  auto released_at = clock.now();
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  close_other.reset();
  std::optional<Gap> g;
  ASSERT_TRUE(eventually(
      [&] {
        auto all = store->gaps({.device = "bat:battery"});
        if (all)
          for (const auto& x : *all)
            if (x.metric.empty() && x.reason.find("could not be stored") != std::string::npos)
              g = x;
        return g.has_value();
      },
      seconds(60)));
  EXPECT_GE(g->from, locked_at - Millis(1));
  EXPECT_LE(g->to, released_at + Millis(1));
  EXPECT_NE(g->reason.find("samples could not be stored: store queue full"), std::string::npos)
      << g->reason;
  gw.close(seconds(3));
  pool.wait();
  store->close();
  sim.stop();
  std::filesystem::remove_all(dir);
}

// What an operator reads in the journal (16 minutes of failing polls left nothing): an outage
// once when it starts, a summary every quarter hour while it lasts, its end with its length;
// the offline device and the gap as events; never a line per poll.
TEST_F(Services, AnOutageIsLoggedOnceThenEveryQuarterHourAndItsEndWithItsLength) {
  std::mutex m;
  std::vector<std::string> lines;
  set_log_sink([&](LogLevel, std::string_view line) {
    std::lock_guard lock(m);
    lines.emplace_back(line);
  });
  auto count = [&](std::string_view what) {
    std::lock_guard lock(m);
    return std::count_if(lines.begin(), lines.end(),
                         [&](const std::string& l) { return l.find(what) != std::string::npos; });
  };
  sonnen::Simulator sim(io.executor(), clock, sim::SiteConfig{});
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  start(test::loopback_connection("bat", "sonnen", sim.port(), Millis(50)));
  ASSERT_TRUE(eventually([&] { return online("bat:battery"); }));
  sim.set_faults({.error_rate = 1.0});
  ASSERT_TRUE(eventually([&] { return failures() >= 10; }));
  clock.advance(minutes(16));
  ASSERT_TRUE(eventually([&] { return count("still failing after 16 min") == 1; }));
  sim.set_faults({});
  ASSERT_TRUE(eventually([&] { return count("answers again after 16 min") == 1; }));
  set_log_sink({});
  EXPECT_EQ(count("level=warning component=gateway connection=bat msg=\"poll failed: "), 1);
  EXPECT_EQ(count("still failing"), 1);
  EXPECT_EQ(count("level=warning component=device connection=bat msg=\"device.offline: "), 1);
  EXPECT_EQ(count("level=info component=gateway connection=bat msg=\"answers again after 16 min"),
            1);
  sim.stop();
}

// A wrong password is an error in the log, once, with what to do about it.
TEST_F(Services, RefusedCredentialsAreAnErrorInTheLogWithWhatToDo) {
  std::mutex m;
  std::vector<std::string> lines;
  set_log_sink([&](LogLevel level, std::string_view line) {
    std::lock_guard lock(m);
    if (level == LogLevel::Error) lines.emplace_back(line);
  });
  kostal::Simulator sim(io.executor(), clock, sim::SiteConfig{}, fast_kostal());
  ASSERT_TRUE(sim.listen("127.0.0.1", 0));
  auto c = kostal_connection(sim.port());
  c.options["password"] = "wrong-password";
  start(c);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return !lines.empty();
  }));
  set_log_sink({});
  std::lock_guard lock(m);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("level=error component=gateway connection=inv msg=\"credentials refused: "
                          "auth: KOSTAL login as 'user': the device refused the password"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("(then reload: systemctl reload sunbridge, or SIGHUP)"),
            std::string::npos)
      << lines[0];
  sim.stop();
}
