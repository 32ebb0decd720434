#include "vendors/sonnen/driver.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include <boost/json.hpp>

#include "core/schedule.hpp"
#include "net/driver_env.hpp"
#include "net/json.hpp"
#include "vendors/sonnen/client.hpp"
#include "vendors/sonnen/mapping.hpp"

namespace sb::sonnen {

namespace {

enum class Api { Auto, V1, V2 };

struct Options {
  double max_power_w = 4600;
  std::string serial = "battery";
  Millis verify_timeout{10'000};
  double tolerance_w = 50;
  Api api = Api::Auto;
  std::string token;             ///< API v2 Auth-Token
  Millis setpoint_keepalive{0};  ///< write a held setpoint again this often (v2)
};

// Operating modes (protocols.md §3.3) as battery strategies.
constexpr std::pair<const char*, const char*> kModes[] = {{"manual", "1"},
                                                          {"self-consumption", "2"},
                                                          {"battery-module-extension", "6"},
                                                          {"time-of-use", "10"}};
const char* mode_value(const std::string& name) {
  for (auto [n, v] : kModes)
    if (name == n) return v;
  return nullptr;
}
std::string mode_name(const std::string& value) {
  for (auto [n, v] : kModes)
    if (value == v) return n;
  return "mode " + value;
}
constexpr int kTouWindows = 10;

// A configuration value as a number, when it is one ("20" yes, "[]" no).
std::optional<double> number(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') return std::nullopt;
  return v;
}

std::map<std::string, std::string> item(const std::string& key, const std::string& value) {
  std::map<std::string, std::string> m;
  m[key] = value;
  return m;
}  // decision: the device's limit is not documented

Result<Options> parse_options(const ConnectionConfig& c) {
  Options o;
  OptionReader r(c);
  o.max_power_w = r.number("max_power_w", 1, 100'000, o.max_power_w);
  if (auto serial = r.text("serial"); !serial.empty()) {
    // The serial becomes part of the device id, which appears in URLs and MQTT topics.
    if (serial.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
        std::string::npos)
      r.refuse("serial",
               "option serial = '" + serial + "' may use only letters, digits, '_', '.' and '-'");
    else
      o.serial = serial;
  }
  o.verify_timeout = r.seconds("verify_timeout", 0, 600, o.verify_timeout);
  o.tolerance_w = r.number("tolerance_w", 0, 10'000, o.tolerance_w);
  auto api = r.choice("api", {"auto", "v1", "v2"}, "auto");
  o.api = api == "v1" ? Api::V1 : api == "v2" ? Api::V2 : Api::Auto;
  o.token = r.text("token");
  if (o.api == Api::V2 && o.token.empty())
    r.refuse("api",
             "api v2 needs option token (the battery's dashboard: Software-Integration → JSON "
             "API → token)");
  o.setpoint_keepalive = r.seconds("setpoint_keepalive", 0, 3600, o.setpoint_keepalive);
  return r.result(o);
}

class SonnenDriver final : public Driver {
 public:
  SonnenDriver(ConnectionConfig config, Options options, const DriverEnv& env)
      : config_(std::move(config)),
        options_(std::move(options)),
        env_(env),
        client_(env.http, endpoint_of(config_, kDefaultPort), config_.timeout),
        v2_(env.http, endpoint_of(config_, kDefaultPort), options_.token, config_.timeout) {}

  asio::awaitable<Result<std::vector<DeviceInfo>>> discover() override {
    auto api = co_await detect();
    if (!api) co_return fail(api.error());
    v2_on_ = *api == Api::V2;
    DeviceInfo d;
    d.id = config_.name + ":" + options_.serial;
    d.site = config_.site;
    d.connection = config_.name;
    d.vendor = "sonnen";
    d.kind = "battery";
    d.manufacturer = "sonnen";
    d.serial = options_.serial == "battery" ? "" : options_.serial;
    if (v2_on_) {
      // The token is checked here, once, rather than at the first command.
      auto cfg = co_await v2_.configurations();
      if (!cfg) co_return fail(cfg.error());
      d.model = "sonnenBatterie (API v2)";
      if (auto it = cfg->find("DE_Software"); it != cfg->end()) d.firmware = it->second;
    } else {
      auto s = co_await client_.status();
      if (!s) co_return fail(s.error());
      d.model = "sonnenBatterie (API v1)";
    }
    co_return std::vector<DeviceInfo>{d};
  }

  asio::awaitable<Result<Snapshot>> poll(const DeviceInfo& device) override {
    auto s = co_await read_status();
    if (!s) co_return fail(s.error());
    Snapshot snap;
    snap.time = env_.clock.now();
    snap.samples = map_status(*s, device.id, snap.time);
    co_return snap;
  }

  Capabilities capabilities(const DeviceInfo&) const override {
    Capabilities c;
    c.live = true;
    c.commands.push_back(
        {CommandType::BatteryPower, -options_.max_power_w, options_.max_power_w, {}, 0});
    if (v2_on_) {
      // Back to the operating mode the setpoint took over from.
      c.commands.push_back({CommandType::Release, 0, 0, {}, 0});
      c.commands.push_back({CommandType::MinSoc, 0, 100, {}, 0});  // EM_USOC, the backup reserve
      std::vector<std::string> modes;
      for (auto [name, value] : kModes) modes.emplace_back(name);
      c.commands.push_back({CommandType::BatteryStrategy, 0, 0, modes, 0});
      // threshold_p_max is a grid limit, not the battery's: up to 100 kW.
      c.commands.push_back({CommandType::TouSchedule, 0, 100'000, {"charge"}, kTouWindows});
      c.setpoint_keepalive = options_.setpoint_keepalive;
    }
    return c;
  }

  asio::awaitable<Result<CommandOutcome>> apply(const DeviceInfo& /*device*/,
                                                const Command& command) override {
    if (v2_on_) {
      auto op = apply_v2(command);
      co_return co_await std::move(op);
    }
    if (command.type == CommandType::Release)
      co_return fail(ErrorKind::NotSupported,
                     "sonnen API v1 cannot hand control back: its setpoint holds until the next "
                     "one (seed 003 §2.2); send battery-power 0 to stop charging and discharging");
    if (command.type != CommandType::BatteryPower)
      co_return fail(ErrorKind::NotSupported,
                     "sonnen API v1 offers only the battery power setpoint, not " +
                         std::string(to_string(command.type)));
    double target = std::round(command.value);
    if (auto bad = beyond_rating(target)) co_return fail(*bad);
    CommandOutcome out;
    if (auto before = co_await client_.status()) out.before = before->Pac_total_W;
    if (auto r = co_await client_.set_battery_power(static_cast<int>(target)); !r)
      co_return fail(r.error());
    auto op = verify_power(target, std::move(out));
    co_return co_await std::move(op);
  }

 private:
  // Which API the device offers: v1 unless a token is given and /api/v2/status answers.
  asio::awaitable<Result<Api>> detect() {
    if (options_.api == Api::V1 || (options_.api == Api::Auto && options_.token.empty()))
      co_return Api::V1;
    auto offers = co_await v2_.offers_v2();
    if (!offers) co_return fail(offers.error());
    if (*offers) co_return Api::V2;
    co_return fail(ErrorKind::NotFound,
                   "option token is set but " + v2_.endpoint().host + ":" +
                       std::to_string(v2_.endpoint().port) +
                       " does not offer API v2 (GET /api/v2/status: 404); sonnenBatterie serves "
                       "v2 on port 80 — set port: 80, or leave out token to use API v1");
  }

  std::optional<Error> beyond_rating(double target) const {
    if (std::abs(target) <= options_.max_power_w) return std::nullopt;
    return Error{ErrorKind::InvalidArgument,
                 "battery power " + std::to_string(static_cast<long long>(target)) +
                     " W is beyond the battery's " +
                     std::to_string(static_cast<long long>(options_.max_power_w)) + " W"};
  }

  asio::awaitable<Result<StatusV1>> read_status() {
    if (v2_on_) {
      auto op = v2_.status();
      co_return co_await std::move(op);
    }
    auto op = client_.status();
    co_return co_await std::move(op);
  }

  // Reads the battery back until it follows `target` or the time is up (devices ramp).
  asio::awaitable<Result<CommandOutcome>> verify_power(double target, CommandOutcome out) {
    auto deadline = env_.clock.now() + options_.verify_timeout;
    for (;;) {
      auto s = co_await read_status();
      if (s) {
        out.after = s->Pac_total_W;
        if (std::abs(s->Pac_total_W - target) <= options_.tolerance_w) {
          out.verified = true;
          out.detail = "battery reports " + std::to_string(std::lround(s->Pac_total_W)) + " W";
          co_return out;
        }
        // At a SoC bound the battery cannot follow: say so instead of waiting.
        if ((target > 0 && s->USOC <= 0.5) || (target < 0 && s->USOC >= 99.5)) break;
      }
      if (env_.clock.now() >= deadline) break;
      co_await env_.sleeper.sleep(Millis(1000));
    }
    out.verified = false;
    out.detail = out.after ? "setpoint accepted but the battery reports " +
                                 std::to_string(std::lround(*out.after)) + " W, not " +
                                 std::to_string(std::lround(target)) + " W"
                           : "setpoint accepted but the battery could not be read back";
    co_return out;
  }

  // PUT one configuration item, then read it back from the device (the PUT's echo is not
  // what the battery does).
  asio::awaitable<Result<CommandOutcome>> set_config(std::string key, std::string value,
                                                     std::string what) {
    CommandOutcome out;
    auto bop = v2_.configuration(key);
    auto before = co_await std::move(bop);
    if (!before) co_return fail(before.error());
    out.before = number(*before);
    auto pop = v2_.set_configurations(item(key, value));
    auto put = co_await std::move(pop);
    if (!put) co_return fail(put.error());
    auto nop = v2_.configuration(key);
    auto now = co_await std::move(nop);
    if (!now) {
      out.detail =
          what + " accepted but " + key + " could not be read back: " + now.error().message;
      co_return out;
    }
    out.after = number(*now);
    out.verified = *now == value;
    out.detail = out.verified ? what + " read back from the battery"
                              : what + " accepted but " + key + " reads '" + *now + "'";
    co_return out;
  }

  asio::awaitable<Result<CommandOutcome>> apply_v2(const Command& cmd) {
    switch (cmd.type) {
      case CommandType::BatteryPower: {
        double target = std::round(cmd.value);
        if (auto bad = beyond_rating(target)) co_return fail(*bad);
        CommandOutcome out;
        auto mop = v2_.configuration("EM_OperatingMode");
        auto mode = co_await std::move(mop);
        if (!mode) co_return fail(mode.error());
        if (auto s = co_await v2_.status()) out.before = s->Pac_total_W;
        // Setpoints need manual mode; what the battery did before is what Release restores.
        out.hand_back = "EM_OperatingMode=" + (*mode == "1" ? std::string("2") : *mode);
        if (*mode != "1") {
          auto pop = v2_.set_configurations(item("EM_OperatingMode", "1"));
          auto put = co_await std::move(pop);
          if (!put) co_return fail(with_context(put.error(), "switching to manual mode"));
        }
        auto spop = v2_.set_battery_power(static_cast<int>(target));
        auto sp = co_await std::move(spop);
        if (!sp) {
          // Refused (a virtual power plant has priority): the battery goes back to its mode.
          if (*mode != "1") {
            auto back = v2_.set_configurations(item("EM_OperatingMode", *mode));
            (void)co_await std::move(back);
          }
          if (sp.error().kind == ErrorKind::Conflict)
            co_return fail(ErrorKind::Conflict,
                           "sonnen refused the setpoint: a virtual power plant operator has "
                           "priority (HTTP 403); the battery stays in " +
                               mode_name(*mode));
          co_return fail(sp.error());
        }
        auto op = verify_power(target, std::move(out));
        auto r = co_await std::move(op);
        if (r && *mode != "1") r->detail += " (manual mode; was " + mode_name(*mode) + ")";
        co_return r;
      }
      case CommandType::Release: {
        // "EM_OperatingMode=N" from the lease; self-consumption when there is none.
        std::string mode = "2";
        if (cmd.argument.starts_with("EM_OperatingMode=")) mode = cmd.argument.substr(17);
        auto op = set_config("EM_OperatingMode", mode, "back to " + mode_name(mode));
        auto r = co_await std::move(op);
        co_return r;
      }
      case CommandType::MinSoc: {
        auto v = std::to_string(std::lround(cmd.value));
        auto op = set_config("EM_USOC", v, "backup reserve " + v + " %");
        co_return co_await std::move(op);
      }
      case CommandType::BatteryStrategy: {
        const char* v = mode_value(cmd.argument);
        if (!v)
          co_return fail(ErrorKind::InvalidArgument,
                         "sonnen has no operating mode '" + cmd.argument + "'");
        auto op = set_config("EM_OperatingMode", v, "operating mode " + cmd.argument);
        co_return co_await std::move(op);
      }
      case CommandType::TouSchedule: {
        auto sched = parse_tou_schedule(cmd.argument);
        if (!sched) co_return fail(sched.error());
        boost::json::array windows;
        for (const auto& seg : *sched) {
          if (seg.mode != TouMode::Charge || !seg.power_w)
            co_return fail(ErrorKind::InvalidArgument,
                           "sonnen time-of-use windows only charge from the grid (charge "
                           "power=W, the grid import limit)");
          windows.push_back(boost::json::object{
              {"start", format_minutes(seg.start_minute)},
              {"stop", format_minutes(seg.end_minute)},
              {"threshold_p_max", static_cast<std::int64_t>(std::lround(*seg.power_w))}});
        }
        auto text = boost::json::serialize(windows);
        auto op = set_config("EM_ToU_Schedule", text,
                             "time-of-use schedule (" + std::to_string(windows.size()) +
                                 " windows; active in time-of-use mode)");
        co_return co_await std::move(op);
      }
      default:
        co_return fail(ErrorKind::NotSupported,
                       "sonnen API v2 has no " + std::string(to_string(cmd.type)));
    }
  }

  // API v2: one read of the configurations (v1 has no settings, only the setpoint).
  asio::awaitable<Result<std::vector<Setting>>> settings(const DeviceInfo&) override {
    std::vector<Setting> out;
    if (!v2_on_) co_return out;
    auto op = v2_.configurations();
    auto cfg = co_await std::move(op);
    if (!cfg) co_return fail(cfg.error());
    if (auto it = cfg->find("EM_USOC"); it != cfg->end())
      if (auto v = number(it->second)) out.push_back({CommandType::MinSoc, *v, ""});
    if (auto it = cfg->find("EM_OperatingMode"); it != cfg->end())
      out.push_back({CommandType::BatteryStrategy, std::nullopt, mode_name(it->second)});
    if (auto it = cfg->find("EM_ToU_Schedule"); it != cfg->end()) {
      // The windows as the tou-schedule command writes them: charge from the grid up to a limit.
      TouSchedule s;
      boost::system::error_code ec;
      auto windows = boost::json::parse(it->second, ec);
      if (!ec && windows.is_array())
        for (const auto& w : windows.as_array()) {
          if (!w.is_object()) continue;
          const auto& o = w.as_object();
          auto minutes = [&](const char* key) {
            auto t = net::field_text(o, key);
            int h = 0, m = 0;
            return std::sscanf(t.c_str(), "%d:%d", &h, &m) == 2 ? h * 60 + m : -1;
          };
          TouSegment seg;
          seg.start_minute = minutes("start");
          seg.end_minute = minutes("stop");
          seg.mode = TouMode::Charge;
          seg.power_w = net::field_number(o, "threshold_p_max");
          if (seg.start_minute >= 0 && seg.end_minute > seg.start_minute) s.push_back(seg);
        }
      out.push_back(
          {CommandType::TouSchedule, std::nullopt, s.empty() ? "off" : format_tou_schedule(s)});
    }
    co_return out;
  }

  ConnectionConfig config_;
  Options options_;
  DriverEnv env_;
  Client client_;
  ClientV2 v2_;
  bool v2_on_ = false;
};

}  // namespace

DriverRegistry::Entry registry_entry() {
  return {"sonnen",
          "sonnenBatterie, local REST API v1 (port 8080, no authentication) or JSON API v2 "
          "(port 80, option token)",
          kDefaultPort,
          {"max_power_w", "serial", "verify_timeout", "tolerance_w", "api", "token",
           "setpoint_keepalive"},
          local_device_factory<SonnenDriver>(parse_options),
          true};
}

}  // namespace sb::sonnen
