#include "vendors/sonnen/driver.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "net/driver_env.hpp"
#include "vendors/sonnen/client.hpp"
#include "vendors/sonnen/mapping.hpp"

namespace sb::sonnen {

namespace {

struct Options {
  double max_power_w = 4600;
  std::string serial = "battery";
  Millis verify_timeout{10'000};
  double tolerance_w = 50;
};

Result<Options> parse_options(const ConnectionConfig& c) {
  Options o;
  if (c.options.contains("max_power_w")) {
    auto v = number_option(c, "max_power_w", 1, 100'000);
    if (!v) return fail(v.error());
    o.max_power_w = *v;
  }
  if (auto it = c.options.find("serial"); it != c.options.end() && !it->second.empty()) {
    // The serial becomes part of the device id, which appears in URLs and MQTT topics.
    if (it->second.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
        std::string::npos)
      return fail(ErrorKind::InvalidArgument,
                  c.where + ": connection '" + c.name + "': option serial = '" + it->second +
                      "' may use only letters, digits, '_', '.' and '-'");
    o.serial = it->second;
  }
  auto verify = seconds_option(c, "verify_timeout", 0, 600, o.verify_timeout);
  if (!verify) return fail(verify.error());
  o.verify_timeout = *verify;
  if (c.options.contains("tolerance_w")) {
    auto v = number_option(c, "tolerance_w", 0, 10'000);
    if (!v) return fail(v.error());
    o.tolerance_w = *v;
  }
  return o;
}

class SonnenDriver final : public Driver {
 public:
  SonnenDriver(ConnectionConfig config, Options options, const DriverEnv& env)
      : config_(std::move(config)),
        options_(std::move(options)),
        env_(env),
        client_(env.http, endpoint_of(config_, kDefaultPort), config_.timeout) {}

  asio::awaitable<Result<std::vector<DeviceInfo>>> discover() override {
    auto s = co_await client_.status();
    if (!s) co_return fail(s.error());
    DeviceInfo d;
    d.id = config_.name + ":" + options_.serial;
    d.site = config_.site;
    d.connection = config_.name;
    d.vendor = "sonnen";
    d.kind = "battery";
    d.manufacturer = "sonnen";
    d.model = "sonnenBatterie (API v1)";
    d.serial = options_.serial == "battery" ? "" : options_.serial;
    co_return std::vector<DeviceInfo>{d};
  }

  asio::awaitable<Result<Snapshot>> poll(const DeviceInfo& device) override {
    auto s = co_await client_.status();
    if (!s) co_return fail(s.error());
    Snapshot snap;
    snap.time = env_.clock.now();
    snap.samples = map_status(*s, device.id, snap.time);
    co_return snap;
  }

  Capabilities capabilities(const DeviceInfo&) const override {
    Capabilities c;
    c.live = true;
    c.battery_power_setpoint = true;
    c.max_charge_w = options_.max_power_w;
    c.max_discharge_w = options_.max_power_w;
    return c;
  }

  asio::awaitable<Result<CommandOutcome>> apply(const DeviceInfo& /*device*/,
                                                const Command& command) override {
    if (command.type == CommandType::Release)
      co_return fail(ErrorKind::NotSupported,
                     "sonnen API v1 cannot hand control back: its setpoint holds until the next "
                     "one (seed 003 §2.2); send battery-power 0 to stop charging and discharging");
    if (command.type != CommandType::BatteryPower)
      co_return fail(ErrorKind::NotSupported,
                     "sonnen API v1 offers only the battery power setpoint, not " +
                         std::string(to_string(command.type)));
    double target = std::round(command.value);
    if (std::abs(target) > options_.max_power_w)
      co_return fail(ErrorKind::InvalidArgument,
                     "battery power " + std::to_string(static_cast<long long>(target)) +
                         " W is beyond the battery's " +
                         std::to_string(static_cast<long long>(options_.max_power_w)) + " W");
    CommandOutcome out;
    if (auto before = co_await client_.status()) out.before = before->Pac_total_W;
    if (auto r = co_await client_.set_battery_power(static_cast<int>(target)); !r)
      co_return fail(r.error());
    // Read back until the battery follows or the time is up (real devices ramp in seconds).
    auto deadline = env_.clock.now() + options_.verify_timeout;
    for (;;) {
      auto s = co_await client_.status();
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

 private:
  ConnectionConfig config_;
  Options options_;
  DriverEnv env_;
  Client client_;
};

}  // namespace

DriverRegistry::Entry registry_entry() {
  return {"sonnen",
          "sonnenBatterie, local REST API v1 (port 8080, no authentication)",
          kDefaultPort,
          {"max_power_w", "serial", "verify_timeout", "tolerance_w"},
          local_device_factory<SonnenDriver>(parse_options)};
}

}  // namespace sb::sonnen
