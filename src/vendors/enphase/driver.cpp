#include "vendors/enphase/driver.hpp"

#include <date/tz.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "core/metric.hpp"
#include "net/driver_env.hpp"
#include "net/quota_planner.hpp"
#include "net/token_file.hpp"
#include "vendors/enphase/client.hpp"
#include "vendors/enphase/mapping.hpp"
#include "vendors/enphase/plans.hpp"

namespace sb::enphase {

namespace {

using namespace std::chrono;

constexpr const char* kCloudHost = "api.enphaseenergy.com";

struct Options {
  std::string api_key, client_id, client_secret, token_file;
  Plan plan = Plan::Watt;
  std::optional<std::int64_t> system_id;
  Millis verify_timeout{10'000};
};

Result<Options> parse_options(const ConnectionConfig& c) {
  Options o;
  OptionReader r(c);
  o.api_key = r.required("api_key",
                         "the application's API key from the Enphase developer portal (keep it "
                         "in an environment variable: ${ENPHASE_API_KEY})");
  o.client_id = r.required("client_id", "the application's OAuth client id");
  o.client_secret = r.required("client_secret", "the application's OAuth client secret");
  o.token_file = r.required(
      "token_file", "the file `sunbridge auth enphase` keeps the tokens in (created at sign-in)");
  auto plan = r.choice("plan", {"watt", "kilowatt", "megawatt", "partner"}, "");
  if (!plan.empty()) o.plan = *parse_plan(plan);
  if (r.has("system_id"))
    o.system_id = static_cast<std::int64_t>(r.number("system_id", 1, 9e15, 0));
  o.verify_timeout = r.seconds("verify_timeout", 0, 600, o.verify_timeout);
  return r.result(std::move(o));
}

struct SystemState {
  System sys;
  const date::time_zone* zone = nullptr;
  Inventory inv;
  // The counters: `base` holds every complete local day before `base_day`, `today` that day so
  // far (its intervals up to `reported`).
  std::optional<date::local_days> base_day;
  Totals base;
  Quarters today;
  std::int64_t reported = 0;  // the newest interval end already given as samples
  std::optional<LatestPower> latest;
  std::optional<TimePoint> fetched;
  std::optional<Error> failed;
  std::vector<Sample> pending;  // interval samples not yet handed out, by device
  std::vector<Event> events;    // the cloud's events of closed days, for the system's next poll
};

class EnphaseDriver final : public Driver {
 public:
  EnphaseDriver(ConnectionConfig config, Options options, const DriverEnv& env)
      : config_(std::move(config)),
        options_(std::move(options)),
        env_(env),
        client_(env.http, endpoint_of(config_, 443), options_.api_key, config_.timeout),
        planner_(env.clock, limits_of(options_.plan)),
        oauth_("Enphase", options_.client_id, options_.token_file,
               "run `sunbridge auth enphase -c <config> --connection " + config_.name + "`",
               env.clock, env_.sleeper) {
    share_budget(planner_, config_, env);
  }

  static net::QuotaLimits limits_of(Plan plan) {
    auto p = plan_limits(plan);
    net::QuotaLimits l;
    l.period = net::QuotaPeriod::Month;
    l.period_calls = p.per_month;
    l.per_minute = p.per_minute;
    l.query_gap = Millis(0);
    l.write_gap = Millis(0);
    // A day's closing telemetry (5 or 6 calls) is background work: a quarter of the month.
    l.background_share = 0.25;
    l.command_reserve = 0.03;
    return l;
  }

  asio::awaitable<Result<std::vector<DeviceInfo>>> discover() override {
    auto auth = authorize();
    if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
    std::vector<System> found;
    if (options_.system_id) {
      auto t = take(net::CallPurpose::Background, "the system");
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.system(*options_.system_id);
      auto s = co_await std::move(op);
      if (!s) co_return fail(refused(s.error()));
      found.push_back(*s);
    } else {
      for (int page = 1;; ++page) {
        auto t = take(net::CallPurpose::Background, "the systems list");
        if (auto r = co_await std::move(t); !r) co_return fail(r.error());
        auto op = client_.systems(page, 100);
        auto p = co_await std::move(op);
        if (!p) co_return fail(refused(p.error()));
        found.insert(found.end(), p->systems.begin(), p->systems.end());
        if (p->systems.empty() || static_cast<int>(found.size()) >= p->total) break;
      }
    }
    if (event_names_.empty()) {
      auto t = take(net::CallPurpose::Background, "the event types");
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.event_types();
      auto types = co_await std::move(op);
      if (!types) co_return fail(refused(types.error()));
      for (const auto& e : *types) event_names_[e.id] = e.name;
    }
    std::vector<DeviceInfo> out;
    for (const auto& s : found) {
      auto t = take(net::CallPurpose::Background, "the devices of a system");
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.devices(s.id);
      auto devices = co_await std::move(op);
      if (!devices) co_return fail(refused(devices.error()));
      auto& st = systems_[s.id];
      st.sys = s;
      try {
        st.zone = date::locate_zone(s.timezone.empty() ? "UTC" : s.timezone);
      } catch (const std::exception&) {
        co_return fail(ErrorKind::Protocol, "Enphase: system " + std::to_string(s.id) +
                                                " has an unknown time zone '" + s.timezone + "'");
      }
      st.inv = inventory_of(*devices);
      if (st.inv.batteries > 0) {
        auto lt = take(net::CallPurpose::Background, "the load control settings");
        if (auto r = co_await std::move(lt); !r) co_return fail(r.error());
        auto lop = client_.load_control(s.id);
        auto contacts = co_await std::move(lop);
        if (!contacts) co_return fail(refused(contacts.error()));
        for (const auto& c : *contacts) st.inv.contacts.push_back(c.name);
      }
      for (auto& info : devices_of(config_, s, st.inv)) {
        by_device_[info.id] = s.id;
        out.push_back(std::move(info));
      }
    }
    co_return out;
  }

  asio::awaitable<Result<Snapshot>> poll(const DeviceInfo& device) override {
    auto it = by_device_.find(device.id);
    if (it == by_device_.end())
      co_return fail(ErrorKind::NotFound, "Enphase: " + device.id + " was not discovered");
    auto& st = systems_[it->second];
    auto now = env_.clock.now();
    bool due = planner_.live_due(st.fetched, calls_per_refresh(st),
                                 std::max<Millis>(config_.poll_interval, minutes(5)));
    if (due) {
      auto op = refresh(st);
      auto r = co_await std::move(op);
      if (!r) {
        st.failed = r.error();
        co_return fail(r.error());
      }
      st.failed.reset();
    }
    if (!st.latest) co_return fail(budget_error("live data"));
    Snapshot snap;
    snap.time = from_ms(std::max<std::int64_t>(st.latest->reported_at, st.reported) * 1000);
    // The intervals not yet handed out, then the live values.
    auto keep = std::stable_partition(st.pending.begin(), st.pending.end(),
                                      [&](const Sample& s) { return s.device != device.id; });
    snap.samples.assign(std::make_move_iterator(keep), std::make_move_iterator(st.pending.end()));
    st.pending.erase(keep, st.pending.end());
    if (device.kind != "ev_charger") snap.events = std::exchange(st.events, {});
    add_live(snap.samples, device, snap.time, *st.latest, st.inv, st.today, st.base);
    auto quota = [&](const char* name, int v) {
      snap.samples.push_back({device.id, std::string("vendor.enphase.") + name, now, double(v)});
    };
    quota("quota_used", planner_.used());
    quota("quota_left", planner_.left());
    co_return snap;
  }

  Capabilities capabilities(const DeviceInfo& device) const override {
    Capabilities c;
    c.history = true;
    c.history_step = minutes(15);
    auto it = by_device_.find(device.id);
    const SystemState* st = nullptr;
    if (it != by_device_.end())
      if (auto s = systems_.find(it->second); s != systems_.end()) st = &s->second;
    // New values come as often as the plan lets the driver fetch them, at best every 5 minutes.
    c.data_interval = st ? std::max<Millis>(minutes(5), refresh_interval(*st)) : minutes(5);
    c.commands = commands_of(device, st ? &st->inv : nullptr);
    return c;
  }

  std::optional<CallBudget> budget() const override {
    // Used as far as the cloud is concerned: all of it after a 429 for the month.
    return CallBudget{planner_.period_calls() - planner_.left(), planner_.period_calls(),
                      planner_.next_reset()};
  }

  asio::awaitable<Result<std::vector<Sample>>> history(const DeviceInfo& device,
                                                       TimeRange range) override {
    auto it = by_device_.find(device.id);
    if (it == by_device_.end())
      co_return fail(ErrorKind::NotFound, "Enphase: " + device.id + " was not discovered");
    auto auth = authorize();
    if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
    auto& st = systems_[it->second];
    if (!st.base_day) {
      auto op = rebase(st);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    std::vector<Sample> out;
    auto first = day_of(st, range.from), last = day_of(st, range.to - Millis(1));
    for (auto d = first; d <= last && d <= *st.base_day; d += date::days(1)) {
      // The counters at the day's end: the base, less the days after it before base_day; its
      // start is that less its own quarter hours, so the day meets the next one exactly.
      Totals end = st.base;
      if (d + date::days(1) < *st.base_day) {
        auto op = daily_totals(st, d + date::days(1), *st.base_day - date::days(1));
        auto days = co_await std::move(op);
        if (!days) co_return fail(days.error());
        for (const auto& t : *days) end -= t;
      }
      auto op = day_quarters(st, d, net::CallPurpose::Background);
      auto q = co_await std::move(op);
      if (!q) co_return fail(q.error());
      auto start = end;
      if (d == *st.base_day)
        start = st.base;
      else
        start -= sum(*q);
      auto samples = interval_samples(device, st.inv.batteries > 0, *q, start, 0);
      for (auto& s : samples)
        if (s.time >= range.from && s.time < range.to) out.push_back(std::move(s));
    }
    co_return out;
  }

  asio::awaitable<Result<CommandOutcome>> apply(const DeviceInfo& device,
                                                const Command& cmd) override {
    auto it = by_device_.find(device.id);
    if (it == by_device_.end())
      co_return fail(ErrorKind::NotFound, "Enphase: " + device.id + " was not discovered");
    auto id = it->second;
    auto auth = authorize();
    if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
    bool ev = device.kind == "ev_charger";
    if (!ev && (cmd.type == CommandType::BatteryStrategy || cmd.type == CommandType::MinSoc ||
                cmd.type == CommandType::ChargeFromGrid)) {
      auto op = apply_battery(id, battery_change_of(cmd), cmd.type);
      co_return co_await std::move(op);
    }
    if (!ev && cmd.type == CommandType::StormGuard) {
      auto op = apply_storm_guard(id, cmd.value != 0);
      co_return co_await std::move(op);
    }
    if (!ev && cmd.type == CommandType::LoadControl) {
      auto op = apply_load_control(id, cmd.argument);
      co_return co_await std::move(op);
    }
    if (ev && cmd.type == CommandType::EvCharging) {
      auto op = apply_ev(id, systems_[id].inv.ev_serial, static_cast<int>(std::lround(cmd.value)));
      co_return co_await std::move(op);
    }
    co_return fail(ErrorKind::NotSupported,
                   device.id + " (Enphase) does not take " + std::string(to_string(cmd.type)));
  }

  // The battery's settings, storm guard and the dry contacts: three calls of the plan's budget
  // (as commands), made only when someone looks. The EV charger has nothing lasting to show.
  asio::awaitable<Result<std::vector<Setting>>> settings(const DeviceInfo& device) override {
    auto it = by_device_.find(device.id);
    if (it == by_device_.end())
      co_return fail(ErrorKind::NotFound, "Enphase: " + device.id + " was not discovered");
    const auto& st = systems_[it->second];
    if (device.kind == "ev_charger" || st.inv.batteries == 0) co_return std::vector<Setting>{};
    auto id = it->second;
    auto auth = authorize();
    if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
    if (auto r = co_await take_command(); !r) co_return fail(r.error());
    auto bop = client_.battery_settings(id);
    auto battery = co_await std::move(bop);
    if (!battery) co_return fail(refused(battery.error()));
    if (auto r = co_await take_command(); !r) co_return fail(r.error());
    auto sop = client_.storm_guard(id);
    auto storm = co_await std::move(sop);
    if (!storm) co_return fail(refused(storm.error()));
    if (st.inv.contacts.empty()) co_return settings_of(*battery, *storm, nullptr);
    if (auto r = co_await take_command(); !r) co_return fail(r.error());
    auto lop = client_.load_control(id);
    auto contacts = co_await std::move(lop);
    if (!contacts) co_return fail(refused(contacts.error()));
    co_return settings_of(*battery, *storm, &*contacts);
  }

 private:
  // A call for `purpose`: waits out the minute's limit, then asks the planner; a budget error
  // naming `what` when the month has no room for it.
  asio::awaitable<Result<void>> take(net::CallPurpose purpose, std::string what) {
    // A fleet's shared plan: the slice of its budget comes from the ledger first.
    for (int i = 0; i < 50 && planner_.waiting_for_ledger(); ++i)
      co_await env_.sleeper.sleep(Millis(100));
    auto wait = planner_.pacing_wait("enphase");
    if (wait.count() > 0) co_await env_.sleeper.sleep(wait);
    if (!planner_.try_take("enphase", purpose)) co_return fail(budget_error(what));
    co_return Result<void>{};
  }

  Millis refresh_interval(const SystemState& st) const {
    return planner_.live_interval(calls_per_refresh(st),
                                  std::max<Millis>(config_.poll_interval, minutes(5)));
  }
  static int calls_per_refresh(const SystemState& st) {
    return 5 + (st.inv.batteries > 0 ? 1 : 0) + (st.inv.ev_serial.empty() ? 0 : 1);
  }

  date::local_days day_of(const SystemState& st, TimePoint t) const {
    return date::floor<date::days>(st.zone->to_local(t));
  }
  TimePoint start_of(const SystemState& st, date::local_days d) const {
    return time_point_cast<Millis>(st.zone->to_sys(d, date::choose::earliest));
  }
  static std::string iso(date::local_days d) { return date::format("%F", d); }

  // One refresh: close the days since the last one, then today's telemetry and the latest
  // powers.
  asio::awaitable<Result<void>> refresh(SystemState& st) {
    auto auth = authorize();
    if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
    auto today = day_of(st, env_.clock.now());
    if (!st.base_day || *st.base_day < today - date::days(1)) {
      auto op = rebase(st);  // first start, or days missed: the lifetime series
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    if (*st.base_day < today) {
      // Yesterday's last intervals, which the refreshes of yesterday did not see.
      auto op = day_quarters(st, *st.base_day, net::CallPurpose::Background);
      auto q = co_await std::move(op);
      if (!q) co_return fail(q.error());
      queue(st, *q, st.base);
      st.base += sum(*q);
      // The closed day's events (gateway outages, grid outages, ...) into the event store.
      auto eop = day_events(st, *st.base_day);
      if (auto r = co_await std::move(eop); !r) co_return fail(r.error());
      st.base_day = today;
      st.today.clear();
    }
    // Today so far, then the powers of the last 5 minutes.
    auto op = day_quarters(st, today, net::CallPurpose::Live);
    auto q = co_await std::move(op);
    if (!q) co_return fail(q.error());
    st.today = std::move(*q);
    queue(st, st.today, st.base);
    auto t = take(net::CallPurpose::Live, "live data");
    if (auto r = co_await std::move(t); !r) co_return fail(r.error());
    auto lop = client_.latest(st.sys.id);
    auto latest = co_await std::move(lop);
    if (!latest) co_return fail(refused(latest.error()));
    st.latest = *latest;
    st.fetched = env_.clock.now();
    co_return Result<void>{};
  }

  // The counters' base: every complete local day before today, from the lifetime series.
  asio::awaitable<Result<void>> rebase(SystemState& st) {
    auto today = day_of(st, env_.clock.now());
    auto first = day_of(st, from_ms(st.sys.operational_at * 1000));
    Totals base;
    if (first < today) {
      auto op = daily_totals(st, first, today - date::days(1));
      auto days = co_await std::move(op);
      if (!days) co_return fail(days.error());
      for (const auto& d : *days) base += d;
    }
    st.base = base;
    st.base_day = today;
    st.today.clear();
    st.reported = std::max(st.reported, epoch(start_of(st, today)));
    co_return Result<void>{};
  }

  static std::int64_t epoch(TimePoint t) {
    return duration_cast<seconds>(t.time_since_epoch()).count();
  }

  // Each day's energy from `from` to `to` (local days, inclusive), from the lifetime series.
  asio::awaitable<Result<std::vector<Totals>>> daily_totals(SystemState& st, date::local_days from,
                                                            date::local_days to) {
    auto n = static_cast<std::size_t>((to - from).count() + 1);
    std::vector<Totals> out(n);
    for (auto kind : {LifetimeKind::Energy, LifetimeKind::Consumption, LifetimeKind::Battery,
                      LifetimeKind::Import, LifetimeKind::Export}) {
      if (kind == LifetimeKind::Battery && st.inv.batteries == 0) continue;
      auto t = take(net::CallPurpose::Background, "the lifetime series");
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.lifetime(st.sys.id, kind, iso(from), iso(to));
      auto l = co_await std::move(op);
      if (!l) co_return fail(refused(l.error()));
      // The series starts at the operational day at the earliest (start_date says where).
      std::size_t offset = 0;
      if (!l->start_date.empty() && l->start_date > iso(from)) {
        std::istringstream in(l->start_date);
        date::local_days d;
        in >> date::parse("%F", d);
        if (!in.fail()) offset = static_cast<std::size_t>((d - from).count());
      }
      add_lifetime(out, kind, *l, offset);
    }
    if (!st.inv.ev_serial.empty()) {
      auto t = take(net::CallPurpose::Background, "the EV charger's daily energy");
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto compact = [](date::local_days d) { return date::format("%Y%m%d", d); };
      auto op = client_.ev_daily(st.sys.id, st.inv.ev_serial, compact(from), compact(to));
      auto daily = co_await std::move(op);
      if (!daily) co_return fail(refused(daily.error()));
      for (std::size_t i = 0; i < n; ++i)
        if (auto d = daily->find(iso(from + date::days(static_cast<int>(i)))); d != daily->end())
          out[i].ev = d->second;
    }
    co_return out;
  }

  // A local day's 15-minute telemetry: production meter, consumption meter, import, export,
  // battery (charge, discharge, SoC) and the EV charger.
  asio::awaitable<Result<Quarters>> day_quarters(SystemState& st, date::local_days day,
                                                 net::CallPurpose purpose) {
    auto start = epoch(start_of(st, day));
    Quarters q;
    auto fetch = [&](auto call, Series series) -> asio::awaitable<Result<void>> {
      auto t = take(purpose, "telemetry");
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = call();
      auto tel = co_await std::move(op);
      if (!tel) co_return fail(refused(tel.error()));
      for (const auto& i : tel->intervals) put(q[i.end_at], series, i);
      co_return Result<void>{};
    };
    auto id = st.sys.id;
    {
      auto op = fetch([&] { return client_.telemetry(id, "production_meter", start, "day"); },
                      Series::Production);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    {
      auto op = fetch([&] { return client_.telemetry(id, "consumption_meter", start, "day"); },
                      Series::Consumption);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    {
      auto op =
          fetch([&] { return client_.grid_telemetry(id, true, start, "day"); }, Series::Import);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    {
      auto op =
          fetch([&] { return client_.grid_telemetry(id, false, start, "day"); }, Series::Export);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    if (st.inv.batteries > 0) {
      auto t = take(purpose, "battery telemetry");
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.battery_telemetry(id, start, "day");
      auto b = co_await std::move(op);
      if (!b) co_return fail(refused(b.error()));
      put(q, *b);
    }
    if (!st.inv.ev_serial.empty()) {
      auto op = fetch([&] { return client_.ev_telemetry(id, st.inv.ev_serial, start, "day"); },
                      Series::Ev);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    co_return q;
  }

  // A local day's events (one call, background work), as sunbridge events of the system.
  asio::awaitable<Result<void>> day_events(SystemState& st, date::local_days day) {
    auto t = take(net::CallPurpose::Background, "the day's events");
    if (auto r = co_await std::move(t); !r) co_return fail(r.error());
    auto from = epoch(start_of(st, day)), to = epoch(start_of(st, day + date::days(1)));
    auto op = client_.events(st.sys.id, from, to);
    auto list = co_await std::move(op);
    if (!list) co_return fail(refused(list.error()));
    auto device = config_.name + ":" + std::to_string(st.sys.id);
    for (const auto& e : *list) {
      if (e.start < from) continue;  // reported with the day it began
      auto name = event_names_.contains(e.type) ? event_names_[e.type]
                                                : "event type " + std::to_string(e.type);
      st.events.push_back(event_of(device, e, name));
    }
    co_return Result<void>{};
  }

  // The intervals after st.reported as samples of the system and its charger, queued for their
  // devices' next polls.
  void queue(SystemState& st, const Quarters& q, Totals start) {
    auto sys_id = config_.name + ":" + std::to_string(st.sys.id);
    DeviceInfo system{sys_id};
    auto samples = interval_samples(system, st.inv.batteries > 0, q, start, st.reported);
    if (!st.inv.ev_serial.empty()) {
      DeviceInfo ev{config_.name + ":" + st.inv.ev_serial};
      ev.kind = "ev_charger";
      auto more = interval_samples(ev, false, q, start, st.reported);
      samples.insert(samples.end(), more.begin(), more.end());
    }
    if (!q.empty()) st.reported = std::max(st.reported, q.rbegin()->first);
    st.pending.insert(st.pending.end(), samples.begin(), samples.end());
  }

  asio::awaitable<Result<CommandOutcome>> apply_battery(std::int64_t id, BatteryChange change,
                                                        CommandType type) {
    auto t1 = take(net::CallPurpose::Command, "a command");
    if (auto r = co_await std::move(t1); !r) co_return fail(r.error());
    auto bop = client_.battery_settings(id);
    auto before = co_await std::move(bop);
    if (!before) co_return fail(refused(before.error()));
    auto t2 = take(net::CallPurpose::Command, "a command");
    if (auto r = co_await std::move(t2); !r) co_return fail(r.error());
    auto wop = client_.set_battery_settings(id, change);
    auto written = co_await std::move(wop);
    if (!written) co_return fail(refused(written.error()));
    // Read back with a GET of its own: the PUT's answer is what the cloud meant to set.
    auto t3 = take(net::CallPurpose::Command, "a command");
    if (auto r = co_await std::move(t3); !r) co_return fail(r.error());
    auto aop = client_.battery_settings(id);
    auto after = co_await std::move(aop);
    if (!after) co_return fail(refused(after.error()));
    co_return battery_outcome(type, change, *before, *after);
  }

  // Three calls a command: the setting before, the write, the setting after.
  asio::awaitable<Result<void>> take_command() {
    auto op = take(net::CallPurpose::Command, "a command");
    co_return co_await std::move(op);
  }

  asio::awaitable<Result<CommandOutcome>> apply_storm_guard(std::int64_t id, bool on) {
    if (auto r = co_await take_command(); !r) co_return fail(r.error());
    auto bop = client_.storm_guard(id);
    auto before = co_await std::move(bop);
    if (!before) co_return fail(refused(before.error()));
    if (auto r = co_await take_command(); !r) co_return fail(r.error());
    auto wop = client_.set_storm_guard(id, on);
    if (auto w = co_await std::move(wop); !w) co_return fail(refused(w.error()));
    if (auto r = co_await take_command(); !r) co_return fail(r.error());
    auto aop = client_.storm_guard(id);
    auto after = co_await std::move(aop);
    if (!after) co_return fail(refused(after.error()));
    co_return storm_guard_outcome(on, *before, *after);
  }

  asio::awaitable<Result<CommandOutcome>> apply_load_control(std::int64_t id, std::string text) {
    auto s = parse_load_control(text);
    if (!s) co_return fail(s.error());
    auto change = load_change_of(*s);
    if (auto r = co_await take_command(); !r) co_return fail(r.error());
    auto wop = client_.set_load_control(id, change);
    if (auto w = co_await std::move(wop); !w) co_return fail(refused(w.error()));
    if (auto r = co_await take_command(); !r) co_return fail(r.error());
    auto aop = client_.load_control(id);
    auto after = co_await std::move(aop);
    if (!after) co_return fail(refused(after.error()));
    co_return load_control_outcome(change, *after);
  }

  // The cloud accepts (202) and the charger follows within its next report; the v4 API shows
  // charging only in 15-minute telemetry, so the outcome is "accepted", not read back.
  asio::awaitable<Result<CommandOutcome>> apply_ev(std::int64_t id, std::string serial, int level) {
    if (auto r = co_await take_command(); !r) co_return fail(r.error());
    auto op = level > 0 ? client_.ev_start(id, serial, level) : client_.ev_stop(id, serial);
    if (auto w = co_await std::move(op); !w) co_return fail(refused(w.error()));
    co_return ev_outcome(level);
  }

  // Tokens from the token file, refreshed when due.
  asio::awaitable<Result<void>> authorize() {
    auto op = oauth_.access_token([this](std::string refresh_token) {
      return client_.refresh_tokens(options_.client_id, options_.client_secret,
                                    std::move(refresh_token));
    });
    auto token = co_await std::move(op);
    if (!token) co_return fail(token.error());
    client_.use_access_token(std::move(*token));
    co_return Result<void>{};
  }

  Error budget_error(const std::string& what) const {
    auto plan = plan_limits(options_.plan);
    Error e{ErrorKind::RateLimited,
            "Enphase: the " + std::string(plan.name) + " plan's budget (" +
                std::to_string(planner_.period_calls()) + " calls a month, " +
                std::to_string(planner_.per_minute()) + " a minute) has no room for " + what +
                " now; the month resets at " + format_iso8601(planner_.next_reset())};
    auto wait = planner_.pacing_wait("enphase");
    e.retry_after = duration_cast<seconds>(
        wait.count() > 0 ? wait : Millis(planner_.next_reset() - env_.clock.now()));
    return e;
  }

  // What a refusal teaches: a refused token is refreshed before the next call; a 429 with quota
  // fields sets the plan's numbers; the minute or the month stops until it turns.
  Error refused(Error e) {
    if (e.kind == ErrorKind::Auth) oauth_.mark_stale();
    if (e.kind != ErrorKind::RateLimited) return e;
    auto r = client_.take_refusal();
    if (r && r->period == "month") {
      if (r->limit > 0) planner_.set_period_calls(r->limit);
      planner_.on_refused("enphase", true);
      e.retry_after = duration_cast<seconds>(r->period_end - env_.clock.now());
    } else if (!r && planner_.minute_used() <= 1) {
      // A 429 without quota fields on the minute's first call: not the minute, so the month.
      planner_.on_refused("enphase", true);
      e.retry_after = duration_cast<seconds>(planner_.next_reset() - env_.clock.now());
    } else {
      if (r && r->limit > 0) planner_.set_per_minute(r->limit);
      planner_.on_minute_refused();
      e.retry_after = seconds(60);
    }
    return e;
  }

  ConnectionConfig config_;
  Options options_;
  DriverEnv env_;
  Client client_;
  net::QuotaPlanner planner_;
  net::OAuthSession oauth_;
  std::map<std::int64_t, SystemState> systems_;
  std::map<std::string, std::int64_t> by_device_;  // device id -> system id
  std::map<int, std::string> event_names_;         // event type -> its name (listEventTypes)
};

}  // namespace

DriverRegistry::Entry registry_entry() {
  return {
      "enphase",
      "Enphase Monitoring API v4 (api_key, client_id, client_secret, token_file, plan; "
      "api.enphaseenergy.com over HTTPS unless host is set)",
      443,
      {"api_key", "client_id", "client_secret", "token_file", "plan", "system_id",
       "verify_timeout"},
      [](const ConnectionConfig& given, const DriverEnv& env) -> Result<std::unique_ptr<Driver>> {
        auto c = given;
        if (c.host.empty()) {
          c.host = kCloudHost;
          c.tls = true;
          c.port = 443;
        }
        if (c.port == 0) c.port = c.tls ? 443 : 80;
        auto o = parse_options(c);
        if (!o) return fail(o.error());
        return std::unique_ptr<Driver>(std::make_unique<EnphaseDriver>(c, *o, env));
      }};
}

}  // namespace sb::enphase
