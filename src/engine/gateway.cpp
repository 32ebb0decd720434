// The gateway: each connection's poll loop, the live state and health of every device, and the
// Gateway API over them (start, reload, stop, reads, commands). Longer than ~700 lines on
// purpose: the loop, the live state and the reload share one mutex and one connection list, and
// keeping every place that takes that lock in one file keeps the locking readable. What needs
// none of it lives beside it: commands (executor), leases, backfill, counters, housekeeping and
// the outage log.
#include "engine/gateway.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <cmath>
#include <cstdio>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <unordered_set>
#include <utility>

#include "core/calendar.hpp"
#include "core/commands.hpp"
#include "core/log.hpp"
#include "core/metric.hpp"
#include "core/schedule.hpp"
#include "engine/backfill.hpp"
#include "engine/counters.hpp"
#include "engine/estimates.hpp"
#include "engine/executor.hpp"
#include "engine/housekeeping.hpp"
#include "engine/leases.hpp"
#include "engine/outage_log.hpp"
#include "engine/quality.hpp"
#include "net/blocking.hpp"
#include "net/driver_env.hpp"
#include "net/json.hpp"
#include "net/retry.hpp"

namespace sb::engine {

namespace asio = boost::asio;

namespace {
// After this many failed polls in a row a device is reported offline (its values are not
// repeated as if fresh).
constexpr int kOfflineAfter = 3;

// Every digit: a lease's restore value is read back from this text.
std::string fmt_value(double v) {
  return net::number_text(v);
}

}  // namespace

struct Gateway::Impl : std::enable_shared_from_this<Impl>, ControlHost {
  struct Connection {
    ConnectionConfig config;
    std::unique_ptr<net::AsioSleeper> sleeper;
    std::unique_ptr<DriverEnv> env;
    std::unique_ptr<Driver> driver;
    std::unique_ptr<CounterGuard> counters;
    std::unique_ptr<EnergyEstimator> estimates;
    std::unique_ptr<Backfiller> backfill;
    bool backfill_loaded = false;  // strand only
    std::vector<DeviceInfo> devices;
    bool discovered = false;  // devices may come from the store before the first discovery
    ConnectionHealth health;
    std::unique_ptr<asio::steady_timer> timer;
    std::atomic<bool> running{false};    // the polling loop is on; set on the strand
    std::unique_ptr<OutageLog> outages;  // what the journal says of its failures; strand only
    bool closed = false;                 // driver->close() has run; strand only
    std::atomic<bool> retired{false};    // a reload removed or replaced it: its loop ends
    asio::strand<asio::any_io_executor> strand;
    explicit Connection(asio::any_io_executor ex) : strand(asio::make_strand(ex)) {}
  };

  GatewayDeps deps;
  Config config;
  // Shared: a command or a settings read keeps its connection while a reload replaces it.
  std::vector<std::shared_ptr<Connection>> connections;
  std::unordered_map<std::string, std::shared_ptr<Connection>> by_name;  // connections, by name
  // Connections a reload ended whose loop was still running when it returned (under mutex).
  std::vector<std::shared_ptr<Connection>> finishing;
  mutable std::mutex mutex;  // guards connections (the list), live, devices/health, settings
  std::map<std::string, DeviceLive> live;
  std::map<std::string, int> failures_in_a_row;  // by device
  // The series whose latest values were implausible: one event when they turn so, not one a poll.
  std::unordered_set<store::SeriesKey, store::SeriesKeyHash> implausible;
  std::map<std::string, DeviceSettings> settings;      // by device: as last read
  std::deque<std::pair<std::uint64_t, Event>> recent;  // the last events, for the outputs
  std::uint64_t event_seq = 0;
  std::map<std::string, SiteQuality> quality;     // by site
  std::map<std::string, TimePoint> balance_hour;  // by site: the hour the next check starts
  std::map<std::string, TimePoint> pv_day;        // by site: the midnight of the last PV check
  std::atomic<bool> stopping{false};
  // Housekeeping (retention, the disk's free space) on its own strand, every 10 minutes.
  std::unique_ptr<Housekeeper> housekeeper;
  // A polling gateway keeps its leases alive and hands them back when it stops; a one-shot
  // (CLI control) only respects those it adopted.
  bool keeps_leases = true;
  // A fleet's connections (pass_leases_on): their leases outlive their closing here.
  std::set<std::string> passing_on;

  // Commands and the leases they take (engine/executor.hpp, engine/leases.hpp): they reach
  // the devices through this Impl as their ControlHost.
  LeaseKeeper lease_keeper;
  CommandExecutor executor;

  Impl(GatewayDeps d, Config c)
      : deps(d),
        config(std::move(c)),
        lease_keeper(ControlDeps{deps.clock, deps.store, deps.blocking, *this}),
        executor(ControlDeps{deps.clock, deps.store, deps.blocking, *this}, lease_keeper) {
    lease_keeper.use(executor);
  }

  // ControlHost
  std::optional<CommandTarget> target(const std::string& device, std::string& known) override {
    DeviceInfo dev;
    if (auto c = connection_of(device, &dev)) return CommandTarget{dev, c->driver.get(), c};
    std::lock_guard lock(mutex);
    for (const auto& entry : live) known += (known.empty() ? "" : ", ") + entry.first;
    return std::nullopt;
  }
  void settings_changed(const std::string& device) override {
    std::lock_guard lock(mutex);
    settings.erase(device);
  }
  LeaseKeeper::Keepalive keepalive_of(Connection& c) {
    return [&c](const DeviceInfo& d) { return c.driver->capabilities(d).setpoint_keepalive; };
  }

  // A device's connection: the live view names it (every device of a connection is there),
  // the index by name finds it. A walk over every connection's devices cost each API call
  // O(devices).
  std::shared_ptr<Connection> connection_of(const std::string& device_id,
                                            DeviceInfo* out = nullptr) {
    std::lock_guard lock(mutex);
    auto l = live.find(device_id);
    if (l == live.end()) return nullptr;
    auto c = by_name.find(l->second.device.connection);
    if (c == by_name.end()) return nullptr;
    for (const auto& d : c->second->devices)
      if (d.id == device_id) {
        if (out) *out = d;
        return c->second;
      }
    return nullptr;
  }
  // Caller holds `mutex`, after any change to `connections`.
  void index_locked() {
    by_name.clear();
    by_name.reserve(connections.size());
    for (const auto& c : connections) by_name.emplace(c->config.name, c);
  }

  // The connections now (a reload may change the list meanwhile).
  std::vector<std::shared_ptr<Connection>> all_connections() const {
    std::lock_guard lock(mutex);
    return connections;
  }

  // A connection with its driver, backfiller and counters; nothing started yet.
  Result<std::shared_ptr<Connection>> make_connection(const ConnectionConfig& cc) {
    auto c = std::make_shared<Connection>(deps.executor);
    c->config = cc;
    c->sleeper = std::make_unique<net::AsioSleeper>(c->strand, &deps.clock);
    c->env = std::make_unique<DriverEnv>(
        DriverEnv{c->strand, deps.clock, deps.http, *c->sleeper, &deps.blocking, deps.ledger});
    auto d = deps.registry.create(cc, *c->env);
    if (!d) return fail(d.error());
    c->driver = std::move(*d);
    c->counters = std::make_unique<CounterGuard>(deps.store, deps.blocking);
    c->estimates = std::make_unique<EnergyEstimator>(deps.store, deps.blocking);
    c->backfill = std::make_unique<Backfiller>(
        Backfiller::Deps{deps.clock, deps.store, deps.blocking, *c->driver, cc.vendor,
                         cc.poll_interval, c->counters.get(), [impl = weak_from_this()](Event e) {
                           if (auto i = impl.lock()) i->record_event(std::move(e));
                         }});
    c->health.name = cc.name;
    c->health.vendor = cc.vendor;
    c->health.site = cc.site;
    c->health.state = "starting";
    c->timer = std::make_unique<asio::steady_timer>(c->strand);
    c->outages = std::make_unique<OutageLog>(cc.name);
    return c;
  }

  // Devices known from earlier runs are listed (offline) until their connection answers, so
  // an unreachable battery shows up as unreachable, not as missing. Caller holds `mutex`.
  void list_stored_devices_locked(Connection& c, const std::vector<DeviceInfo>& stored) {
    for (const auto& d : stored)
      if (d.connection == c.config.name && d.vendor == c.config.vendor) {
        c.devices.push_back(d);
        live[d.id].device = d;
      }
  }

  void spawn(std::shared_ptr<Connection> c, Millis first_round) {
    auto strand = c->strand;
    asio::co_spawn(
        strand,
        [impl = shared_from_this(), c = std::move(c), first_round]() {
          return impl->run(c, first_round);
        },
        asio::detached);
  }

  /// Starts connections' loops with their first rounds spread over the poll interval (2 ms a
  /// connection at most) in whole slots of a second. Thousands started at once would all
  /// connect in the same instant, and since each loop keeps its phase, ask together in every
  /// round after that too; one start each (2 ms apart) woke the gateway for every poll, which
  /// took twice the CPU of bursts (load harness, 10,000 devices every 10 s: 0.30 cores spread
  /// one by one, 0.19 all at once, 0.16-0.17 in slots of a second). Five homes start at once.
  static constexpr Millis kStartSlot{1000};
  void spawn_spread(const std::vector<std::shared_ptr<Connection>>& cs) {
    const auto n = static_cast<std::int64_t>(cs.size());
    for (std::int64_t i = 0; i < n; ++i) {
      const auto& c = cs[static_cast<std::size_t>(i)];
      const auto spread = std::min(c->config.poll_interval, Millis(2 * n));
      const auto at = Millis(spread.count() * i / n);
      spawn(c, at - at % kStartSlot);
    }
  }

  template <class F>
  auto blocking(F f) {
    return net::run_blocking(deps.blocking, std::move(f));
  }

  // Stores an event and writes it to the log: events are what an operator must see, each once
  // (an outage, a command, a lease, a gap), never per poll.
  void record_event(Event e) override {
    log_event(e);
    {
      std::lock_guard lock(mutex);
      recent.emplace_back(++event_seq, e);
      if (recent.size() > 1000) recent.pop_front();
    }
    // Off the I/O thread; an event lost to a failing disk is logged in stats, never fatal.
    asio::post(deps.blocking, [this, self = shared_from_this(), e = std::move(e)] {
      (void)deps.store.add_events({e});
    });
  }

  void log_event(const Event& e) {
    auto level = e.severity == Severity::Error     ? LogLevel::Error
                 : e.severity == Severity::Warning ? LogLevel::Warning
                                                   : LogLevel::Info;
    if (!log_enabled(level)) return;
    // The device's connection, from the live view (a look-up: a walk over every connection's
    // devices per event took most of the CPU of 50,000 connections starting).
    std::string connection;
    {
      std::lock_guard lock(mutex);
      if (auto it = live.find(e.device); it != live.end())
        connection = it->second.device.connection;
    }
    auto dot = e.code.find('.');
    log(level, dot == std::string::npos ? e.code : e.code.substr(0, dot), connection,
        e.code + ": " + e.message);
  }

  asio::awaitable<Result<void>> discover(Connection& c) {
    auto found = co_await c.driver->discover();
    if (!found) co_return fail(found.error());
    auto now = deps.clock.now();
    for (const auto& d : *found) {
      auto op = blocking([this, d, now] { return deps.store.upsert_device(d, now); });
      auto r = co_await std::move(op);
      if (!r) co_return fail(r.error());
    }
    std::lock_guard lock(mutex);
    // Devices listed from the store that discovery no longer finds leave the live view.
    for (const auto& old : c.devices)
      if (std::none_of(found->begin(), found->end(),
                       [&](const DeviceInfo& d) { return d.id == old.id; }))
        live.erase(old.id);
    if (!c.discovered) {
      std::string names;
      for (const auto& d : *found)
        names += (names.empty() ? "" : ", ") + d.id + (d.model.empty() ? "" : " (" + d.model + ")");
      log(LogLevel::Info, "gateway", c.config.name,
          "connected: " + std::to_string(found->size()) + " device(s)" +
              (names.empty() ? "" : ": " + names));
    }
    c.devices = *found;
    c.discovered = true;
    for (const auto& d : *found) {
      auto& l = live[d.id];
      l.device = d;
    }
    co_return Result<void>{};
  }

  void on_poll_ok(Connection& c, const DeviceInfo& d, Snapshot snap, double latency_ms) {
    c.outages->recovery(deps.clock.now());
    bool recovered = false;
    // Values older than the gap threshold (three polls, or three of the vendor's own updates)
    // are stale: a cloud that keeps answering an inverter's last upload. The device is then
    // reported unavailable, with its values marked stale, rather than repeated as current.
    auto now = deps.clock.now();
    auto age = now - snap.time;
    auto limit = gap_threshold(c.config.poll_interval, c.driver->capabilities(d).data_interval);
    bool stale_now = age > limit;
    bool went_stale = false, fresh_again = false;
    {
      std::lock_guard lock(mutex);
      auto& h = c.health;
      auto& l = live[d.id];
      // Back after it was reported offline (by its failures or by the age of its values).
      recovered = std::exchange(failures_in_a_row[d.id], 0) >= kOfflineAfter ||
                  (!l.online && !l.stale && l.last_success.has_value() && !stale_now);
      went_stale = stale_now && !l.stale;
      fresh_again = !stale_now && l.stale;
      l.stale = stale_now;
      h.polls++;
      h.consecutive_failures = 0;
      h.state = "ok";
      h.last_success = snap.time;
      h.last_latency_ms = latency_ms;
      double seconds = latency_ms / 1000;
      std::size_t bucket = 0;
      while (bucket < kPollLatencyBucketCount && seconds > kPollLatencyBuckets[bucket]) ++bucket;
      h.latency_counts[bucket]++;
      h.latency_sum_s += seconds;
      l.device = d;
      l.online = !stale_now;
      l.last_success = snap.time;
      // A device's first answer sizes its list (kept for every device: growing it by doubling
      // left up to half of it unused).
      if (l.values.empty()) l.values.reserve(snap.samples.size());
      for (const auto& s : snap.samples) {
        auto q = stale_now ? Quality::Stale : s.quality;
        auto it = std::find_if(l.values.begin(), l.values.end(),
                               [&](const LiveValue& v) { return v.metric == s.metric; });
        if (it == l.values.end())
          l.values.push_back({s.metric, s.time, s.value, q});
        else
          *it = {s.metric, s.time, s.value, q};
      }
    }
    if (went_stale) {
      (void)deps.store.enqueue({Sample{d.id, std::string(metric::kDeviceOnline), now, 0}});
      record_event({d.id, now, Severity::Warning, "device.stale",
                    d.id + " answers, but its newest values are from " + format_iso8601(snap.time) +
                        ": reported unavailable until they are new"});
    }
    if (fresh_again)
      record_event({d.id, now, Severity::Info, "device.fresh", d.id + " has new values again"});
    if (auto r = deps.store.enqueue(std::move(snap.samples)); !r) {
      std::lock_guard lock(mutex);
      c.health.last_error = r.error().message;
    }
    // After the enqueue: the check's flush must cover this poll's counters, or the writer
    // stores them while the check reads one metric after another, and the hour ends at this
    // poll for some counters and at the one before for others.
    maybe_check_balance(d.site, now);
    if (recovered)
      record_event(
          {d.id, deps.clock.now(), Severity::Info, "device.online", d.id + " answers again"});
    for (auto& e : snap.events) record_event(std::move(e));
  }

  // Values outside what their metric can be are not stored (nor shown): one event when a
  // metric's values turn implausible, none while they stay so, and /health counts them.
  void judge_plausibility(Connection& c, const DeviceInfo& d, Snapshot& snap) {
    auto bad = take_implausible(snap.samples, c.driver->capabilities(d));
    std::string news;
    TimePoint when = snap.time;
    {
      std::lock_guard lock(mutex);
      c.health.implausible_values += static_cast<std::int64_t>(bad.size());
      const Name device(d.id);
      for (const auto& s : snap.samples) implausible.erase({device, s.metric});
      for (const auto& b : bad)
        if (implausible.insert({device, b.sample.metric}).second) {
          news += (news.empty() ? "" : "; ") + describe(d.id, b);
          when = b.sample.time;
        }
    }
    // One event for the metrics of this poll (events are unique by device, time and code).
    if (!news.empty()) record_event({d.id, when, Severity::Warning, "value.implausible", news});
  }

  // Once an hour per site (at the first poll of a new hour): the energy balance of the hour that
  // ended, from the stored counters, off the I/O thread.
  void maybe_check_balance(const std::string& site, TimePoint now) {
    TimePoint hour = std::chrono::floor<std::chrono::hours>(now);
    std::vector<DeviceInfo> devices;
    TimePoint from;
    std::optional<PvCheck> pv_check;  // when yesterday's PV is to be held to the clear sky
    {
      std::lock_guard lock(mutex);
      auto [it, first] = balance_hour.try_emplace(site, hour);
      if (first || hour <= it->second) return;  // the hour sunbridge started in is not whole
      from = std::max(it->second, hour - std::chrono::hours(1));
      it->second = hour;
      for (const auto& c : connections)
        for (const auto& d : c->devices)
          if (d.site == site) devices.push_back(d);
      pv_check = pv_check_due_locked(site, now);
    }
    if (pv_check) check_pv_day_later(std::move(*pv_check), devices);
    TimeRange window{from, hour};
    asio::post(deps.blocking, [this, self = shared_from_this(), site, devices, window] {
      (void)deps.store.flush();  // the values at the end of the hour may still be queued
      auto b = check_energy_balance(deps.store, devices, window, Millis(15 * 60'000));
      if (!b) return;
      bool flagged;
      {
        std::lock_guard lock(mutex);
        auto& q = quality[site];
        q.site = site;
        q.last_window = window.from;
        q.last_result = describe(*b);
        q.last_in_wh = b->in_wh();
        q.last_out_wh = b->out_wh();
        q.last_residual_wh = b->residual_wh;
        q.last_flagged = flagged = b->flagged;
        if (!b->checkable)
          q.balance_uncheckable++;
        else
          q.balance_checks++;
        if (b->flagged) q.balance_flagged++;
      }
      if (flagged)
        (void)deps.store.add_events(
            {{"site:" + site, deps.clock.now(), Severity::Warning, "site.energy_imbalance",
              "energy of site " + site + " from " + format_iso8601(window.from) + " to " +
                  format_iso8601(window.to) + " does not balance: " + describe(*b)}});
    });
  }

  // A site's day to hold to the clear sky.
  struct PvCheck {
    Site site;
    TimeRange day;
  };

  // Caller holds `mutex`. The site and its day before the one `now` falls in, when it has PV
  // arrays and that day has not been held to the clear sky yet (once a day, at the first check
  // of a new day; a restarted gateway checks yesterday again, and the store keeps one event of
  // it).
  std::optional<PvCheck> pv_check_due_locked(const std::string& site, TimePoint now) {
    auto s = std::find_if(config.sites.begin(), config.sites.end(),
                          [&](const Site& x) { return x.id == site; });
    if (s == config.sites.end() || s->pv.empty()) return std::nullopt;
    Calendar cal(s->timezone);
    auto midnight = cal.midnight(now);
    auto [it, first] = pv_day.try_emplace(site, midnight);
    if (!first && it->second >= midnight) return std::nullopt;
    it->second = midnight;
    return PvCheck{*s, {cal.midnight(midnight - Millis(1)), midnight}};
  }

  // The day's PV of the site against its clear-sky yield, off the I/O thread: an event when it
  // fell far below.
  void check_pv_day_later(PvCheck check, std::vector<DeviceInfo> devices) {
    asio::post(deps.blocking, [this, self = shared_from_this(), check = std::move(check),
                               devices = std::move(devices)] {
      (void)deps.store.flush();
      auto d = check_pv_day(deps.store, check.site, devices, check.day, Millis(15 * 60'000));
      if (d && d->low)
        record_event({"site:" + check.site.id, check.day.to, Severity::Warning, "site.pv_low",
                      describe(*d, check.site)});
    });
  }

  // Caller holds `mutex`. Reports a device offline: its values are not shown as current.
  void mark_offline_locked(const std::string& id, TimePoint now) {
    auto& l = live[id];
    l.online = false;
    l.values.erase(
        std::remove_if(l.values.begin(), l.values.end(),
                       [](const LiveValue& v) { return v.metric != metric::kDeviceOnline; }),
        l.values.end());
    l.values.push_back({metric::kDeviceOnline, now, 0, Quality::Measured});
  }

  // A failed poll of `d` (null: the connection's discovery failed). A device goes offline after
  // its own third failure in a row, and every device of the connection whose newest values are
  // older than three polls goes offline by that age: on an account with two inverters both do,
  // however the failures fall between them.
  void on_poll_failed(Connection& c, const DeviceInfo* d, const Error& e) {
    std::vector<std::pair<std::string, std::string>> went_offline;  // device, why
    auto now = deps.clock.now();
    c.outages->failure(e, now);
    {
      std::lock_guard lock(mutex);
      auto& h = c.health;
      h.polls++;
      h.failures++;
      h.consecutive_failures++;
      h.last_error = e.describe();
      h.failures_by_kind[std::string(to_string(e.kind))]++;
      h.state = e.kind == ErrorKind::Auth ? "needs_credentials" : "failing";
      if (d && ++failures_in_a_row[d->id] == kOfflineAfter && live[d->id].online)
        went_offline.emplace_back(d->id, "did not answer " + std::to_string(kOfflineAfter) +
                                             " polls in a row: " + e.describe());
      for (const auto& dev : c.devices) {
        auto& l = live[dev.id];
        if (!l.online || !l.last_success) continue;
        if (std::any_of(went_offline.begin(), went_offline.end(),
                        [&](const auto& w) { return w.first == dev.id; }))
          continue;
        auto limit =
            gap_threshold(c.config.poll_interval, c.driver->capabilities(dev).data_interval);
        if (now - *l.last_success > limit)
          went_offline.emplace_back(dev.id, "has no values since " +
                                                format_iso8601(*l.last_success) +
                                                ": its connection fails: " + e.describe());
      }
      for (const auto& [id, why] : went_offline) mark_offline_locked(id, now);
    }
    for (const auto& [id, why] : went_offline) {
      (void)deps.store.enqueue({Sample{id, std::string(metric::kDeviceOnline), now, 0}});
      record_event({id, now, Severity::Warning, "device.offline", id + " " + why});
    }
  }

  void note_lateness(Connection& c, Millis lateness) {
    double seconds = static_cast<double>(lateness.count()) / 1000;
    std::size_t bucket = 0;
    while (bucket < kPollLatenessBucketCount && seconds > kPollLatenessBuckets[bucket]) ++bucket;
    std::lock_guard lock(mutex);
    auto& h = c.health;
    h.rounds_planned++;
    h.lateness_counts[bucket]++;
    h.lateness_sum_s += seconds;
    if (is_late_poll(lateness, c.config.poll_interval)) h.polls_late++;
  }

  /// `d` of the gateway's clock: real time, or less of it on an accelerated clock.
  asio::awaitable<void> wait(Connection& c, Millis d) {
    c.timer->expires_after(real_wait(deps.clock, d));
    boost::system::error_code ec;
    co_await c.timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  /// How a round ended: the pause before the next, and for a round of the plan (not a failed
  /// discovery) what it took and what the plan gave it, for its lateness.
  struct RoundEnd {
    Millis pause{0};
    bool planned = false;
    Millis spent{0}, next{0};
  };

  /// The loop of one connection. Its frame lives as long as the connection, so it keeps only
  /// the backoff: a round's locals (devices, snapshots, the awaited operations) are in round()'s
  /// frame, which exists while the round runs. With thousands of connections most are waiting.
  asio::awaitable<void> run(std::shared_ptr<Connection> cp, Millis first_round) {
    auto self = shared_from_this();
    auto& c = *cp;
    c.running = true;
    if (first_round > Millis(0)) co_await wait(c, first_round);
    // A cloud that fails is asked again after a growing pause (up to 5 minutes: the vendor's
    // budget); a device on the LAN every poll interval, so it is polled again within one
    // interval of coming back (for sonnen, with no history, that time would be lost for good).
    const auto* entry = deps.registry.find(c.config.vendor);
    bool local = entry && entry->local;
    net::Backoff backoff(
        local
            ? net::BackoffPolicy{c.config.poll_interval, c.config.poll_interval, 1.0, 0.0, 1 << 30}
            : net::BackoffPolicy{Millis(1000), Millis(300'000), 2.0, 0.2, 1 << 30});
    while (!stopping && !c.retired) {
      auto end = co_await round(c, backoff);
      if (!end) break;
      const auto waited_from = std::chrono::steady_clock::now();
      co_await wait(c, end->pause);
      // How late the next round starts: the time this one ran over its interval, and what the
      // wait overshot (a gateway too busy to wake the loop on time). A round after a failure
      // follows the backoff, not the plan, and is not counted.
      if (end->planned && !stopping && !c.retired) {
        auto waited = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                waited_from) *
                      deps.clock.rate();
        auto overshoot = std::chrono::duration_cast<Millis>(waited) - end->pause;
        note_lateness(c,
                      std::max(Millis(0), end->spent - end->next) + std::max(Millis(0), overshoot));
      }
    }
    c.running = false;
  }

  /// One round: discovery when it is needed, then a poll of each device with what follows it
  /// (counters, estimates, backfill, leases). Nothing when the gateway stops or the connection
  /// is retired in the middle.
  asio::awaitable<std::optional<RoundEnd>> round(Connection& c, net::Backoff& backoff) {
    bool discovered;
    {
      std::lock_guard lock(mutex);
      discovered = c.discovered;
    }
    if (!discovered) {
      auto r = co_await discover(c);
      if (!r) {
        on_poll_failed(c, nullptr, r.error());
        // A wrong password waits for the user (an hour); the device is not hammered.
        co_return RoundEnd{r.error().kind == ErrorKind::Auth
                               ? Millis(3'600'000)
                               : std::max(c.config.poll_interval, backoff.next())};
      }
      backoff.reset();
    }
    // The poll plan runs on the injected clock (a simulated one in tests); the latency of a
    // call, the retention's slices and the shutdown budgets are real time.
    auto started = deps.clock.now();
    std::vector<DeviceInfo> devices;
    {
      std::lock_guard lock(mutex);
      devices = c.devices;
    }
    if (!c.backfill_loaded) {
      c.backfill_loaded = true;
      auto op = c.backfill->load(devices);
      co_await std::move(op);
      bool passed_on = false;
      {
        std::lock_guard lock(mutex);
        passed_on = passing_on.contains(c.config.name);
      }
      auto rop = lease_keeper.recover(devices, passed_on);
      co_await std::move(rop);
    }
    bool failed = false;
    for (const auto& d : devices) {
      auto t0 = std::chrono::steady_clock::now();
      auto snap = co_await c.driver->poll(d);
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (snap) {
        judge_plausibility(c, d, *snap);
        auto rop = c.counters->adjust(snap->samples);
        auto resets = co_await std::move(rop);
        for (const auto& r : resets)
          record_event({d.id, r.time, Severity::Warning, "counter.reset",
                        r.metric + " of " + d.id + " fell from " + fmt_value(r.raw_before) +
                            " to " + fmt_value(r.raw_after) +
                            " Wh: a reset; stored from now on with " + fmt_value(r.offset) +
                            " Wh added, so that it stays monotonic"});
        // Counters the device does not report, from its powers (quality estimated).
        auto eop = c.estimates->add(
            d, snap->samples,
            gap_threshold(c.config.poll_interval, c.driver->capabilities(d).data_interval));
        co_await std::move(eop);
        auto gop = c.backfill->poll_succeeded(d, *snap);
        (void)co_await std::move(gop);
        on_poll_ok(c, d, std::move(*snap), ms);
      } else {
        failed = true;
        c.backfill->poll_failed(d.id, snap.error());
        on_poll_failed(c, &d, snap.error());
      }
    }
    if (stopping || c.retired) co_return std::nullopt;
    {
      // Samples the store could not keep become gaps, filled like any other where the
      // vendor has history.
      std::vector<std::string> ids;
      for (const auto& d : devices) ids.push_back(d.id);
      auto op = c.backfill->samples_dropped(deps.store.take_dropped(ids));
      co_await std::move(op);
    }
    {
      auto op = lease_keeper.tend(devices, *c.driver, keepalive_of(c));
      co_await std::move(op);
    }
    // Between polls, one step of backfill (a day of the gap that is due first); the driver's
    // history keeps within the vendor's ranges and budget.
    if (!failed) {
      auto bop = c.backfill->step(devices);
      (void)co_await std::move(bop);
    }
    Millis next = c.config.poll_interval;
    if (failed)
      next = std::max(next, backoff.next());
    else
      backoff.reset();
    auto spent = std::chrono::duration_cast<Millis>(deps.clock.now() - started);
    Millis pause = std::max(Millis(0), next - (failed ? Millis(0) : spent));
    // A lease ends (or is renewed) on time even while polls back off.
    if (auto due = lease_keeper.next_action(devices, keepalive_of(c)))
      pause = std::clamp(*due, Millis(0), pause);
    co_return RoundEnd{pause, !failed, spent, next};
  }

  /// On c's strand: waits (until `deadline`) for the polling loop to leave, then closes the
  /// driver. A loop still inside a slow poll at the deadline keeps its session: closing under
  /// a running call would race it, and the session expires on the device anyway.
  asio::awaitable<void> close(Connection& c, std::chrono::steady_clock::time_point deadline) {
    auto self = shared_from_this();
    asio::steady_timer t(c.strand);
    while (c.running && std::chrono::steady_clock::now() < deadline) {
      t.expires_after(Millis(10));
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (c.running || c.closed) co_return;
    c.closed = true;
    std::vector<Lease> held;
    if (keeps_leases) {
      std::vector<DeviceInfo> devices;
      bool passed_on = false;
      {
        std::lock_guard lock(mutex);
        devices = c.devices;
        passed_on = passing_on.contains(c.config.name);
      }
      // The worker that takes the connection next takes its leases over.
      if (passed_on)
        lease_keeper.forget(devices);
      else
        held = lease_keeper.of(devices);
    }
    for (const auto& l : held) {
      auto op = executor.hand_back(l, std::string("sunbridge stopped"));
      co_await std::move(op);
    }
    co_await c.driver->close();
  }

  asio::awaitable<Result<CommandRecord>> execute(Command cmd) {
    auto self = shared_from_this();  // the executor is ours: we outlive the command
    auto op = executor.execute(std::move(cmd));
    co_return co_await std::move(op);
  }
};

Gateway::Gateway(GatewayDeps deps, Config config)
    : impl_(std::make_shared<Impl>(deps, std::move(config))) {}

Gateway::~Gateway() {
  stop();
}

Result<void> Gateway::start(bool poll) {
  auto& I = *impl_;
  I.keeps_leases = poll;
  for (const auto& s : I.config.sites)
    if (auto r = I.deps.store.upsert_site(s); !r) return r;
  std::vector<std::shared_ptr<Impl::Connection>> made;
  for (const auto& cc : I.config.connections) {
    auto c = I.make_connection(cc);
    if (!c) return fail(c.error());
    made.push_back(std::move(*c));
  }
  {
    std::lock_guard lock(I.mutex);
    I.connections = made;
    I.index_locked();
    if (auto stored = I.deps.store.devices())
      for (auto& c : I.connections) I.list_stored_devices_locked(*c, *stored);
  }
  if (poll) {
    // This process owns the database now: a command the previous owner was running when it
    // ended (killed, crashed) will never finish; its audit row says so instead of "pending".
    auto detail = std::string(
        "sunbridge stopped while the command ran; whether the device took it is not known");
    // A fleet's database is shared: only the commands of this worker's own connections (its
    // file's); those of the fleet's connections are closed by whoever takes them over.
    std::vector<std::string> own;
    for (const auto& cc : I.config.connections) own.push_back(cc.name);
    auto n = I.config.fleet && own.empty() ? Result<std::int64_t>(0)
                                           : I.deps.store.close_interrupted_commands(
                                                 I.deps.clock.now(), detail,
                                                 I.config.fleet ? own : std::vector<std::string>{});
    if (!n)
      return fail(n.error());
    else if (*n > 0)
      I.record_event({"sunbridge", I.deps.clock.now(), Severity::Warning, "command.interrupted",
                      std::to_string(*n) + (*n == 1 ? " command was" : " commands were") +
                          " cut off when sunbridge last stopped; see the command audit"});
    I.spawn_spread(made);
    std::weak_ptr<Impl> weak = impl_;
    I.housekeeper = std::make_unique<Housekeeper>(
        I.deps.executor,
        HousekeepingDeps{I.deps.clock, I.deps.store, I.deps.blocking,
                         [weak] {
                           auto impl = weak.lock();
                           if (!impl) return store::Retention{};
                           std::lock_guard lock(impl->mutex);  // a reload may change it
                           return impl->config.storage.retention;
                         },
                         [weak](Event e) {
                           if (auto impl = weak.lock()) impl->record_event(std::move(e));
                         }});
    I.housekeeper->start();
  }
  return {};
}

Result<std::string> Gateway::reload(Config next, std::chrono::milliseconds budget) {
  auto& I = *impl_;
  // What only a restart changes: the database, the API's address and token, the threads.
  const auto& g = I.config.gateway;
  const auto& n = next.gateway;
  std::string needs_restart;
  if (g.database != n.database) needs_restart += ", gateway.database";
  if (g.listen_host != n.listen_host || g.listen_port != n.listen_port)
    needs_restart += ", gateway.listen";
  if (g.api_token != n.api_token) needs_restart += ", gateway.api_token";
  if (g.threads != n.threads) needs_restart += ", gateway.threads";
  if (I.config.mqtt != next.mqtt) needs_restart += ", mqtt";
  if (!needs_restart.empty())
    return fail(ErrorKind::InvalidArgument,
                "the new configuration changes " + needs_restart.substr(2) +
                    ", which only a restart applies (systemctl restart sunbridge); nothing was "
                    "changed");
  auto same = [](const ConnectionConfig& a, const ConnectionConfig& b) {
    return a.vendor == b.vendor && a.site == b.site && a.host == b.host && a.port == b.port &&
           a.tls == b.tls && a.poll_interval == b.poll_interval && a.timeout == b.timeout &&
           a.options == b.options;
  };
  // Made first: a connection whose driver refuses its options leaves everything as it was.
  std::vector<std::shared_ptr<Impl::Connection>> fresh;
  std::vector<std::string> added, changed, removed;
  auto current = I.all_connections();
  for (const auto& cc : next.connections) {
    auto old = std::find_if(current.begin(), current.end(),
                            [&](const auto& c) { return c->config.name == cc.name; });
    if (old != current.end() && same((*old)->config, cc)) continue;
    auto c = I.make_connection(cc);
    if (!c) return fail(c.error());
    fresh.push_back(std::move(*c));
    (old == current.end() ? added : changed).push_back(cc.name);
  }
  for (const auto& c : current)
    if (std::none_of(next.connections.begin(), next.connections.end(),
                     [&](const ConnectionConfig& cc) { return cc.name == c->config.name; }))
      removed.push_back(c->config.name);
  // Sites new or changed only: a reload that only stops connections (a fleet worker whose
  // database went away) does not need the store.
  for (const auto& s : next.sites)
    if (std::find(I.config.sites.begin(), I.config.sites.end(), s) == I.config.sites.end())
      if (auto r = I.deps.store.upsert_site(s); !r) return fail(r.error());
  // Those that go: their loops end, their leases are handed back, their drivers close.
  auto deadline = std::chrono::steady_clock::now() + budget;
  std::vector<std::shared_ptr<Impl::Connection>> ending;
  for (const auto& c : current)
    if (std::find(changed.begin(), changed.end(), c->config.name) != changed.end() ||
        std::find(removed.begin(), removed.end(), c->config.name) != removed.end())
      ending.push_back(c);
  std::vector<std::future<void>> closing;
  for (auto& c : ending) {
    c->retired = true;
    asio::post(c->strand, [c] { c->timer->cancel(); });
    closing.push_back(asio::co_spawn(
        c->strand, [impl = impl_, c, deadline] { return impl->close(*c, deadline); },
        asio::use_future));
  }
  for (auto& f : closing) f.wait_until(deadline + std::chrono::milliseconds(500));
  {
    std::lock_guard lock(I.mutex);
    for (const auto& c : ending) {
      std::erase(I.connections, c);
      if (c->running) I.finishing.push_back(c);
    }
    // Their devices' live values go, and those a loop still finishing wrote after an earlier
    // reload (a poll or discovery slower than the close budget).
    std::set<std::string_view> running;
    for (const auto& c : I.connections) running.insert(c->config.name);
    std::erase_if(I.live,
                  [&](const auto& kv) { return !running.contains(kv.second.device.connection); });
    auto stored = I.deps.store.devices();
    for (const auto& c : fresh) {
      if (stored) I.list_stored_devices_locked(*c, *stored);
      I.connections.push_back(c);
    }
    I.index_locked();
    I.config.sites = next.sites;
    I.config.connections = next.connections;
    I.config.log = next.log;
    I.config.storage = next.storage;
  }
  I.spawn_spread(fresh);
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out;
  };
  std::string summary;
  if (!added.empty()) summary += "; started " + list(added);
  if (!changed.empty()) summary += "; restarted " + list(changed);
  if (!removed.empty()) summary += "; stopped " + list(removed);
  return summary.empty() ? std::string("no connection changed") : summary.substr(2);
}

void Gateway::stop() {
  auto impl = impl_;
  if (impl->stopping.exchange(true)) return;
  if (impl->housekeeper) impl->housekeeper->stop();
  for (auto& c : impl->all_connections()) asio::post(c->strand, [c] { c->timer->cancel(); });
}

void Gateway::close(std::chrono::milliseconds budget) {
  stop();
  auto deadline = std::chrono::steady_clock::now() + budget;
  std::vector<std::future<void>> closing;
  for (auto& c : impl_->all_connections())
    closing.push_back(asio::co_spawn(
        c->strand, [impl = impl_, c, deadline] { return impl->close(*c, deadline); },
        asio::use_future));
  // Each driver's close() is bounded by its own HTTP timeout; the budget bounds the waiting
  // here so a hung device cannot hold up the shutdown of the whole gateway.
  for (auto& f : closing) f.wait_until(deadline + std::chrono::milliseconds(500));
}

asio::awaitable<Result<void>> Gateway::discover_all() {
  for (auto& c : impl_->all_connections()) {
    if (c->driver == nullptr) continue;
    auto r = co_await impl_->discover(*c);
    if (!r) co_return fail(with_context(r.error(), c->config.name));
  }
  co_return Result<void>{};
}

void Gateway::pass_leases_on(std::set<std::string> connections) {
  std::lock_guard lock(impl_->mutex);
  impl_->passing_on = std::move(connections);
}

asio::awaitable<Result<void>> Gateway::adopt_leases() {
  auto impl = impl_;
  auto op = impl->blocking([impl] { return impl->deps.store.leases(true, 10'000); });
  auto active = co_await std::move(op);
  if (!active) co_return fail(active.error());
  auto now = impl->deps.clock.now();
  std::vector<Lease> due;
  for (const auto& l : *active) {
    if (!impl->connection_of(l.device)) continue;
    if (now >= l.until) {
      due.push_back(l);
      continue;
    }
    impl->lease_keeper.hold(l);
  }
  for (const auto& l : due) {
    auto back = impl->executor.hand_back(l, "its time was up while no gateway ran");
    (void)co_await std::move(back);
  }
  co_return Result<void>{};
}

asio::awaitable<Result<std::vector<std::pair<DeviceInfo, Snapshot>>>> Gateway::poll_once() {
  std::vector<std::pair<DeviceInfo, Snapshot>> out;
  for (auto& c : impl_->connections) {
    std::vector<DeviceInfo> devices;
    {
      std::lock_guard lock(impl_->mutex);
      devices = c->devices;
    }
    for (const auto& d : devices) {
      auto s = co_await c->driver->poll(d);
      if (!s) co_return fail(with_context(s.error(), d.id));
      out.emplace_back(d, std::move(*s));
    }
  }
  co_return out;
}

std::vector<Site> Gateway::sites() const {
  return impl_->config.sites;
}

std::vector<DeviceInfo> Gateway::devices() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<DeviceInfo> out;
  for (const auto& c : impl_->connections)
    out.insert(out.end(), c->devices.begin(), c->devices.end());
  return out;
}

std::optional<DeviceInfo> Gateway::device(const std::string& id) const {
  DeviceInfo d;
  if (!impl_->connection_of(id, &d)) return std::nullopt;
  return d;
}

std::optional<Capabilities> Gateway::capabilities(const std::string& id) const {
  DeviceInfo d;
  auto c = impl_->connection_of(id, &d);
  if (!c) return std::nullopt;
  return c->driver->capabilities(d);
}

std::set<std::string> Gateway::finishing(const std::set<std::string>& connections) const {
  std::lock_guard lock(impl_->mutex);
  std::erase_if(impl_->finishing, [](const auto& c) { return !c->running; });
  std::set<std::string> out;
  for (const auto& c : impl_->finishing)
    if (connections.contains(c->config.name)) out.insert(c->config.name);
  return out;
}

std::vector<DeviceLive> Gateway::live() const {
  std::lock_guard lock(impl_->mutex);
  // Only devices of connections the gateway runs: a connection's loop that outlived a reload's
  // close budget may still write its device's values (a fleet worker handing a connection
  // back mid-poll); they must not shadow what the new holder reports.
  std::set<std::string_view> running;
  for (const auto& c : impl_->connections) running.insert(c->config.name);
  std::vector<DeviceLive> out;
  out.reserve(impl_->live.size());
  for (const auto& [id, l] : impl_->live)
    if (running.contains(l.device.connection)) out.push_back(l);
  return out;
}

std::vector<ConnectionHealth> Gateway::health() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<ConnectionHealth> out;
  for (const auto& c : impl_->connections) {
    out.push_back(c->health);
    if (c->driver) out.back().budget = c->driver->budget();
    if (c->backfill) {
      auto b = c->backfill->stats();
      out.back().gaps_found = b.gaps_found;
      out.back().gaps_open = b.open;
      out.back().samples_backfilled = b.samples_backfilled;
      out.back().samples_estimated = b.samples_estimated;
      out.back().implausible_values += b.samples_implausible;
      out.back().gaps_unfilled = b.gaps_unfilled;
    }
  }
  return out;
}

std::vector<SiteQuality> Gateway::quality() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<SiteQuality> out;
  for (const auto& s : impl_->config.sites) {
    auto it = impl_->quality.find(s.id);
    if (it != impl_->quality.end()) {
      out.push_back(it->second);
    } else {
      out.push_back({});
      out.back().site = s.id;
    }
  }
  return out;
}

asio::awaitable<Result<DeviceSettings>> Gateway::settings(std::string device, bool refresh) {
  auto impl = impl_;
  DeviceInfo dev;
  auto c = impl->connection_of(device, &dev);
  if (!c) co_return fail(ErrorKind::NotFound, "unknown device '" + device + "'");
  if (!refresh) {
    std::lock_guard lock(impl->mutex);
    if (auto it = impl->settings.find(device); it != impl->settings.end()) co_return it->second;
  }
  auto op = c->driver->settings(dev);
  auto read = co_await std::move(op);
  if (!read) co_return fail(with_context(read.error(), device + ": reading its settings"));
  DeviceSettings s{device, std::move(*read), impl->deps.clock.now()};
  std::lock_guard lock(impl->mutex);
  impl->settings[device] = s;
  co_return s;
}

std::vector<std::pair<std::uint64_t, Event>> Gateway::events_after(std::uint64_t after) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::pair<std::uint64_t, Event>> out;
  for (const auto& e : impl_->recent)
    if (e.first > after) out.push_back(e);
  return out;
}

asio::awaitable<Result<CommandRecord>> Gateway::execute(Command command) {
  auto op = impl_->execute(std::move(command));
  co_return co_await std::move(op);
}

}  // namespace sb::engine
