#include "vendors/foxess/month_run.hpp"

#include <algorithm>
#include <boost/asio/thread_pool.hpp>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "core/metric.hpp"
#include "net/driver_env.hpp"
#include "net/retry.hpp"
#include "net/test_io.hpp"
#include "vendors/foxess/client.hpp"
#include "vendors/foxess/driver.hpp"
#include "vendors/foxess/simulator.hpp"

namespace sb::foxess {

namespace {

using namespace std::chrono;

// The energy counters of one inverter at one instant.
struct Counters {
  TimePoint time;
  double export_wh = 0, import_wh = 0, load_wh = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, std::size_t(p * double(v.size())))];
}

std::string day_name(int k) {
  char b[16];
  std::snprintf(b, sizeof b, "2026-06-%02d", k + 1);
  return b;
}

}  // namespace

std::string MonthRunReport::summary() const {
  std::ostringstream o;
  o << "FoxESS account of " << inverters << " inverters, " << days << " days:\n"
    << "  polls " << polls << ", failed " << failed << " (" << failed_in_outage
    << " while the cloud was down), refused by the cloud for its limits " << refused_by_cloud
    << ", held back by the planner " << refused_by_budget << "\n"
    << "  cloud calls " << cloud_calls << "; busiest UTC day " << busiest_day_calls << ", quietest "
    << quietest_day_calls << " of " << daily_quota << " a day\n"
    << "  data age at a poll: median " << age_median_s << " s, p95 " << age_p95_s << " s, max "
    << age_max_s << " s\n"
    << "  between batches: median " << refresh_median_s << " s, longest " << refresh_max_s << " s\n"
    << "  commands " << commands << ", read back " << verified << "; outage backfilled "
    << backfill_rows << " of " << backfill_rows_expected << " points\n"
    << "  days of energy " << energy_days << " of " << energy_days_expected
    << ", worst difference to the cloud's report " << worst_energy_diff_kwh << " kWh\n";
  for (const auto& p : problems) o << "  PROBLEM: " << p << "\n";
  return o.str();
}

MonthRunReport run_month(const MonthRunOptions& opt) {
  MonthRunReport rep;
  auto problem = [&](std::string p) {
    if (rep.problems.size() < 20) rep.problems.push_back(std::move(p));
  };
  // 2026-06-01 00:00 in Berlin (UTC+2) is 2026-05-31 22:00 UTC; the run starts ten minutes
  // before it so that the first day has its opening counters.
  TimePoint first_midnight;
  parse_iso8601("2026-05-31T22:00:00Z", first_midnight);
  ManualClock clock(first_midnight - minutes(10));
  net::TestIo io(1);
  net::HttpClient http(io.executor());
  SimOptions so;
  so.plants = make_account(opt.plants, opt.inverters_per_plant, 11, true);
  Simulator sim(io.executor(), clock, so);  // the documented limits: no shortcuts
  if (auto l = sim.listen("127.0.0.1", 0); !l) {
    problem("simulator: " + l.error().message);
    return rep;
  }
  net::ManualSleeper sleeper(clock);
  boost::asio::thread_pool pool(1);
  DriverEnv env{io.executor(), clock, http, sleeper, &pool};
  ConnectionConfig c;
  c.name = "fox";
  c.vendor = "foxess";
  c.site = "fleet";
  c.host = "127.0.0.1";
  c.port = sim.port();
  c.poll_interval = opt.poll;
  c.timeout = Millis(5000);
  c.options["api_key"] = so.api_key;
  auto made = registry_entry().factory(c, env);
  if (!made) {
    problem("driver: " + made.error().message);
    return rep;
  }
  auto& d = **made;
  auto found = io.run(d.discover());
  if (!found) {
    problem("discovery: " + found.error().message);
    sim.stop();
    return rep;
  }
  const auto& devices = *found;
  rep.inverters = int(devices.size());
  rep.days = opt.days;
  rep.daily_quota = sim.quota().total;
  std::vector<const DeviceInfo*> batteries;
  for (const auto& dev : devices)
    if (d.capabilities(dev).takes(CommandType::MinSoc)) batteries.push_back(&dev);

  // The last counters seen at or before each local midnight, per inverter: day k's energy is
  // closing[k + 1] - closing[k].
  std::map<std::string, std::vector<std::optional<Counters>>> closing;
  for (const auto& dev : devices) closing[dev.id].resize(std::size_t(opt.days) + 1);
  std::vector<double> age_s, refresh_s;
  std::optional<TimePoint> last_batch;
  std::vector<int> day_calls;  // per complete UTC day
  std::int64_t utc_day = -1;
  int last_used = 0;
  const TimePoint outage_from = first_midnight + hours(24 * opt.outage_day + 11);
  const TimePoint outage_to = outage_from + hours(2);
  bool down = false, backfilled = opt.outage_day < 0 || opt.outage_day >= opt.days;
  int commanded_day = -1;
  const TimePoint end = first_midnight + hours(24 * opt.days) + minutes(1);

  for (TimePoint tick = clock.now(); tick < end; tick += opt.poll) {
    if (clock.now() < tick) clock.set(tick);
    auto now = clock.now();
    auto today = to_ms(now) / 86'400'000;
    if (today != utc_day) {
      if (utc_day >= 0 && utc_day != to_ms(first_midnight - minutes(10)) / 86'400'000)
        day_calls.push_back(last_used);  // the first (partial) UTC day is left out
      utc_day = today;
    }
    bool outage = now >= outage_from && now < outage_to;
    if (outage != down) sim.outage(outage ? 503 : 0);
    down = outage;
    // The gateway's backfill once the cloud is back: a history call per inverter.
    if (!outage && now >= outage_to && !backfilled) {
      backfilled = true;
      for (const auto& dev : devices) {
        rep.backfill_rows_expected += 24;  // every 5 minutes over [from, to)
        auto h = io.run(d.history(dev, {outage_from, outage_to}));
        if (!h) {
          problem("backfill of " + dev.id + ": " + h.error().message);
          continue;
        }
        rep.backfill_rows += std::count_if(h->begin(), h->end(), [](const Sample& s) {
          return s.metric == metric::kPvPower && s.quality == Quality::Backfilled;
        });
      }
    }
    for (const auto& dev : devices) {
      ++rep.polls;
      auto snap = io.run(d.poll(dev));
      if (!snap) {
        ++rep.failed;
        if (outage) {
          ++rep.failed_in_outage;
        } else {
          problem(format_iso8601(now) + " poll of " + dev.id + ": " + snap.error().message);
        }
        if (snap.error().kind == ErrorKind::RateLimited) ++rep.refused_by_budget;
        continue;
      }
      age_s.push_back(duration<double>(clock.now() - snap->time).count());
      if (&dev == &devices.front()) {
        if (last_batch && snap->time != *last_batch)
          refresh_s.push_back(duration<double>(snap->time - *last_batch).count());
        last_batch = snap->time;
      }
      Counters k{snap->time};
      for (const auto& s : snap->samples) {
        if (s.metric == metric::kEnergyGridExport) k.export_wh = s.value;
        if (s.metric == metric::kEnergyGridImport) k.import_wh = s.value;
        if (s.metric == metric::kEnergyLoad) k.load_wh = s.value;
      }
      // The midnight this reading may close: the next one at or after its time.
      auto since = duration_cast<minutes>(k.time - first_midnight).count();
      long slot = since <= 0 ? 0 : (since + 24 * 60 - 1) / (24 * 60);
      if (slot <= opt.days) closing[dev.id][std::size_t(slot)] = k;
    }
    // A command a day at 18:00 local on one battery inverter after another, read back.
    int day = int(floor<hours>(now - first_midnight).count() / 24);
    if (!batteries.empty() && day >= 0 && day < opt.days && day != commanded_day &&
        now - first_midnight - hours(24 * day) >= hours(18)) {
      commanded_day = day;
      Command cmd;
      cmd.type = CommandType::MinSoc;
      cmd.value = day % 2 ? 20 : 15;
      ++rep.commands;
      const auto& target = *batteries[std::size_t(day) % batteries.size()];
      auto out = io.run(d.apply(target, cmd));
      if (!out)
        problem(day_name(day) + " min SoC on " + target.id + ": " + out.error().message);
      else if (out->verified)
        ++rep.verified;
      else
        problem(day_name(day) + " min SoC on " + target.id + " not read back: " + out->detail);
    }
    last_used = sim.quota().used;
  }
  rep.refused_by_cloud = long(sim.over_limit());
  rep.cloud_calls = long(sim.requests());
  if (!day_calls.empty()) {
    rep.busiest_day_calls = *std::max_element(day_calls.begin(), day_calls.end());
    rep.quietest_day_calls = *std::min_element(day_calls.begin(), day_calls.end());
  }
  rep.age_median_s = percentile(age_s, 0.5);
  rep.age_p95_s = percentile(age_s, 0.95);
  rep.age_max_s = percentile(age_s, 1.0);
  rep.refresh_median_s = percentile(refresh_s, 0.5);
  rep.refresh_max_s = percentile(refresh_s, 1.0);

  // Every day's energy of every inverter: the counters closing it are within a poll interval
  // of midnight, and their difference is what the cloud's monthly report says. The counters
  // come in 0.1 kWh, the report in 0.01 kWh; in the last poll interval before midnight a house
  // draws well under 0.05 kWh, so 0.25 kWh is rounding plus that.
  Client cl(http, {"127.0.0.1", sim.port(), false}, so.api_key, clock, Millis(5000));
  const char* variables[] = {"feedin", "gridConsumption", "loads"};
  for (const auto& dev : devices) {
    clock.advance(seconds(1));  // the report interface's pacing
    auto op =
        cl.report(dev.serial, "month", 2026, 6, 0, {variables[0], variables[1], variables[2]});
    auto month = io.run(std::move(op));
    if (!month || month->size() != 3) {
      problem("monthly report of " + dev.id + ": " +
              (month ? "not three series" : month.error().message));
      continue;
    }
    const auto& cs = closing[dev.id];
    for (int k = 0; k < opt.days; ++k) {
      ++rep.energy_days_expected;
      const auto &open = cs[std::size_t(k)], &close = cs[std::size_t(k) + 1];
      auto midnight = first_midnight + hours(24 * k);
      if (!open || !close || midnight - open->time > opt.poll ||
          midnight + hours(24) - close->time > opt.poll) {
        problem(dev.id + " has no counters closing " + day_name(k));
        continue;
      }
      ++rep.energy_days;
      double got[3] = {close->export_wh - open->export_wh, close->import_wh - open->import_wh,
                       close->load_wh - open->load_wh};
      for (std::size_t v = 0; v < 3; ++v) {
        double want = (*month)[v].values.at(std::size_t(k));
        double diff = std::abs(got[v] / 1000 - want);
        rep.worst_energy_diff_kwh = std::max(rep.worst_energy_diff_kwh, diff);
        if (diff > 0.25) {
          std::ostringstream p;
          p << dev.id << " " << day_name(k) << " " << variables[v] << ": counters " << got[v] / 1000
            << " kWh, report " << want << " kWh";
          problem(p.str());
        }
      }
    }
  }
  if (rep.refused_by_cloud) problem(std::to_string(rep.refused_by_cloud) + " calls got 40400");
  if (rep.backfill_rows != rep.backfill_rows_expected)
    problem("the outage came back with " + std::to_string(rep.backfill_rows) + " of " +
            std::to_string(rep.backfill_rows_expected) + " history points");
  sim.stop();
  return rep;
}

}  // namespace sb::foxess
