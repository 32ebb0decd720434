#include "vendors/solarlog/driver.hpp"

#include <date/tz.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "core/metric.hpp"
#include "net/driver_env.hpp"
#include "net/quota_planner.hpp"
#include "vendors/solarlog/client.hpp"
#include "vendors/solarlog/mapping.hpp"

namespace sb::solarlog {

namespace {

using namespace std::chrono;

constexpr const char* kApiHost = "api.enerest.world";
constexpr const char* kAuthHost = "auth.enerest.world";
constexpr int kMaxRangeDays = 31;  // the range call's limit

enum class PackageOption { Auto, Basic, Advanced };

struct Options {
  std::string portal, client_id, client_secret, plant_id, fleet;
  PackageOption package = PackageOption::Auto;
  net::Endpoint auth;
  int per_minute = 60;
  Millis events_interval{900'000};
};

Result<Options> parse_options(const ConnectionConfig& c, bool default_host) {
  Options o;
  OptionReader r(c);
  o.portal = r.required("portal",
                        "the first label of your portal's address (solarCompanyXYZ for "
                        "solarCompanyXYZ.enerest.world)");
  o.client_id = r.required("client_id", "the API client's id from the portal's API settings");
  o.client_secret = r.required("client_secret",
                               "the API client's secret (keep it in an environment variable: "
                               "${SOLARLOG_SECRET})");
  if (!std::all_of(o.portal.begin(), o.portal.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-';
      }))
    r.refuse("portal",
             "option portal '" + o.portal + "' is not a host label (letters, digits and '-' only)");
  auto package = r.choice("package", {"basic", "advanced", "auto"}, "auto");
  o.package = package == "basic"      ? PackageOption::Basic
              : package == "advanced" ? PackageOption::Advanced
                                      : PackageOption::Auto;
  o.plant_id = r.text("plant_id");
  o.fleet = r.text("fleet");
  if (auto a = r.text("auth_host"); !a.empty()) {
    auto colon = a.rfind(':');
    o.auth = {a.substr(0, colon), 443, true};
    if (colon != std::string::npos) {
      unsigned port = 0;
      auto digits = std::string_view(a).substr(colon + 1);
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
      if (ec != std::errc() || p != digits.data() + digits.size() || port < 1 || port > 65535)
        r.refuse("auth_host", "option auth_host '" + a + "' has no valid port (1..65535)");
      o.auth.port = static_cast<std::uint16_t>(port);
      o.auth.tls = c.tls;
    }
  } else if (default_host) {
    o.auth = {kAuthHost, 443, true};
  } else {
    o.auth = endpoint_of(c, 443);  // the simulator serves the token endpoint beside the API
  }
  o.per_minute = static_cast<int>(r.number("per_minute", 1, 10'000, o.per_minute));
  o.events_interval = r.seconds("events_interval", 60, 86'400, o.events_interval);
  return r.result(std::move(o));
}

struct PlantState {
  PlantInfo info;
  const date::time_zone* zone = nullptr;
  Layout layout;
  std::optional<TimePoint> fetched;
  TimePoint reported{};         // the newest slot end handed out
  std::vector<Sample> pending;  // slots not yet handed out, of both devices
  std::vector<Sample> latest;   // the newest slot's values, given at every poll
  std::optional<TimePoint> events_read;
  std::set<std::int64_t> seen_events;
  std::vector<Event> events;
  std::int64_t kpi_day = 0;  // the last day whose KPIs were read (local days since 1970)
};

class SolarLogDriver final : public Driver {
 public:
  SolarLogDriver(ConnectionConfig config, Options options, const DriverEnv& env)
      : config_(std::move(config)),
        options_(std::move(options)),
        env_(env),
        client_(env.http,
                {endpoint_of(config_, 443), options_.auth, options_.portal, options_.client_id,
                 options_.client_secret, config_.timeout},
                env.clock),
        planner_(env.clock, limits_of(options_.per_minute)) {
    share_budget(planner_, config_, env);
  }

  static net::QuotaLimits limits_of(int per_minute) {
    net::QuotaLimits l;
    l.period = net::QuotaPeriod::Day;
    l.period_calls = per_minute * 1440;  // no daily limit: only the minute counts
    l.per_minute = per_minute;
    l.query_gap = Millis(0);
    l.write_gap = Millis(0);
    l.background_share = 0.3;
    l.command_reserve = 0;
    return l;
  }

  asio::awaitable<Result<std::vector<DeviceInfo>>> discover() override {
    std::vector<PlantInfo> found;
    if (!options_.plant_id.empty()) {
      auto take_op = take(net::CallPurpose::Background, "the plant");
      if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
      auto op = client_.plant(options_.plant_id);
      auto p = checked(co_await std::move(op));
      if (!p) co_return fail(p.error());
      found.push_back(std::move(*p));
    } else {
      auto take_op = take(net::CallPurpose::Background, "the plants");
      if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
      auto op = client_.plants();
      auto list = checked(co_await std::move(op));
      if (!list) co_return fail(list.error());
      found = std::move(*list);
    }
    if (!options_.fleet.empty()) {
      auto take_op = take(net::CallPurpose::Background, "the fleet");
      if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
      auto op = client_.fleet(options_.fleet);
      auto f = checked(co_await std::move(op));
      if (!f) {
        auto e = f.error();
        if (e.kind == ErrorKind::NotSupported)
          e.message += " (option fleet needs a Portal API client)";
        co_return fail(e);
      }
      std::erase_if(found, [&](const PlantInfo& p) {
        return std::find(f->plants.begin(), f->plants.end(), p.id) == f->plants.end();
      });
    }
    if (found.empty())
      co_return fail(ErrorKind::NotFound, "Solar-Log: client " + options_.client_id +
                                              " sees no plants in portal " + options_.portal);
    std::vector<DeviceInfo> out;
    auto now = env_.clock.now();
    for (auto& p : found) {
      PlantState st;
      st.info = p;
      st.zone = zone_of(p.timezone);
      auto device = config_.name + ":" + p.id;
      auto d = day_string(day_of(st, now));
      auto take_op = take(net::CallPurpose::Background, "the components");
      if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
      auto op = client_.components(p.id, d);
      auto comps = checked(co_await std::move(op));
      if (!comps) co_return fail(comps.error());
      if (!advanced_) {
        auto op2 = probe_package(p.id, d);
        auto adv = co_await std::move(op2);
        if (!adv) co_return fail(adv.error());
        advanced_ = *adv;
      }
      st.layout = layout_of(device, *comps, *advanced_);
      for (auto& info : devices_of(config_, p, st.layout, *comps)) {
        by_device_[info.id] = p.id;
        out.push_back(std::move(info));
      }
      // A plant found again keeps what it already handed out.
      if (auto old = plants_.find(p.id); old != plants_.end()) {
        st.reported = old->second.reported;
        st.seen_events = old->second.seen_events;
        st.kpi_day = old->second.kpi_day;
      }
      plants_[p.id] = std::move(st);
    }
    co_return out;
  }

  asio::awaitable<Result<Snapshot>> poll(const DeviceInfo& device) override {
    auto st = state_of(device.id);
    if (!st) co_return fail(ErrorKind::NotFound, "Solar-Log: " + device.id + " was not discovered");
    if (!st->fetched || env_.clock.now() - *st->fetched >= refresh_interval()) {
      auto op = refresh(*st);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    Snapshot snap;
    snap.time = st->reported;
    auto keep = std::stable_partition(st->pending.begin(), st->pending.end(),
                                      [&](const Sample& s) { return s.device != device.id; });
    snap.samples.assign(std::make_move_iterator(keep), std::make_move_iterator(st->pending.end()));
    st->pending.erase(keep, st->pending.end());
    for (const auto& s : st->latest)
      if (s.device == device.id) snap.samples.push_back(s);
    if (device.id == st->layout.device) snap.events = std::exchange(st->events, {});
    if (snap.samples.empty())
      co_return fail(ErrorKind::Protocol,
                     "Solar-Log: plant " + st->info.id + " has sent no values today yet");
    co_return snap;
  }

  Capabilities capabilities(const DeviceInfo& device) const override {
    Capabilities c;
    c.history = true;
    c.history_step = minutes(5);
    c.data_interval = refresh_interval();
    auto it = by_device_.find(device.id);
    const PlantState* st = nullptr;
    if (it != by_device_.end())
      if (auto p = plants_.find(it->second); p != plants_.end()) st = &p->second;
    if (!st) return c;
    c.pv_rated_w = st->info.size_w;  // the plant's peak power, as the portal has it
    c.metrics = metrics_of(device, st->layout, advanced_.value_or(false));
    return c;
  }

  std::optional<CallBudget> budget() const override {
    // The portal's quota is the minute's.
    return CallBudget{planner_.minute_used(), planner_.per_minute(),
                      time_point_cast<Millis>(floor<minutes>(env_.clock.now()) + minutes(1))};
  }

  asio::awaitable<Result<std::vector<Sample>>> history(const DeviceInfo& device,
                                                       TimeRange range) override {
    auto st = state_of(device.id);
    if (!st) co_return fail(ErrorKind::NotFound, "Solar-Log: " + device.id + " was not discovered");
    bool ev = device.id == st->layout.ev_device;
    auto first = day_of(*st, range.from), last = day_of(*st, range.to - Millis(1));
    last = std::min(last, day_of(*st, env_.clock.now()));
    std::vector<Sample> out;
    for (auto from = first; from <= last; from += kMaxRangeDays) {
      auto to = std::min(last, from + kMaxRangeDays - 1);
      Slots slots;
      auto op = read_range(*st, from, to, ev, net::CallPurpose::Background, slots);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
      for (auto& s : samples_of(st->layout, slots))
        if (s.device == device.id && s.time >= range.from && s.time < range.to)
          out.push_back(std::move(s));
    }
    co_return out;
  }

 private:
  static const date::time_zone* zone_of(const std::string& name) {
    try {
      return date::locate_zone(name.empty() ? "Europe/Berlin" : name);
    } catch (const std::exception&) {
      return date::locate_zone("Europe/Berlin");  // the portal's home
    }
  }
  static std::int64_t day_of(const PlantState& st, TimePoint t) {
    return date::floor<date::days>(st.zone->to_local(t)).time_since_epoch().count();
  }
  static TimePoint day_start(const PlantState& st, std::int64_t day) {
    return time_point_cast<Millis>(
        st.zone->to_sys(date::local_days(date::days(day)), date::choose::earliest));
  }
  static std::string day_string(std::int64_t day) {
    return date::format("%F", date::local_days(date::days(day)));
  }
  static std::optional<std::int64_t> parse_day(const std::string& s) {
    TimePoint t;
    if (s.size() != 10 || !parse_iso8601(s, t)) return std::nullopt;
    return duration_cast<date::days>(t.time_since_epoch()).count();
  }

  PlantState* state_of(const std::string& device) {
    auto it = by_device_.find(device);
    if (it == by_device_.end()) return nullptr;
    auto p = plants_.find(it->second);
    return p == plants_.end() ? nullptr : &p->second;
  }

  asio::awaitable<Result<void>> take(net::CallPurpose purpose, std::string what) {
    // A fleet's shared client quota: the slice of its minute comes from the ledger first.
    for (int i = 0; i < 50 && planner_.waiting_for_ledger(); ++i)
      co_await env_.sleeper.sleep(Millis(100));
    auto wait = planner_.pacing_wait("solarlog");
    // A full minute waits for the next one (at most a minute, as the quota is a minute's).
    if (wait > seconds(65))
      co_return fail(Error{ErrorKind::RateLimited,
                           "Solar-Log: the quota of " + std::to_string(planner_.per_minute()) +
                               " calls a minute is used; " + what + " waits for the next minute",
                           duration_cast<seconds>(wait) + seconds(1)});
    if (wait.count() > 0) co_await env_.sleeper.sleep(wait);
    if (!planner_.try_take("solarlog", purpose))
      co_return fail(Error{ErrorKind::RateLimited,
                           "Solar-Log: no calls left this minute for " + what, seconds(60)});
    co_return Result<void>{};
  }

  // A refusal for the quota teaches the planner the minute's real limit.
  template <class T>
  Result<T> checked(Result<T> r) {
    if (!r && r.error().kind == ErrorKind::RateLimited) planner_.on_minute_refused();
    return r;
  }

  // Whether the client has the Advanced package: a KPI call answers 200 or 403.
  asio::awaitable<Result<bool>> probe_package(std::string plant, std::string day) {
    if (options_.package != PackageOption::Auto)
      co_return options_.package == PackageOption::Advanced;
    auto take_op = take(net::CallPurpose::Background, "the package");
    if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
    auto op = client_.kpis(plant, day, day);
    auto k = checked(co_await std::move(op));
    if (k) co_return true;
    if (k.error().kind == ErrorKind::NotSupported) co_return false;
    co_return fail(k.error());
  }

  Millis refresh_interval() const {
    // Plants send every 5 minutes; with many plants the minute's quota sets the pace (a fifth
    // of it is kept for events, KPIs and backfill).
    auto calls = static_cast<double>(plants_.size()) * (advanced_.value_or(false) ? 2 : 1);
    auto spread = duration_cast<Millis>(minutes(1) * (calls / (planner_.per_minute() * 0.8)));
    return std::max({Millis(minutes(5)), config_.poll_interval, spread});
  }

  // The plant's values (and, `ev`, the wallbox's) of the days from..to into `slots`.
  asio::awaitable<Result<void>> read_range(PlantState& st, std::int64_t from, std::int64_t to,
                                           bool ev, net::CallPurpose purpose, Slots& slots) {
    auto a = day_string(from), b = day_string(to);
    if (ev) {
      auto take_op = take(purpose, "the wallbox's values");
      if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
      auto op = client_.cross_epoch(st.info.id, {st.layout.ev}, wallbox_channels(), a, b);
      auto s = checked(co_await std::move(op));
      if (!s) co_return fail(s.error());
      return_into(st, *s, slots);
      co_return Result<void>{};
    }
    auto channels = plant_channels(st.layout);
    auto take_op = take(purpose, "the plant's values");
    if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
    Result<std::vector<Series>> s = std::vector<Series>{};
    if (from == to) {
      auto op = client_.day(st.info.id, a, channels);
      s = checked(co_await std::move(op));
    } else {
      auto op = client_.range(st.info.id, a, b, channels);
      s = checked(co_await std::move(op));
    }
    if (!s) co_return fail(s.error());
    return_into(st, *s, slots);
    co_return Result<void>{};
  }

  // Each series' points by their slot end.
  void return_into(const PlantState& st, const std::vector<Series>& list, Slots& slots) {
    for (const auto& s : list) {
      auto day = parse_day(s.date);
      if (!day) continue;
      add_series(slots, s, day_start(st, *day));
    }
  }

  // One refresh: the days missed since the last one, today's plant values, with Advanced the
  // components' and yesterday's KPIs, and the events when they are due.
  asio::awaitable<Result<void>> refresh(PlantState& st) {
    auto now = env_.clock.now();
    auto today = day_of(st, now);
    Slots slots;
    // The rest of the days since the last slot handed out (at most a range's worth; the engine's
    // backfill asks history() for anything older); at the first refresh just after midnight,
    // yesterday, so that there is a newest value before today's first slot.
    bool first = st.reported == TimePoint{};
    if (first ? now - day_start(st, today) < minutes(5) : day_of(st, st.reported) < today) {
      auto from = first ? today - 1 : std::max(day_of(st, st.reported), today - kMaxRangeDays);
      auto op = read_range(st, from, today - 1, false, net::CallPurpose::Background, slots);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    {
      auto op = read_range(st, today, today, false, net::CallPurpose::Live, slots);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    // The components' channels: what each of them carries.
    auto comps = component_channels(st.layout);
    if (advanced_.value_or(false) && !comps.components.empty()) {
      auto take_op = take(net::CallPurpose::Live, "the components' values");
      if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
      auto d = day_string(today);
      auto op = client_.cross_epoch(st.info.id, comps.components, comps.channels, d, d);
      auto s = checked(co_await std::move(op));
      if (!s) co_return fail(s.error());
      return_into(st, *s, slots);
    }
    if (advanced_.value_or(false) && st.kpi_day < today - 1) {
      auto op = read_kpis(st, today - 1);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    if (!st.events_read || now - *st.events_read >= options_.events_interval) {
      auto op = read_events(st, today);
      if (auto r = co_await std::move(op); !r) co_return fail(r.error());
    }
    auto all = samples_of(st.layout, slots);
    TimePoint newest = st.reported;
    for (const auto& s : all) newest = std::max(newest, s.time);
    // Just after midnight today has no slot yet: the last one of yesterday stays the newest.
    std::vector<Sample> latest;
    for (auto& s : all) {
      if (s.time == newest)
        latest.push_back(s);
      else if (s.time > st.reported)
        st.pending.push_back(std::move(s));
    }
    if (!latest.empty()) st.latest = std::move(latest);
    // The newest slot's values go out at every poll, so they are not pending as well.
    if (newest > st.reported) st.reported = newest;
    st.fetched = now;
    co_return Result<void>{};
  }

  asio::awaitable<Result<void>> read_kpis(PlantState& st, std::int64_t day) {
    auto take_op = take(net::CallPurpose::Background, "the KPIs");
    if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
    auto d = day_string(day);
    auto op = client_.kpis(st.info.id, d, d);
    auto k = checked(co_await std::move(op));
    if (!k) co_return fail(k.error());
    add_kpis(st.pending, st.layout, *k, day_start(st, day + 1));
    st.kpi_day = day;
    co_return Result<void>{};
  }

  asio::awaitable<Result<void>> read_events(PlantState& st, std::int64_t today) {
    auto take_op = take(net::CallPurpose::Background, "the events");
    if (auto t = co_await std::move(take_op); !t) co_return fail(t.error());
    auto op = client_.events(st.info.id, day_string(today - 1), day_string(today));
    auto list = checked(co_await std::move(op));
    if (!list) co_return fail(list.error());
    for (const auto& e : *list) {
      // An event is taken once it has ended, or at once when it is an error.
      if (st.seen_events.contains(e.id) || (!e.end && e.severity != "error")) continue;
      st.seen_events.insert(e.id);
      st.events.push_back(event_of(st.layout, e));
    }
    // Ids older than the two days asked for are never sent again.
    if (st.seen_events.size() > 2000) st.seen_events.erase(st.seen_events.begin());
    st.events_read = env_.clock.now();
    co_return Result<void>{};
  }

  ConnectionConfig config_;
  Options options_;
  const DriverEnv& env_;
  Client client_;
  net::QuotaPlanner planner_;
  std::optional<bool> advanced_;
  std::map<std::string, PlantState> plants_;      // by plant id
  std::map<std::string, std::string> by_device_;  // device id -> plant id
};

}  // namespace

DriverRegistry::Entry registry_entry() {
  return {
      "solarlog",
      "Solar-Log WEB Enerest User / Portal API (portal, client_id, client_secret; "
      "api.enerest.world over HTTPS unless host is set)",
      443,
      {"portal", "client_id", "client_secret", "package", "plant_id", "fleet", "auth_host",
       "per_minute", "events_interval"},
      [](const ConnectionConfig& given, const DriverEnv& env) -> Result<std::unique_ptr<Driver>> {
        auto c = given;
        bool default_host = c.host.empty();
        if (default_host) {
          c.host = kApiHost;
          c.tls = true;
          c.port = 443;
        }
        if (c.port == 0) c.port = c.tls ? 443 : 80;
        auto o = parse_options(c, default_host);
        if (!o) return fail(o.error());
        return std::unique_ptr<Driver>(std::make_unique<SolarLogDriver>(c, *o, env));
      }};
}

}  // namespace sb::solarlog
