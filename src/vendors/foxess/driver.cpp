#include "vendors/foxess/driver.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "engine/quota_planner.hpp"
#include "net/driver_env.hpp"
#include "vendors/foxess/client.hpp"
#include "vendors/foxess/mapping.hpp"

namespace sb::foxess {

namespace {

constexpr const char* kCloudHost = "www.foxesscloud.com";
constexpr const char* kRealTime = "/op/v1/device/real/query";
constexpr int kCallsPerInverter = 1440;
const std::vector<std::string> kWorkModes = {"SelfUse", "Feedin", "Backup"};

struct Options {
  std::string api_key;
  Millis verify_timeout{10'000};
  int daily_calls_per_inverter = kCallsPerInverter;
};

Result<Options> parse_options(const ConnectionConfig& c) {
  Options o;
  auto where = c.where + ": connection '" + c.name + "': ";
  auto key = c.options.find("api_key");
  if (key == c.options.end() || key->second.empty())
    return fail(ErrorKind::InvalidArgument,
                where +
                    "option api_key is required (FoxESS Cloud: personal center -> API "
                    "management; keep it in an environment variable: ${FOXESS_API_KEY})");
  o.api_key = key->second;
  auto verify = seconds_option(c, "verify_timeout", 0, 600, o.verify_timeout);
  if (!verify) return fail(verify.error());
  o.verify_timeout = *verify;
  if (c.options.contains("daily_calls")) {
    auto v = number_option(c, "daily_calls", 10, 1'000'000);
    if (!v) return fail(v.error());
    o.daily_calls_per_inverter = int(*v);
  }
  return o;
}

class FoxessDriver final : public Driver {
 public:
  FoxessDriver(ConnectionConfig config, Options options, const DriverEnv& env)
      : config_(std::move(config)),
        options_(std::move(options)),
        env_(env),
        client_(env.http, endpoint_of(config_, 443), options_.api_key, env.clock, config_.timeout,
                &env_.sleeper),
        planner_(env.clock, {options_.daily_calls_per_inverter}) {}

  asio::awaitable<Result<std::vector<DeviceInfo>>> discover() override {
    if (!planner_.try_take("/op/v0/device/list", engine::CallPurpose::Background)) {
      auto wait = planner_.pacing_wait("/op/v0/device/list");
      if (wait.count() > 0) co_await env_.sleeper.sleep(wait);
      if (!planner_.try_take("/op/v0/device/list", engine::CallPurpose::Background))
        co_return fail(budget_error("device list"));
    }
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
    planner_.set_daily_calls(options_.daily_calls_per_inverter * std::max<int>(1, int(out.size())));
    co_return out;
  }

  asio::awaitable<Result<Snapshot>> poll(const DeviceInfo& device) override {
    auto now = env_.clock.now();
    // One batch call serves every inverter of the account (50 per call); it is refreshed as
    // often as the day's budget allows, and polls in between answer from it.
    int calls = std::max(1, int((devices_.size() + 49) / 50));
    bool due = !fetched_ || now - *fetched_ >= planner_.live_interval(calls, config_.poll_interval);
    if (due && planner_.pacing_wait(kRealTime).count() == 0 &&
        planner_.try_take(kRealTime, engine::CallPurpose::Live)) {
      std::vector<std::string> sns;
      for (const auto& [sn, d] : devices_) sns.push_back(sn);
      if (sns.empty()) sns.push_back(device.serial);
      // Batches beyond the first count against the budget too (the client paces them itself,
      // so they are booked under their own names rather than refused for pacing here).
      for (int extra = 1; extra < calls; ++extra)
        (void)planner_.try_take(kRealTime + std::to_string(extra), engine::CallPurpose::Live);
      auto op = client_.real_time(sns, {});
      auto rt = co_await std::move(op);
      if (!rt) co_return fail(refused(rt.error(), kRealTime));
      fetched_ = now;
      for (auto& r : *rt) cache_[r.sn] = std::move(r);
    }
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

  Capabilities capabilities(const DeviceInfo& device) const override {
    Capabilities c;
    c.history = true;
    auto it = devices_.find(device.serial);
    bool battery = it == devices_.end() || it->second.has_battery;
    if (battery) {
      c.min_soc = true;
      c.min_soc_low_percent = 10;
      c.min_soc_high_percent = 100;
      c.battery_strategies = kWorkModes;
    }
    return c;
  }

  asio::awaitable<Result<std::vector<Sample>>> history(const DeviceInfo& device,
                                                       TimeRange range) override {
    std::vector<Sample> out;
    // The cloud answers 24 hours per call; each call is background work in the budget.
    for (auto from = range.from; from < range.to; from += std::chrono::hours(24)) {
      auto to = std::min(range.to, from + std::chrono::hours(24));
      auto wait = planner_.pacing_wait("/op/v0/device/history/query");
      if (wait.count() > 0) co_await env_.sleeper.sleep(wait);
      if (!planner_.try_take("/op/v0/device/history/query", engine::CallPurpose::Background))
        co_return fail(budget_error("history"));
      auto op = client_.history(device.serial, history_variables(), from, to);
      auto series = co_await std::move(op);
      if (!series) co_return fail(refused(series.error(), "/op/v0/device/history/query"));
      auto samples = map_history(*series, device.id, {from, to});
      out.insert(out.end(), samples.begin(), samples.end());
    }
    co_return out;
  }

  asio::awaitable<Result<CommandOutcome>> apply(const DeviceInfo& device,
                                                const Command& cmd) override {
    if (cmd.type == CommandType::MinSoc) {
      auto op = apply_min_soc(device, cmd);
      co_return co_await std::move(op);
    }
    if (cmd.type == CommandType::BatteryStrategy) {
      auto op = apply_work_mode(device, cmd);
      co_return co_await std::move(op);
    }
    co_return fail(ErrorKind::NotSupported,
                   device.id + " (FoxESS) does not take " + std::string(to_string(cmd.type)));
  }

 private:
  // A call the planner lets go for a command: commands wait for pacing, never for the budget's
  // live share.
  asio::awaitable<Result<void>> take_for_command(std::string interface, bool write) {
    auto wait = planner_.pacing_wait(interface, write);
    if (wait.count() > 0) co_await env_.sleeper.sleep(wait);
    if (!planner_.try_take(interface, engine::CallPurpose::Command, write))
      co_return fail(budget_error("a command"));
    co_return Result<void>{};
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

  Error budget_error(const std::string& what) const {
    Error e{ErrorKind::RateLimited, "FoxESS: the account's daily call budget (" +
                                        std::to_string(planner_.daily_calls()) +
                                        " calls) has no room for " + what + " now; it resets at " +
                                        format_iso8601(planner_.next_reset())};
    e.retry_after =
        std::chrono::duration_cast<std::chrono::seconds>(planner_.next_reset() - env_.clock.now());
    return e;
  }

  // A 40400 from the cloud: the daily quota when our own count says so or the message does.
  Error refused(Error e, const std::string& interface) {
    if (e.kind == ErrorKind::RateLimited)
      planner_.on_refused(interface, e.message.find("quota") != std::string::npos ||
                                         planner_.left() < planner_.daily_calls() / 20);
    return e;
  }

  ConnectionConfig config_;
  Options options_;
  DriverEnv env_;
  Client client_;
  engine::QuotaPlanner planner_;
  std::map<std::string, Device> devices_;
  std::map<std::string, RealTime> cache_;
  std::optional<TimePoint> fetched_;
};

}  // namespace

DriverRegistry::Entry registry_entry() {
  return {
      "foxess",
      "FoxESS Cloud Open API (api_key; www.foxesscloud.com over HTTPS unless host is set)",
      443,
      {"api_key", "verify_timeout", "daily_calls"},
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
        return std::unique_ptr<Driver>(std::make_unique<FoxessDriver>(c, *o, env));
      }};
}

}  // namespace sb::foxess
