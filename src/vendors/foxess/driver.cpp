// The FoxESS Open API driver: discovery, real-time polls on the day's call budget, history
// (with counters rebuilt from reports where history/query has none) and seven commands, each
// written and read back. Longer than ~700 lines on purpose: every call goes through the one
// quota planner and the per-interface pacing held here, and the commands' read-back loops share
// them; the wire types, the mapping and the scheduler rules are in their own files.
#include "vendors/foxess/driver.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "core/calendar.hpp"
#include "core/schedule.hpp"
#include "net/driver_env.hpp"
#include "net/quota_planner.hpp"
#include "net/token_file.hpp"
#include "vendors/foxess/client.hpp"
#include "vendors/foxess/mapping.hpp"

namespace sb::foxess {

namespace {

constexpr const char* kCloudHost = "www.foxesscloud.com";
constexpr const char* kRealTime = "/op/v1/device/real/query";
constexpr int kCallsPerInverter = 1440;
const std::vector<std::string> kWorkModes = {"SelfUse", "Feedin", "Backup"};
constexpr double kExportLimitMaxW = 30'000;  // the ExportLimit setting's range
constexpr double kImportLimitMaxW = 50'000;  // peakShaving importLimit 0..50 kW

struct Options {
  std::string api_key;
  std::optional<OAuthApp> app;  // OAuth 2.0 instead of an API key (foxess.md §2.3)
  Millis verify_timeout{10'000};
  int daily_calls_per_inverter = kCallsPerInverter;
  bool oauth() const { return app.has_value(); }
};

Result<Options> parse_options(const ConnectionConfig& c) {
  Options o;
  OptionReader r(c);
  o.api_key = r.text("api_key");
  o.app = oauth_app(r);
  if (!o.app && o.api_key.empty())
    r.refuse("",
             "option api_key is required (FoxESS Cloud: personal center -> API management; keep "
             "it in an environment variable: ${FOXESS_API_KEY}), or client_id, client_secret and "
             "token_file for OAuth");
  o.verify_timeout = r.seconds("verify_timeout", 0, 600, o.verify_timeout);
  o.daily_calls_per_inverter =
      int(r.number("daily_calls", 10, 1'000'000, o.daily_calls_per_inverter));
  return r.result(std::move(o));
}

class FoxessDriver final : public Driver {
 public:
  FoxessDriver(ConnectionConfig config, Options options, const DriverEnv& env)
      : config_(std::move(config)),
        options_(std::move(options)),
        env_(env),
        client_(env.http, endpoint_of(config_, 443), options_.api_key, env.clock, config_.timeout,
                &env_.sleeper),
        planner_(env.clock, {options_.daily_calls_per_inverter}) {
    share_budget(planner_, config_, env);
    // The cloud counts an interface's gap between the calls it takes, which may be any moment
    // between a call's sending and its answer: the next call is paced from the answer.
    // Other connections of a fleet's shared account call the same interfaces: the moments are
    // taken at the database, the gap counted at the cloud, and a call's way there (a database
    // answer, a sleep's wake-up, the request) varies, so that gap is kept wider.
    // A call given up on for want of an answer may still be taken that much later again (a
    // cloud holding requests): the interface waits a timeout more before its next call.
    client_.pace_with([this](std::string interface, bool write, Client::Pace when) {
      const bool after = when != Client::Pace::Before;
      const Millis hold =
          when == Client::Pace::GaveUp ? Millis(config_.timeout.count()) : Millis(0);
      if (after) planner_.answered(interface, hold);
      const net::QuotaLimits limits;
      const Millis jitter(250);
      return pace_shared(config_, env_, std::move(interface),
                         (write ? limits.write_gap : limits.query_gap) + jitter + hold, after);
    });
    if (options_.app)
      oauth_.emplace("FoxESS", options_.app->client_id, options_.app->token_file,
                     "run `sunbridge auth foxess -c <config> --connection " + config_.name + "`",
                     env.clock, env_.sleeper);
  }

  asio::awaitable<Result<std::vector<DeviceInfo>>> discover() override {
    auto auth = authorize();
    if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
    auto t = take_background("/op/v0/device/list", "device list");
    if (auto r = co_await std::move(t); !r) co_return fail(r.error());
    auto op = client_.devices();
    auto list = co_await std::move(op);
    if (!list) co_return fail(refused(list.error(), "/op/v0/device/list"));
    std::vector<DeviceInfo> out;
    devices_.clear();
    for (const auto& d : *list) {
      DeviceInfo info;
      info.id = config_.name + ":" + d.sn;
      info.site = config_.site;
      info.connection = config_.name;
      info.vendor = "foxess";
      info.kind = "inverter";
      info.manufacturer = "FoxESS";
      info.model = d.device_type;
      info.serial = d.sn;
      devices_[d.sn] = d;
      out.push_back(std::move(info));
    }
    planner_.set_period_calls(options_.daily_calls_per_inverter *
                              std::max<int>(1, int(out.size())));
    // The plants' zones place the reports' days and hours in time (history beyond what
    // history/query keeps). Without them discovery still succeeds; that backfill then says why.
    if (planner_.try_take("/op/v0/plant/list", net::CallPurpose::Background)) {
      auto pop = client_.plants();
      if (auto plants = co_await std::move(pop); plants)
        for (const auto& p : *plants) zones_[p.station_id] = p.timezone;
    }
    co_return out;
  }

  asio::awaitable<Result<Snapshot>> poll(const DeviceInfo& device) override {
    auto now = env_.clock.now();
    // One batch call serves every inverter of the account (50 per call); it is refreshed as
    // often as the day's budget allows, and polls in between answer from it.
    int calls = std::max(1, int((devices_.size() + 49) / 50));
    bool due = planner_.live_due(fetched_, calls, config_.poll_interval);
    if (due) {
      auto auth = authorize();
      if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
    }
    if (due && planner_.pacing_wait(kRealTime).count() == 0 &&
        planner_.try_take(kRealTime, net::CallPurpose::Live)) {
      std::vector<std::string> sns;
      for (const auto& [sn, d] : devices_) sns.push_back(sn);
      if (sns.empty()) sns.push_back(device.serial);
      // Batches beyond the first count against the budget too (the client paces them itself,
      // so they are booked under their own names rather than refused for pacing here).
      for (int extra = 1; extra < calls; ++extra)
        (void)planner_.try_take(kRealTime + std::to_string(extra), net::CallPurpose::Live);
      auto op = client_.real_time(sns, {});
      auto rt = co_await std::move(op);
      if (!rt) {
        failed_ = refused(rt.error(), kRealTime);
        co_return fail(*failed_);
      }
      fetched_ = now;
      failed_.reset();
      for (auto& r : *rt) cache_[r.sn] = std::move(r);
    }
    // The last batch failed and what is cached is due for renewal: every inverter of the
    // account reports that failure rather than old values as new.
    if (failed_ && due) co_return fail(*failed_);
    auto it = cache_.find(device.serial);
    if (it == cache_.end()) {
      if (!fetched_) co_return fail(budget_error("real-time data"));
      co_return fail(ErrorKind::NotFound,
                     "FoxESS: " + device.serial + " is no longer in the account's real-time data");
    }
    auto time = parse_device_time(it->second.time).value_or(*fetched_);
    Snapshot snap;
    snap.time = time;
    snap.samples = map_real_time(it->second.data, device.id, time);
    // What the account's budget looks like, as vendor metrics of every inverter.
    snap.samples.push_back({device.id, "vendor.foxess.quota_used", now, double(planner_.used())});
    snap.samples.push_back({device.id, "vendor.foxess.quota_left", now, double(planner_.left())});
    co_return snap;
  }

  std::optional<CallBudget> budget() const override {
    return CallBudget{planner_.used(), planner_.period_calls(), planner_.next_reset()};
  }

  Capabilities capabilities(const DeviceInfo& device) const override {
    Capabilities c;
    c.history = true;
    c.history_step = std::chrono::minutes(5);   // history/query keeps 5-minute values
    c.data_interval = std::chrono::minutes(5);  // inverters upload to the cloud this often
    auto it = devices_.find(device.serial);
    bool battery = it == devices_.end() || it->second.has_battery;
    c.commands.push_back({CommandType::ExportLimit, 0, kExportLimitMaxW, {}, 0});
    if (battery) {
      std::vector<std::string> modes;
      for (auto m : {TouMode::SelfUse, TouMode::FeedIn, TouMode::Backup, TouMode::Charge,
                     TouMode::Discharge})
        modes.emplace_back(to_string(m));
      c.commands.insert(c.commands.end(),
                        {{CommandType::MinSoc, 10, 100, {}, 0},
                         {CommandType::MinSocOffGrid, 10, 100, {}, 0},
                         {CommandType::BatteryStrategy, 0, 0, kWorkModes, 0},
                         // A segment's power up to the export limit's; the device's own range is
                         // checked on apply.
                         {CommandType::TouSchedule, 0, kExportLimitMaxW, modes, kSchedulerGroups},
                         {CommandType::ChargeWindows, 0, 0, {}, 2},
                         {CommandType::PeakShaving, 0, kImportLimitMaxW, {}, 0}});
    }
    return c;
  }

  asio::awaitable<Result<std::vector<Sample>>> history(const DeviceInfo& device,
                                                       TimeRange range) override {
    auto auth = authorize();
    if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
    std::vector<Sample> out;
    // The cloud answers 24 hours per call; each call is background work in the budget.
    for (auto from = range.from; from < range.to; from += std::chrono::hours(24)) {
      auto to = std::min(range.to, from + std::chrono::hours(24));
      auto t = take_background("/op/v0/device/history/query", "history");
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.history(device.serial, history_variables(), from, to);
      auto series = co_await std::move(op);
      if (!series) co_return fail(refused(series.error(), "/op/v0/device/history/query"));
      auto samples = map_history(*series, device.id, {from, to});
      out.insert(out.end(), samples.begin(), samples.end());
    }
    // No energy counters in what history/query returned (the range is older than it keeps):
    // the reports rebuild them hour by hour.
    bool counters = std::any_of(out.begin(), out.end(), [](const Sample& s) {
      return s.metric == metric::kEnergyGridImport;
    });
    if (!counters) {
      auto rop = counters_from_reports(device, range);
      auto rebuilt = co_await std::move(rop);
      if (!rebuilt) {
        if (out.empty()) co_return fail(rebuilt.error());
      } else {
        out.insert(out.end(), rebuilt->begin(), rebuilt->end());
      }
    }
    co_return out;
  }

  asio::awaitable<Result<CommandOutcome>> apply(const DeviceInfo& device,
                                                const Command& cmd) override {
    using Apply =
        asio::awaitable<Result<CommandOutcome>> (FoxessDriver::*)(const DeviceInfo&, Command);
    Apply apply_one = nullptr;
    switch (cmd.type) {
      case CommandType::MinSoc:
        apply_one = &FoxessDriver::apply_min_soc;
        break;
      case CommandType::BatteryStrategy:
        apply_one = &FoxessDriver::apply_work_mode;
        break;
      case CommandType::MinSocOffGrid:
        apply_one = &FoxessDriver::apply_min_soc_off_grid;
        break;
      case CommandType::ExportLimit:
        apply_one = &FoxessDriver::apply_export_limit;
        break;
      case CommandType::TouSchedule:
        apply_one = &FoxessDriver::apply_schedule;
        break;
      case CommandType::ChargeWindows:
        apply_one = &FoxessDriver::apply_charge_windows;
        break;
      case CommandType::PeakShaving:
        apply_one = &FoxessDriver::apply_peak_shaving;
        break;
      default:
        break;
    }
    if (apply_one) {
      auto auth = authorize();
      if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
      auto op = (this->*apply_one)(device, cmd);
      auto out = co_await std::move(op);
      if (!out && out.error().kind == ErrorKind::Auth && oauth_) oauth_->mark_stale();
      co_return out;
    }
    co_return fail(ErrorKind::NotSupported,
                   device.id + " (FoxESS) does not take " + std::string(to_string(cmd.type)));
  }

  // What the commands set, read as their read-backs read it: five or six calls of the day's
  // budget (as commands), so the gateway asks only when someone looks.
  asio::awaitable<Result<std::vector<sb::Setting>>> settings(const DeviceInfo& device) override {
    auto auth = authorize();
    if (auto a = co_await std::move(auth); !a) co_return fail(a.error());
    auto op = read_settings(device);
    auto out = co_await std::move(op);
    if (!out && out.error().kind == ErrorKind::Auth && oauth_) oauth_->mark_stale();
    co_return out;
  }

 private:
  asio::awaitable<Result<std::vector<sb::Setting>>> read_settings(const DeviceInfo& device) {
    std::vector<sb::Setting> out;
    const std::string sn = device.serial;
    auto it = devices_.find(sn);
    bool battery = it == devices_.end() || it->second.has_battery;
    const std::string setting = "/op/v0/device/setting/get";
    {
      auto t = take_for_command(setting, false);
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.setting(sn, "ExportLimit");
      auto v = co_await std::move(op);
      if (!v) co_return fail(refused(v.error(), setting));
      out.push_back(
          {CommandType::ExportLimit, std::round(std::strtod(v->value.c_str(), nullptr)), ""});
    }
    if (!battery) co_return out;
    {
      const std::string get = "/op/v0/device/battery/soc/get";
      auto t = take_for_command(get, false);
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.min_soc(sn);
      auto v = co_await std::move(op);
      if (!v) co_return fail(refused(v.error(), get));
      out.push_back({CommandType::MinSoc, double(v->second), ""});
      out.push_back({CommandType::MinSocOffGrid, double(v->first), ""});
    }
    std::string mode;
    {
      auto t = take_for_command(setting, false);
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.setting(sn, "WorkMode");
      auto v = co_await std::move(op);
      if (!v) co_return fail(refused(v.error(), setting));
      mode = v->value;
      out.push_back({CommandType::BatteryStrategy, std::nullopt, mode});
    }
    {
      const std::string get = "/op/v1/device/scheduler/get";
      auto t = take_for_command(get, false);
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.scheduler(sn);
      auto v = co_await std::move(op);
      if (!v) co_return fail(refused(v.error(), get));
      out.push_back({CommandType::TouSchedule, std::nullopt, tou_text(*v)});
    }
    {
      const std::string get = "/op/v0/device/battery/forceChargeTime/get";
      auto t = take_for_command(get, false);
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.force_charge(sn);
      auto v = co_await std::move(op);
      if (!v) co_return fail(refused(v.error(), get));
      out.push_back(
          {CommandType::ChargeWindows, std::nullopt, format_time_windows(windows_of(*v))});
    }
    if (mode != "PeakShaving") {
      out.push_back({CommandType::PeakShaving, std::nullopt, "off"});
    } else {
      const std::string get = "/op/v0/device/peakShaving/get";
      auto t = take_for_command(get, false);
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.peak_shaving(sn);
      auto v = co_await std::move(op);
      if (!v) co_return fail(refused(v.error(), get));
      double scale = v->import_limit.unit == "kW" ? 1000 : 1;
      out.push_back({CommandType::PeakShaving, std::nullopt,
                     format_peak_shaving(PeakShaving{
                         std::round(std::strtod(v->import_limit.value.c_str(), nullptr) * scale),
                         std::strtod(v->soc.value.c_str(), nullptr)})});
    }
    co_return out;
  }

  // A call of `interface` for `purpose`: waits for the interface's pacing, then asks the
  // planner; a budget error naming `what` when the day has no room for it.
  asio::awaitable<Result<void>> take(std::string interface, net::CallPurpose purpose, bool write,
                                     std::string what) {
    // A fleet's shared account: the slice of its budget comes from the ledger first.
    for (int i = 0; i < 50 && planner_.waiting_for_ledger(); ++i)
      co_await env_.sleeper.sleep(Millis(100));
    auto wait = planner_.pacing_wait(interface, write);
    if (wait.count() > 0) co_await env_.sleeper.sleep(wait);
    if (!planner_.try_take(interface, purpose, write)) co_return fail(budget_error(what));
    co_return Result<void>{};
  }
  asio::awaitable<Result<void>> take_background(std::string interface, std::string what) {
    return take(std::move(interface), net::CallPurpose::Background, false, std::move(what));
  }

  // Lifetime counters at every hour boundary of `range` from the reports: anchored on the
  // device's counters now, walked back over whole days (month reports, 0.01 kWh a day) to the
  // range's days, then forward hour by hour (day reports). At most 92 days back.
  asio::awaitable<Result<std::vector<Sample>>> counters_from_reports(const DeviceInfo& device,
                                                                     TimeRange range) {
    const std::string report = "/op/v0/device/report/query", sn = device.serial;
    auto dev = devices_.find(sn);
    auto zone = dev == devices_.end() ? std::string() : zones_[dev->second.station_id];
    if (zone.empty())
      co_return fail(ErrorKind::NotSupported,
                     "FoxESS: the plant of " + sn +
                         " has no known time zone, so its reports cannot be placed in time");
    std::optional<Calendar> cal;
    try {
      cal.emplace(zone);
    } catch (const std::exception&) {
      co_return fail(ErrorKind::Protocol,
                     "FoxESS: the plant of " + sn + " has an unknown time zone '" + zone + "'");
    }
    // The anchor: this device's counters as the cloud has them now.
    auto t0 = take_background(kRealTime, "history from reports");
    if (auto t = co_await std::move(t0); !t) co_return fail(t.error());
    auto rop = client_.real_time({sn}, report_variables());
    auto rt = co_await std::move(rop);
    if (!rt) co_return fail(refused(rt.error(), kRealTime));
    if (rt->empty()) co_return fail(ErrorKind::NotFound, "FoxESS: no real-time data of " + sn);
    auto anchor_time = parse_device_time(rt->front().time).value_or(env_.clock.now());
    const auto& vars = report_variables();
    Energies anchor(vars.size(), 0.0);
    for (const auto& d : rt->front().data)
      for (std::size_t v = 0; v < vars.size(); ++v)
        if (d.variable == vars[v]) anchor[v] = d.value;
    auto from = std::max(range.from, anchor_time - std::chrono::hours(24 * 92));
    auto to = std::min(range.to, anchor_time);
    if (from >= to) co_return std::vector<Sample>{};

    auto fetch = [this, sn, report](
                     std::string dimension,
                     LocalFields f) -> asio::awaitable<Result<std::vector<Energies>>> {
      auto t = take_background(report, "history from reports");
      if (auto ok = co_await std::move(t); !ok) co_return fail(ok.error());
      auto op = client_.report(sn, dimension, f.year, f.month, f.day, report_variables());
      auto r = co_await std::move(op);
      if (!r) co_return fail(refused(r.error(), report));
      // Transposed: one Energies per hour / day.
      std::vector<Energies> steps;
      for (std::size_t v = 0; v < r->size(); ++v)
        for (std::size_t k = 0; k < (*r)[v].values.size(); ++k) {
          if (steps.size() <= k) steps.resize(k + 1, Energies(report_variables().size(), 0.0));
          if (v < steps[k].size()) steps[k][v] = (*r)[v].values[k];
        }
      co_return steps;
    };
    auto subtract = [](Energies& a, const Energies& b) {
      for (std::size_t v = 0; v < a.size() && v < b.size(); ++v) a[v] -= b[v];
    };
    // Today so far takes the anchor back to this midnight.
    auto today = cal->midnight(anchor_time);
    auto dop = fetch("day", cal->fields(today));
    auto today_hours = co_await std::move(dop);
    if (!today_hours) co_return fail(today_hours.error());
    Energies at_midnight = anchor;
    for (const auto& h : *today_hours) subtract(at_midnight, h);
    // Counters at each midnight back to the range's first day, from the months' days.
    std::map<TimePoint, Energies> midnights{{today, at_midnight}};
    auto first_day = cal->midnight(from);
    std::map<std::pair<int, int>, std::vector<Energies>> months;
    for (auto day = today; day > first_day;) {
      auto prev = cal->midnight(day - std::chrono::hours(1));
      auto f = cal->fields(prev);
      auto key = std::pair{f.year, f.month};
      if (!months.contains(key)) {
        auto mop = fetch("month", {f.year, f.month, 1});
        auto days = co_await std::move(mop);
        if (!days) co_return fail(days.error());
        months[key] = std::move(*days);
      }
      Energies c = midnights[day];
      const auto& days = months[key];
      if (std::size_t(f.day - 1) < days.size()) subtract(c, days[std::size_t(f.day - 1)]);
      midnights[prev] = c;
      day = prev;
    }
    // Forward through each of the range's days hour by hour.
    std::vector<Sample> out;
    for (auto day = first_day; day < to; day = cal->next_midnight(day)) {
      std::vector<Energies> hours_of_day;
      if (day == today) {
        hours_of_day = *today_hours;
      } else {
        auto hop = fetch("day", cal->fields(day));
        auto h = co_await std::move(hop);
        if (!h) co_return fail(h.error());
        hours_of_day = std::move(*h);
      }
      // The day's closing midnight comes from the next day's anchor when that day is in range.
      auto next = cal->next_midnight(day);
      std::vector<TimePoint> times;
      for (std::size_t k = 0; k <= hours_of_day.size(); ++k)
        if (auto t = day + std::chrono::hours(k); t < next || next >= to) times.push_back(t);
      auto samples = report_counters(times, midnights[day], hours_of_day, device.id, {from, to});
      out.insert(out.end(), samples.begin(), samples.end());
    }
    co_return out;
  }

  // OAuth: sets the access token the client sends (net::OAuthSession refreshes it when due
  // and rewrites the token file). Nothing to do with an API key.
  asio::awaitable<Result<void>> authorize() {
    if (!oauth_) co_return Result<void>{};
    auto op = oauth_->access_token([this](std::string refresh_token) {
      return client_.refresh_tokens(options_.app->client_id, options_.app->client_secret,
                                    std::move(refresh_token));
    });
    auto token = co_await std::move(op);
    if (!token) co_return fail(token.error());
    client_.use_access_token(std::move(*token));
    co_return Result<void>{};
  }

  // Commands wait for pacing, never for the budget's live share.
  asio::awaitable<Result<void>> take_for_command(std::string interface, bool write) {
    return take(std::move(interface), net::CallPurpose::Command, write, "a command");
  }

  asio::awaitable<Result<CommandOutcome>> apply_min_soc(const DeviceInfo& device, Command cmd) {
    const std::string get = "/op/v0/device/battery/soc/get", set = "/op/v0/device/battery/soc/set";
    auto t1 = take_for_command(get, false);
    if (auto r = co_await std::move(t1); !r) co_return fail(r.error());
    auto op = client_.min_soc(device.serial);
    auto before = co_await std::move(op);
    if (!before) co_return fail(refused(before.error(), get));
    int target = int(std::lround(cmd.value));
    // The canonical minimum SoC is the on-grid floor; the off-grid floor never exceeds it.
    int off_grid = std::min(before->first, target);
    auto t2 = take_for_command(set, true);
    if (auto r = co_await std::move(t2); !r) co_return fail(r.error());
    auto wop = client_.set_min_soc(device.serial, off_grid, target);
    if (auto w = co_await std::move(wop); !w) co_return fail(refused(w.error(), set));
    CommandOutcome out;
    out.before = before->second;
    auto deadline = env_.clock.now() + options_.verify_timeout;
    for (;;) {
      auto t3 = take_for_command(get, false);
      if (auto r = co_await std::move(t3); !r) co_return fail(r.error());
      auto rop = client_.min_soc(device.serial);
      auto now = co_await std::move(rop);
      if (now) {
        out.after = now->second;
        if (now->second == target) {
          out.verified = true;
          out.detail = "minimum SoC " + std::to_string(target) +
                       " % (on grid) read back from the "
                       "cloud; off grid " +
                       std::to_string(now->first) + " %";
          co_return out;
        }
      }
      if (env_.clock.now() >= deadline) break;
      co_await env_.sleeper.sleep(std::chrono::seconds(2));
    }
    out.detail = "the cloud accepted minimum SoC " + std::to_string(target) + " % but reads back " +
                 (out.after ? std::to_string(int(*out.after)) + " %" : std::string("nothing"));
    co_return out;
  }

  asio::awaitable<Result<CommandOutcome>> apply_work_mode(const DeviceInfo& device, Command cmd) {
    if (std::find(kWorkModes.begin(), kWorkModes.end(), cmd.argument) == kWorkModes.end())
      co_return fail(ErrorKind::InvalidArgument,
                     "work mode '" + cmd.argument + "' is not SelfUse, Feedin or Backup");
    const std::string get = "/op/v0/device/setting/get", set = "/op/v0/device/setting/set";
    auto t2 = take_for_command(set, true);
    if (auto r = co_await std::move(t2); !r) co_return fail(r.error());
    auto wop = client_.set_setting(device.serial, "WorkMode", cmd.argument);
    if (auto w = co_await std::move(wop); !w) co_return fail(refused(w.error(), set));
    CommandOutcome out;
    auto deadline = env_.clock.now() + options_.verify_timeout;
    std::string seen;
    for (;;) {
      auto t3 = take_for_command(get, false);
      if (auto r = co_await std::move(t3); !r) co_return fail(r.error());
      auto rop = client_.setting(device.serial, "WorkMode");
      auto now = co_await std::move(rop);
      if (now) {
        seen = now->value;
        if (seen == cmd.argument) {
          out.verified = true;
          out.detail = "work mode " + seen + " read back from the cloud";
          co_return out;
        }
      }
      if (env_.clock.now() >= deadline) break;
      co_await env_.sleeper.sleep(std::chrono::seconds(2));
    }
    out.detail = "the cloud accepted work mode " + cmd.argument + " but reads back " +
                 (seen.empty() ? std::string("nothing") : seen);
    co_return out;
  }

  // Reads `interface` back until `read` gives `want` or verify_timeout passes; each read is a
  // command call in the budget. `what` names the setting in the outcome.
  using Reader = std::function<asio::awaitable<Result<std::string>>()>;
  asio::awaitable<Result<CommandOutcome>> read_back(std::string interface, Reader read,
                                                    std::string want, std::string what) {
    CommandOutcome out;
    auto deadline = env_.clock.now() + options_.verify_timeout;
    std::string seen;
    for (;;) {
      auto t = take_for_command(interface, false);
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = read();
      auto now = co_await std::move(op);
      if (now) {
        seen = *now;
        if (seen == want) {
          out.verified = true;
          out.detail = what + " " + seen + " read back from the cloud";
          co_return out;
        }
      }
      if (env_.clock.now() >= deadline) break;
      co_await env_.sleeper.sleep(std::chrono::seconds(2));
    }
    out.detail = "the cloud accepted " + what + " " + want + " but reads back " +
                 (seen.empty() ? std::string("nothing") : seen);
    co_return out;
  }

  // One write, paced and budgeted as a command.
  template <class Op>
  asio::awaitable<Result<void>> write(std::string interface, Op op) {
    auto t = take_for_command(interface, true);
    if (auto r = co_await std::move(t); !r) co_return fail(r.error());
    auto w = co_await std::move(op);
    if (!w) co_return fail(refused(w.error(), interface));
    co_return Result<void>{};
  }

  asio::awaitable<Result<CommandOutcome>> apply_min_soc_off_grid(const DeviceInfo& device,
                                                                 Command cmd) {
    const std::string get = "/op/v0/device/battery/soc/get", set = "/op/v0/device/battery/soc/set";
    auto t1 = take_for_command(get, false);
    if (auto r = co_await std::move(t1); !r) co_return fail(r.error());
    auto op = client_.min_soc(device.serial);
    auto before = co_await std::move(op);
    if (!before) co_return fail(refused(before.error(), get));
    int target = int(std::lround(cmd.value));
    auto w = write(set, client_.set_min_soc(device.serial, target, before->second));
    if (auto r = co_await std::move(w); !r) co_return fail(r.error());
    std::string sn = device.serial;
    Reader read = [this, sn]() -> asio::awaitable<Result<std::string>> {
      auto op = client_.min_soc(sn);
      auto r = co_await std::move(op);
      if (!r) co_return fail(r.error());
      co_return std::to_string(r->first) + " %";
    };
    auto rb = read_back(get, read, std::to_string(target) + " %", "off-grid minimum SoC");
    auto out = co_await std::move(rb);
    if (out) out->before = before->first;
    if (out && out->verified) out->after = target;
    co_return out;
  }

  asio::awaitable<Result<CommandOutcome>> apply_export_limit(const DeviceInfo& device,
                                                             Command cmd) {
    const std::string get = "/op/v0/device/setting/get", set = "/op/v0/device/setting/set";
    auto want = std::to_string(std::lround(cmd.value));
    auto w = write(set, client_.set_setting(device.serial, "ExportLimit", want));
    if (auto r = co_await std::move(w); !r) co_return fail(r.error());
    std::string sn = device.serial;
    Reader read = [this, sn]() -> asio::awaitable<Result<std::string>> {
      auto op = client_.setting(sn, "ExportLimit");
      auto r = co_await std::move(op);
      if (!r) co_return fail(r.error());
      // The cloud may answer "5000" or "5000.0": compare numbers.
      co_return std::to_string(std::lround(std::strtod(r->value.c_str(), nullptr))) + " W";
    };
    auto rb = read_back(get, read, want + " W", "export limit");
    auto out = co_await std::move(rb);
    if (out && out->verified) out->after = std::round(cmd.value);
    co_return out;
  }

  asio::awaitable<Result<CommandOutcome>> apply_schedule(const DeviceInfo& device, Command cmd) {
    auto parsed = parse_tou_schedule(cmd.argument);
    if (!parsed) co_return fail(parsed.error());
    std::string sn = device.serial;
    const std::string get = "/op/v1/device/scheduler/get";
    const std::string flag = "/op/v1/device/scheduler/set/flag";
    // What we expect to read back: the groups as sent, in the reader's canonical form.
    Schedule expected;
    expected.enabled = !parsed->empty();
    if (parsed->empty()) {  // off: the main switch off; the groups stay as they were
      auto w = write(flag, client_.set_scheduler_flag(sn, false));
      if (auto r = co_await std::move(w); !r) co_return fail(r.error());
    } else {
      // The device's ranges (properties) and reserve shape the groups.
      auto t = take_for_command(get, false);
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.scheduler(sn);
      auto current = co_await std::move(op);
      if (!current) co_return fail(refused(current.error(), get));
      GroupDefaults d;
      d.limits = current->limits;
      d.max_power_w = current->limits.fd_pwr_max;
      auto groups = groups_of(*parsed, d);
      if (!groups) co_return fail(groups.error());
      expected.groups = *groups;
      auto w = write("/op/v1/device/scheduler/enable", client_.set_scheduler(sn, *groups));
      if (auto r = co_await std::move(w); !r) co_return fail(r.error());
    }
    Reader read = [this, sn]() -> asio::awaitable<Result<std::string>> {
      auto op = client_.scheduler(sn);
      auto r = co_await std::move(op);
      if (!r) co_return fail(r.error());
      co_return tou_text(*r);
    };
    auto rb = read_back(get, read, tou_text(expected), "schedule");
    co_return co_await std::move(rb);
  }

  asio::awaitable<Result<CommandOutcome>> apply_charge_windows(const DeviceInfo& device,
                                                               Command cmd) {
    auto parsed = parse_time_windows(cmd.argument);
    if (!parsed) co_return fail(parsed.error());
    auto windows = force_charge_of(*parsed);
    if (!windows) co_return fail(windows.error());
    std::string sn = device.serial;
    const std::string get = "/op/v0/device/battery/forceChargeTime/get";
    auto w =
        write("/op/v0/device/battery/forceChargeTime/set", client_.set_force_charge(sn, *windows));
    if (auto r = co_await std::move(w); !r) co_return fail(r.error());
    Reader read = [this, sn]() -> asio::awaitable<Result<std::string>> {
      auto op = client_.force_charge(sn);
      auto r = co_await std::move(op);
      if (!r) co_return fail(r.error());
      co_return format_time_windows(windows_of(*r));
    };
    auto rb = read_back(get, read, format_time_windows(windows_of(*windows)), "charge windows");
    co_return co_await std::move(rb);
  }

  asio::awaitable<Result<CommandOutcome>> apply_peak_shaving(const DeviceInfo& device,
                                                             Command cmd) {
    auto parsed = parse_peak_shaving(cmd.argument);
    if (!parsed) co_return fail(parsed.error());
    std::string sn = device.serial;
    const std::string get = "/op/v0/device/peakShaving/get";
    const std::string set_mode = "/op/v0/device/setting/set";
    std::optional<PeakShaving> want = *parsed;
    if (want) {
      // The limit goes in the unit the device reports (kW on the cloud), rounded to its step.
      auto t = take_for_command(get, false);
      if (auto r = co_await std::move(t); !r) co_return fail(r.error());
      auto op = client_.peak_shaving(sn);
      auto current = co_await std::move(op);
      if (!current) co_return fail(refused(current.error(), get));
      double scale = current->import_limit.unit == "kW" ? 1000 : 1;
      double step = current->import_limit.precision > 0 ? current->import_limit.precision : 1;
      double limit = std::round((*parsed)->import_limit_w / scale / step) * step;
      want->import_limit_w = std::round(limit * scale);  // what the device can hold
      auto w =
          write("/op/v0/device/peakShaving/set",
                client_.set_peak_shaving(sn, limit, int(std::lround((*parsed)->min_soc_percent))));
      if (auto r = co_await std::move(w); !r) co_return fail(r.error());
      auto m = write(set_mode, client_.set_setting(sn, "WorkMode", "PeakShaving"));
      if (auto r = co_await std::move(m); !r) co_return fail(r.error());
    } else {
      auto m = write(set_mode, client_.set_setting(sn, "WorkMode", "SelfUse"));
      if (auto r = co_await std::move(m); !r) co_return fail(r.error());
    }
    Reader read = [this, sn]() -> asio::awaitable<Result<std::string>> {
      auto mop = client_.setting(sn, "WorkMode");
      auto mode = co_await std::move(mop);
      if (!mode) co_return fail(mode.error());
      if (mode->value != "PeakShaving") co_return std::string("off");
      auto op = client_.peak_shaving(sn);
      auto r = co_await std::move(op);
      if (!r) co_return fail(r.error());
      double scale = r->import_limit.unit == "kW" ? 1000 : 1;
      co_return format_peak_shaving(
          PeakShaving{std::round(std::strtod(r->import_limit.value.c_str(), nullptr) * scale),
                      std::strtod(r->soc.value.c_str(), nullptr)});
    };
    auto rb = read_back(get, read, format_peak_shaving(want), "peak shaving");
    co_return co_await std::move(rb);
  }

  Error budget_error(const std::string& what) const {
    Error e{ErrorKind::RateLimited, "FoxESS: the account's daily call budget (" +
                                        std::to_string(planner_.period_calls()) +
                                        " calls) has no room for " + what + " now; it resets at " +
                                        format_iso8601(planner_.next_reset())};
    e.retry_after =
        std::chrono::duration_cast<std::chrono::seconds>(planner_.next_reset() - env_.clock.now());
    return e;
  }

  // A 40400 from the cloud: the daily quota when our own count says so or the message does.
  Error refused(Error e, const std::string& interface) {
    // A refused access token (revoked, or expired early): refresh before the next call.
    if (e.kind == ErrorKind::Auth && oauth_) oauth_->mark_stale();
    if (e.kind == ErrorKind::RateLimited)
      planner_.on_refused(interface, e.message.find("quota") != std::string::npos ||
                                         planner_.left() < planner_.period_calls() / 20);
    return e;
  }

  ConnectionConfig config_;
  Options options_;
  DriverEnv env_;
  Client client_;
  net::QuotaPlanner planner_;
  std::map<std::string, Device> devices_;
  std::map<std::string, RealTime> cache_;
  std::optional<TimePoint> fetched_;
  std::optional<Error> failed_;               // the last batch's failure, until a batch succeeds
  std::map<std::string, std::string> zones_;  // station id -> IANA zone
  std::optional<net::OAuthSession> oauth_;
};

}  // namespace

std::optional<OAuthApp> oauth_app(OptionReader& r) {
  OAuthApp a{r.text("client_id"), r.text("client_secret"), r.text("token_file")};
  if (a.client_id.empty() && a.client_secret.empty() && a.token_file.empty()) return std::nullopt;
  if (!r.text("api_key").empty())
    r.refuse("api_key",
             "set either api_key or client_id, client_secret and token_file (OAuth), not both: "
             "the cloud refuses a request that carries both");
  for (auto [key, value] :
       {std::pair{"client_id", &a.client_id}, std::pair{"client_secret", &a.client_secret},
        std::pair{"token_file", &a.token_file}})
    if (value->empty())
      r.refuse("", std::string("OAuth needs client_id, client_secret and token_file; ") + key +
                       " is missing (the app's id and secret are in the FoxESS Cloud personal "
                       "center; the token file is where `sunbridge auth foxess` puts the "
                       "tokens)");
  return a;
}

Result<std::optional<OAuthApp>> oauth_app(const ConnectionConfig& c) {
  OptionReader r(c);
  auto app = oauth_app(r);
  return r.result(std::move(app));
}

ConnectionConfig with_cloud_defaults(ConnectionConfig c) {
  if (c.host.empty()) {
    c.host = kCloudHost;
    c.tls = true;
    c.port = 443;
  }
  if (c.port == 0) c.port = c.tls ? 443 : 80;
  return c;
}

DriverRegistry::Entry registry_entry() {
  return {
      "foxess",
      "FoxESS Cloud Open API (api_key, or OAuth: client_id, client_secret, token_file; "
      "www.foxesscloud.com over HTTPS unless host is set)",
      443,
      {"api_key", "client_id", "client_secret", "token_file", "verify_timeout", "daily_calls"},
      [](const ConnectionConfig& given, const DriverEnv& env) -> Result<std::unique_ptr<Driver>> {
        auto c = with_cloud_defaults(given);
        auto o = parse_options(c);
        if (!o) return fail(o.error());
        return std::unique_ptr<Driver>(std::make_unique<FoxessDriver>(c, *o, env));
      }};
}

}  // namespace sb::foxess
