// The soak harness: a simulated day (accelerated) of the five vendor simulators under a fault
// plan, polled by `sunbridge run` on the same simulated time, which is restarted (SIGTERM, and
// once SIGKILL) along the way. The simulators live in this process, so the plan reaches them
// directly (outages, 429 storms, sessions ended, tokens revoked, cut bodies) and the harness
// reads what really happened on each site. At the end it checks, and prints as a table:
//   - 0 crashes (every exit of the gateway was one the harness asked for);
//   - 0 duplicate samples, and every lifetime counter monotonic;
//   - no gap left open: backfilled where the vendor keeps history, recorded where it does not;
//   - the day's energy per site against the simulator's own (within 0.5 %, or the vendor's
//     counter resolution where that is coarser);
//   - no vendor limit ever exceeded (calls refused for one, counted at the simulators);
//   - memory flat: the last gateway's RSS at the end within 10 % of its first hour's.
//
// SB_SOAK_SPEED (720 by default: the day in 2 minutes; `make soak` runs 60) and
// SB_SOAK_LOCAL_POLL (seconds between polls of the local devices, 30 by default; `make soak` 10).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cli/vendors.hpp"
#include "core/calendar.hpp"
#include "e2e_support.hpp"
#include "net/json.hpp"
#include "ports.hpp"
#include "process.hpp"
#include "vendors/enphase/simulator.hpp"
#include "vendors/foxess/simulator.hpp"
#include "vendors/kostal/simulator.hpp"
#include "vendors/solarlog/plant_model.hpp"
#include "vendors/solarlog/simulator.hpp"
#include "vendors/sonnen/simulator.hpp"

using namespace sb;
using namespace std::chrono;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const std::string kBin = SUNBRIDGE_BINARY;

// The three figures of a day the check compares, Wh.
struct Energy {
  double pv = 0, import = 0, export_ = 0;
};
Energy of(const sim::Counters& c) {
  return {c.pv_wh, c.grid_import_wh, c.grid_export_wh};
}
Energy operator-(Energy a, Energy b) {
  return {a.pv - b.pv, a.import - b.import, a.export_ - b.export_};
}

// A home's lifetime energy read now, for the vendors whose simulators keep it as it runs
// (KOSTAL, sonnen, FoxESS); sampled around each local midnight and interpolated to it.
struct MidnightSampler {
  std::string site;
  Calendar calendar;
  std::function<Energy()> read;
  std::map<std::int64_t, Energy> at;  // local midnight (ms) -> lifetime energy then
  std::optional<std::pair<TimePoint, Energy>> last;

  void sample(const Clock& clock) {
    auto e = read();
    auto t = clock.now();
    if (last && calendar.midnight(t) > last->first) {
      auto m = calendar.midnight(t);
      double k = double((m - last->first).count()) / double((t - last->first).count());
      const auto& p = last->second;
      at[to_ms(m)] = {p.pv + (e.pv - p.pv) * k, p.import + (e.import - p.import) * k,
                      p.export_ + (e.export_ - p.export_) * k};
    }
    last = {t, e};
  }
};

long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

// The gateway as a service runs it: `sunbridge run` on the shared simulated time, its log to a
// file (a pipe nobody reads would fill and stall it).
struct Gateway {
  std::unique_ptr<test::Process> process;
  TimePoint started;  // simulated
  long first_hour_rss = 0, rss = 0;
};

std::unique_ptr<test::Process> start_gateway(const fs::path& config, const fs::path& log,
                                             double speed, const std::string& origin) {
  return std::make_unique<test::Process>(std::vector<std::string>{
      "/bin/sh", "-c", "exec \"$0\" \"$@\" >>'" + log.string() + "' 2>&1", kBin, "run", "-c",
      config.string(), "--speed", net::number_text(speed), "--origin", origin});
}

std::string tail_of(const fs::path& log, std::size_t lines = 15) {
  std::ifstream f(log);
  std::vector<std::string> all;
  for (std::string l; std::getline(f, l);) all.push_back(l);
  std::string out;
  for (auto i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += all[i] + "\n";
  return out;
}

std::string yaml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

std::string duration_yaml(Millis d) {
  return std::to_string(d.count()) + "ms";
}

}  // namespace

TEST(Soak, ADayOfFaultsLeavesHistoryWholeCountersMonotonicAndBudgetsKept) {
  const double speed = test::env_number("SB_SOAK_SPEED", 720);
  const Millis local_poll(
      static_cast<std::int64_t>(test::env_number("SB_SOAK_LOCAL_POLL", 30) * 1000));
  ASSERT_GT(speed, 1);
  auto dir = test::temp_dir("soak");
  const auto db = dir / "soak.db", config = dir / "soak.yaml", log = dir / "gateway.log";

  // Simulated time starts half an hour before a local midnight (Berlin; every demo home is on
  // Central European time), so the day after it is whole: at wall time w it reads
  // origin + (w - origin) * speed, here and in every gateway the harness starts.
  RealClock wall;
  Calendar berlin("Europe/Berlin");
  const auto now = wall.now();
  const TimePoint day = berlin.next_midnight(now + hours(1));
  const TimePoint start = day - minutes(30);
  const auto origin =
      now - Millis(static_cast<std::int64_t>(double((start - now).count()) / (speed - 1)));
  const auto origin_text = format_iso8601(origin);
  ScaledClock clock = ScaledClock::on_timeline(origin, speed, now);
  std::printf("soak: speed %gx, simulated %s to %s, origin %s, folder %s\n", speed,
              format_iso8601(start).c_str(), format_iso8601(day + hours(24)).c_str(),
              origin_text.c_str(), dir.c_str());

  // The five demo homes on that time: the clouds' tokens, quotas and signatures too.
  boost::asio::io_context sim_io;
  auto work = boost::asio::make_work_guard(sim_io);
  sim::DemoRequest request{sim_io.get_executor(), &clock, &clock, 11, {}, db.string()};
  std::vector<sim::DemoHome> homes;
  for (const auto& v : cli::vendors()) {
    auto home = v.demo(request);
    ASSERT_TRUE(home) << v.name << ": " << home.error().message;
    homes.push_back(std::move(*home));
  }
  std::vector<std::thread> sim_threads;
  for (int i = 0; i < 2; ++i) sim_threads.emplace_back([&] { sim_io.run(); });
  struct Stop {
    std::function<void()> f;
    ~Stop() { f(); }
  } stop_sims{[&] {
    for (auto& h : homes) h.simulator->stop();
    work.reset();
    sim_io.stop();
    for (auto& t : sim_threads)
      if (t.joinable()) t.join();
  }};
  std::map<std::string, sim::DemoHome*> by_vendor;
  for (std::size_t i = 0; i < homes.size(); ++i) by_vendor[cli::vendors()[i].name] = &homes[i];
  auto* kostal = dynamic_cast<kostal::Simulator*>(by_vendor.at("kostal")->simulator.get());
  auto* sonnen = dynamic_cast<sonnen::Simulator*>(by_vendor.at("sonnen")->simulator.get());
  auto* foxess = dynamic_cast<foxess::Simulator*>(by_vendor.at("foxess")->simulator.get());
  auto* enphase = dynamic_cast<enphase::Simulator*>(by_vendor.at("enphase")->simulator.get());
  auto* solarlog = dynamic_cast<solarlog::Simulator*>(by_vendor.at("solarlog")->simulator.get());
  ASSERT_TRUE(kostal && sonnen && foxess && enphase && solarlog);

  // The configuration a user would write for these homes.
  const auto port = test::free_port();
  {
    std::ofstream y(config);
    y << "gateway:\n  listen: 127.0.0.1:" << port << "\n  database: " << yaml_quote(db.string())
      << "\n  api_token: " << sim::random_hex(32) << "\nlog:\n  level: info\nsites:\n";
    for (const auto& h : homes) {
      y << "  - id: " << h.site.id << "\n    name: " << yaml_quote(h.site.name)
        << "\n    latitude: " << h.site.latitude << "\n    longitude: " << h.site.longitude
        << "\n    timezone: " << h.site.timezone << "\n    pv:\n";
      for (const auto& a : h.site.pv)
        y << "      - {peak_kw: " << a.peak_w / 1000 << ", azimuth: " << a.azimuth_deg
          << ", tilt: " << a.tilt_deg << "}\n";
    }
    y << "connections:\n";
    for (std::size_t i = 0; i < homes.size(); ++i) {
      const auto& v = cli::vendors()[i];
      const auto& h = homes[i];
      y << "  - name: " << v.name << "\n    vendor: " << v.name << "\n    site: " << h.site.id
        << "\n    host: 127.0.0.1\n    port: " << h.simulator->port() << "\n    poll_interval: "
        << duration_yaml(v.endpoint_per_device ? local_poll : h.poll_interval)
        << "\n    timeout: 5s\n    options:\n";
      for (const auto& [k, val] : h.options) y << "      " << k << ": " << yaml_quote(val) << "\n";
    }
  }

  // What happened on each site, read from the simulators at the local midnights.
  std::vector<std::string> fox_sns;
  for (const auto& p : foxess->options().plants)
    for (const auto& inv : p.inverters) fox_sns.push_back(inv.sn);
  std::vector<MidnightSampler> samplers;
  samplers.push_back(
      {by_vendor.at("kostal")->site.id,
       Calendar(by_vendor.at("kostal")->site.timezone),
       [kostal] { return kostal->with_site([](sim::Site& s) { return of(s.counters()); }); },
       {},
       {}});
  samplers.push_back(
      {by_vendor.at("sonnen")->site.id,
       Calendar(by_vendor.at("sonnen")->site.timezone),
       [sonnen] { return sonnen->with_site([](sim::Site& s) { return of(s.counters()); }); },
       {},
       {}});
  samplers.push_back({by_vendor.at("foxess")->site.id,
                      Calendar(by_vendor.at("foxess")->site.timezone),
                      [foxess, fox_sns] {
                        Energy sum;
                        for (const auto& sn : fox_sns) {
                          auto e = foxess->with_site(
                              sn, [](sim::Site* s) { return s ? of(s->counters()) : Energy{}; });
                          sum.pv += e.pv, sum.import += e.import, sum.export_ += e.export_;
                        }
                        return sum;
                      },
                      {},
                      {}});

  // The fault plan, in simulated time from `day` (the local midnight). Each home keeps 5 %
  // errors and 1 % cut bodies throughout; outages replace that while they last.
  auto background = [](std::uint64_t seed) {
    sim::FaultSpec f;
    f.error_rate = 0.05;
    f.malformed_rate = 0.01;
    f.seed = seed;
    return f;
  };
  auto outage = [](sim::HttpSimulator* s, bool down, std::uint64_t seed) {
    sim::FaultSpec f;
    f.drop_rate = down ? 1.0 : 0.0;
    f.error_rate = down ? 0.0 : 0.05;
    f.malformed_rate = down ? 0.0 : 0.01;
    f.seed = seed;
    s->set_faults(f);
  };
  {
    std::uint64_t seed = 100;
    for (auto& h : homes) h.simulator->set_faults(background(++seed));
  }
  enum class Restart { None, Term, Kill };
  struct Step {
    Millis at;  // from `day`
    std::string what;
    std::function<void()> act;
    Restart restart = Restart::None;
  };
  std::vector<Step> plan = {
      {hours(1), "kostal: every session ended", [&] { kostal->expire_sessions(); }},
      {hours(2), "sonnen: down 20 min", [&] { outage(sonnen, true, 1); }},
      {hours(2) + minutes(20), "sonnen: back", [&] { outage(sonnen, false, 2); }},
      {hours(3), "gateway: stopped (SIGTERM) and started", [] {}, Restart::Term},
      {hours(4), "foxess: 40 calls refused 'too frequent' (40400)",
       [&] { foxess->fail_next(40, 40400); }},
      {hours(5), "solarlog: every token revoked", [&] { solarlog->expire_all_tokens(); }},
      {hours(6), "kostal: down 2 h (503)", [&] { kostal->unavailable_for(hours(2)); }},
      {hours(8), "enphase: down 3 h", [&] { outage(enphase, true, 3); }},
      {hours(9), "gateway: killed (SIGKILL) and started", [] {}, Restart::Kill},
      {hours(11), "enphase: back", [&] { outage(enphase, false, 4); }},
      {hours(12), "foxess: down 1 h (503)", [&] { foxess->outage(503); }},
      {hours(13), "foxess: back; solarlog: 30 calls 503 and 10 cut bodies",
       [&] {
         foxess->outage(0);
         solarlog->fail_next(30);
         solarlog->malform_next(10);
       }},
      {hours(14), "kostal: power loss, 5 min booting", [&] { kostal->restart(minutes(5)); }},
      {hours(15), "sonnen: down 2 h", [&] { outage(sonnen, true, 5); }},
      {hours(16), "gateway: stopped (SIGTERM) and started", [] {}, Restart::Term},
      {hours(17), "sonnen: back", [&] { outage(sonnen, false, 6); }},
      {hours(18), "solarlog: down 45 min", [&] { outage(solarlog, true, 7); }},
      {hours(18) + minutes(45), "solarlog: back", [&] { outage(solarlog, false, 8); }},
      {hours(20), "kostal: sessions ended; foxess: 20 calls 429",
       [&] {
         kostal->expire_sessions();
         foxess->fail_next(20, 429);
       }},
      {hours(24), "every fault off",
       [&] {
         for (auto& h : homes) h.simulator->set_faults({});
       }},
  };

  // Run: the plan's steps as simulated time reaches them, the gateway watched all along.
  Gateway gw;
  int crashes = 0, restarts = 0;
  auto launch = [&] {
    gw = Gateway{start_gateway(config, log, speed, origin_text), clock.now()};
    test::Http api(port);
    bool up = false;
    for (auto until = steady_clock::now() + seconds(60); !up && steady_clock::now() < until;) {
      auto r = api.call("GET", "/api/v1/health");
      up = r && r->status == 200;
      if (!up) std::this_thread::sleep_for(milliseconds(20));
    }
    return up;
  };
  ASSERT_TRUE(launch()) << tail_of(log);
  std::size_t next = 0;
  const auto end = day + hours(24) + minutes(30);
  while (clock.now() < end) {
    for (auto& s : samplers) s.sample(clock);
    if (auto rss = rss_kib(gw.process->pid()); rss > 0) {
      gw.rss = rss;
      if (clock.now() - gw.started < hours(1)) gw.first_hour_rss = std::max(gw.first_hour_rss, rss);
    }
    if (int rc = gw.process->wait(Millis(0)); rc != -1) {
      ++crashes;
      ADD_FAILURE() << "the gateway exited by itself (" << rc << ") at "
                    << format_iso8601(clock.now()) << ":\n"
                    << tail_of(log);
      ASSERT_TRUE(launch()) << tail_of(log);
    }
    if (next < plan.size() && clock.now() >= day + plan[next].at) {
      const auto& step = plan[next++];
      std::printf("soak: %s +%02lldh%02lld  %s\n", format_iso8601(clock.now()).c_str(),
                  static_cast<long long>(duration_cast<hours>(step.at).count()),
                  static_cast<long long>(duration_cast<minutes>(step.at).count() % 60),
                  step.what.c_str());
      std::fflush(stdout);
      step.act();
      if (step.restart != Restart::None) {
        gw.process->signal(step.restart == Restart::Term ? SIGTERM : SIGKILL);
        int rc = gw.process->wait(seconds(60));
        EXPECT_EQ(rc, step.restart == Restart::Term ? 0 : 128 + SIGKILL) << tail_of(log);
        ++restarts;
        ASSERT_TRUE(launch()) << tail_of(log);
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
  }

  // Settle: the backfill finishes what the day left (real time, generously).
  test::Http api(port, seconds(30));
  json::array gaps;
  auto open_gaps = [&] {
    auto g = test::get_json(api, "/api/v1/gaps?limit=10000");
    if (!g || !g->is_array()) return -1;
    gaps = g->as_array();
    int open = 0;
    for (const auto& x : gaps)
      open += x.as_object().at("status").as_string().find("open") != json::string::npos;
    return open;
  };
  int open = -1;
  for (auto until = steady_clock::now() + seconds(240); steady_clock::now() < until;) {
    open = open_gaps();
    if (open == 0) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_EQ(open, 0) << "gaps still open after the day";

  // The day's energy, as the gateway reports it, against the simulators'.
  auto day_iso = format_iso8601(day);
  std::map<std::string, Energy> stored;
  std::map<std::string, std::array<bool, 3>> reported;
  for (const auto& h : homes) {
    auto e =
        test::get_json(api, "/api/v1/sites/" + h.site.id + "/energy?period=day&from=" + day_iso +
                                "&to=" + format_iso8601(day + hours(24)));
    ASSERT_TRUE(e) << h.site.id;
    for (const auto& row : e->as_object().at("rows").as_array()) {
      const auto& r = row.as_object();
      if (r.at("start").as_string() != day_iso) continue;
      auto get = [&](const char* m, bool& has) {
        has = r.at(m).is_number();
        return has ? r.at(m).to_number<double>() : 0.0;
      };
      auto& has = reported[h.site.id];
      stored[h.site.id] = {get("energy.pv_yield", has[0]), get("energy.grid_import", has[1]),
                           get("energy.grid_export", has[2])};
      EXPECT_TRUE(r.at("complete").as_bool()) << h.site.id << " has no whole day";
    }
  }
  auto health = test::get_json(api, "/api/v1/health");
  gw.process->signal(SIGTERM);
  EXPECT_EQ(gw.process->wait(seconds(60)), 0) << tail_of(log);
  const long end_rss = gw.rss, first_rss = gw.first_hour_rss;

  std::map<std::string, Energy> truth;
  for (const auto& s : samplers) {
    ASSERT_TRUE(s.at.contains(to_ms(day)) && s.at.contains(to_ms(day + hours(24)))) << s.site;
    truth[s.site] = s.at.at(to_ms(day + hours(24))) - s.at.at(to_ms(day));
  }
  const auto& en = enphase->options().systems.front();
  truth[by_vendor.at("enphase")->site.id] =
      of(enphase->energy_to(en.id, day + hours(24))) - of(enphase->energy_to(en.id, day));
  {
    auto* model = solarlog->model(solarlog->options().plants.front().id);
    ASSERT_TRUE(model);
    auto t = model->totals(model->day_of(day), clock.now());
    truth[by_vendor.at("solarlog")->site.id] = {t.prod, t.import, t.export_};
  }

  // Budgets, counted where they are enforced.
  std::uint64_t over_limit = 0;
  for (const auto& h : homes) over_limit += h.simulator->over_limit();

  // The store, read straight from the file.
  auto duplicates = test::count_rows(db,
                                     "SELECT count(*) FROM (SELECT 1 FROM samples GROUP BY "
                                     "series_id, t HAVING count(*) > 1)");
  auto decreasing = test::count_rows(
      db,
      "SELECT count(*) FROM (SELECT value - lag(value) OVER (PARTITION BY series_id ORDER BY t) "
      "AS d FROM samples WHERE series_id IN (SELECT id FROM series WHERE metric LIKE "
      "'energy.%')) WHERE d < 0");
  auto samples = test::count_rows(db, "SELECT count(*) FROM samples");
  // connection -> status -> n, for a device's holes (the outage) and for the metrics in them
  // (what the vendor's history has of each)
  std::map<std::string, std::map<std::string, int>> gap_status, metric_status;
  std::map<std::string, std::string> unfillable_why;  // connection -> one reason
  for (const auto& x : gaps) {
    const auto& o = x.as_object();
    std::string device(o.at("device").as_string());
    auto connection = device.substr(0, device.find(':'));
    std::string status(o.at("status").as_string());
    (o.at("metric").is_null() ? gap_status : metric_status)[connection][status]++;
    if (status == "unfillable" && o.at("detail").is_string())
      unfillable_why[connection] = std::string(o.at("detail").as_string());
  }

  // The table.
  std::printf("\nsoak: one simulated day at %gx, %d gateway restarts, %d crashes\n", speed,
              restarts, crashes);
  std::printf("  samples stored %lld, duplicates %lld, counter decreases %lld\n",
              static_cast<long long>(samples), static_cast<long long>(duplicates),
              static_cast<long long>(decreasing));
  std::printf("  calls refused for a vendor limit: %llu\n",
              static_cast<unsigned long long>(over_limit));
  std::printf("  gateway RSS: first hour %ld KiB, end %ld KiB (%+.1f %%)\n", first_rss, end_rss,
              first_rss ? 100.0 * double(end_rss - first_rss) / double(first_rss) : 0.0);
  std::printf("  gaps by connection: the devices' holes, then the metrics in them, by status\n");
  for (const auto& v : cli::vendors()) {
    auto line = [](const std::map<std::string, int>& by) {
      std::string out;
      for (const auto& [status, n] : by)
        out += (out.empty() ? "" : ", ") + status + " " + std::to_string(n);
      return out.empty() ? std::string("none") : out;
    };
    std::printf("    %-9s holes: %s; metrics: %s\n", v.name.c_str(),
                line(gap_status[v.name]).c_str(), line(metric_status[v.name]).c_str());
    if (unfillable_why.contains(v.name))
      std::printf("    %-9s   e.g. %s\n", "", unfillable_why[v.name].c_str());
  }
  std::printf("  %-10s %-7s %12s %12s %8s\n", "site", "energy", "stored Wh", "simulator Wh",
              "diff %");
  for (const auto& h : homes) {
    const auto& s = stored[h.site.id];
    const auto& t = truth[h.site.id];
    const auto& has = reported[h.site.id];
    const std::array<std::pair<const char*, std::pair<double, double>>, 3> rows = {
        {{"pv", {s.pv, t.pv}},
         {"import", {s.import, t.import}},
         {"export", {s.export_, t.export_}}}};
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto [name, v] = rows[i];
      if (!has[i]) {
        std::printf("  %-10s %-7s %12s %12.0f %8s\n", h.site.id.c_str(), name, "-", v.second, "");
        continue;
      }
      double diff = v.second != 0 ? 100.0 * (v.first - v.second) / v.second : 0;
      std::printf("  %-10s %-7s %12.0f %12.0f %+8.2f\n", h.site.id.c_str(), name, v.first, v.second,
                  diff);
    }
  }
  if (health) {
    const auto& sch = health->as_object().at("schedule").as_object();
    std::printf("  rounds planned %lld, late %lld\n",
                sch.at("rounds_planned").to_number<long long>(),
                sch.at("polls_late").to_number<long long>());
  }
  std::fflush(stdout);

  EXPECT_EQ(crashes, 0);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(decreasing, 0);
  EXPECT_EQ(over_limit, 0u);
  EXPECT_GT(first_rss, 0);
  EXPECT_LE(end_rss, first_rss * 11 / 10) << "the gateway's memory grew over the day";
  // Where the vendor keeps no history (sonnen), an outage stays a recorded gap.
  EXPECT_GT(gap_status["sonnen"]["unfillable"], 0) << "sonnen's outages left no gap on record";
  for (const auto& h : homes) {
    if (h.site.id == by_vendor.at("sonnen")->site.id) continue;  // estimated from powers
    const auto& s = stored[h.site.id];
    const auto& t = truth[h.site.id];
    const auto& has = reported[h.site.id];
    // 0.5 %, or what the vendor's counters resolve (FoxESS: 0.1 kWh at each end of the day).
    auto within = [](double a, double b, double resolution) {
      return std::abs(a - b) <= std::max(0.005 * std::abs(b), resolution);
    };
    const double res = h.site.id == by_vendor.at("foxess")->site.id ? 200 * fox_sns.size() : 1;
    EXPECT_TRUE(!has[0] || within(s.pv, t.pv, res))
        << h.site.id << " pv " << s.pv << " vs " << t.pv;
    EXPECT_TRUE(!has[1] || within(s.import, t.import, res))
        << h.site.id << " import " << s.import << " vs " << t.import;
    EXPECT_TRUE(!has[2] || within(s.export_, t.export_, res))
        << h.site.id << " export " << s.export_ << " vs " << t.export_;
  }
  if (!HasFailure()) fs::remove_all(dir);
}
