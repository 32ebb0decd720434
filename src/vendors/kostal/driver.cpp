#include "vendors/kostal/driver.hpp"

#include <cmath>
#include <map>

#include "net/driver_env.hpp"
#include "vendors/kostal/client.hpp"
#include "vendors/kostal/mapping.hpp"

namespace sb::kostal {

namespace {

constexpr const char* kLocal = "devices:local";
constexpr const char* kDayIds[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
const std::vector<std::string> kStrategies = {"auto", "auto-economy"};  // 1, 2

struct Options {
  Credentials credentials;
  Millis verify_timeout{10'000};
};

Result<Options> parse_options(const ConnectionConfig& c) {
  Options o;
  OptionReader r(c);
  o.credentials.password =
      r.required("password", "the plant owner's password, or the master key with role: master");
  o.credentials.role = r.choice("role", {"user", "master"}, o.credentials.role);
  o.credentials.service_code = r.text("service_code");
  if (o.credentials.role == "master" && o.credentials.service_code.empty())
    r.refuse("role", "role master needs option service_code (the installer's code)");
  o.verify_timeout = r.seconds("verify_timeout", 0, 600, o.verify_timeout);
  return r.result(o);
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// What a command writes: setting ids and their values.
struct Plan {
  std::vector<SettingValue> writes;
  std::string summary;  ///< for the outcome's detail
};

Result<Plan> plan_for(const Command& cmd) {
  Plan p;
  switch (cmd.type) {
    case CommandType::MinSoc:
      p.writes = {{"Battery:MinSoc", std::to_string(std::lround(cmd.value))}};
      p.summary = "minimum SoC " + std::to_string(std::lround(cmd.value)) + " %";
      return p;
    case CommandType::MinHomeConsumption:
      p.writes = {{"Battery:MinHomeComsumption", format_number(std::round(cmd.value))}};
      p.summary = "minimum home consumption " + format_number(std::round(cmd.value)) + " W";
      return p;
    case CommandType::BatteryStrategy: {
      auto it = std::find(kStrategies.begin(), kStrategies.end(), cmd.argument);
      if (it == kStrategies.end())
        return fail(ErrorKind::InvalidArgument,
                    "battery strategy '" + cmd.argument + "' is not auto or auto-economy");
      p.writes = {{"Battery:Strategy", std::to_string(it - kStrategies.begin() + 1)}};
      p.summary = "battery strategy " + cmd.argument;
      return p;
    }
    case CommandType::SmartControl:
      p.writes = {{"Battery:SmartBatteryControl:Enable", cmd.value != 0 ? "1" : "0"}};
      p.summary = std::string("smart battery control ") + (cmd.value != 0 ? "on" : "off");
      return p;
    case CommandType::TimeControl: {
      if (auto bad = check_weekly_plan(cmd.argument))
        return fail(ErrorKind::InvalidArgument, "time-control plan: " + *bad);
      if (cmd.argument == "off") {
        p.writes = {{"Battery:TimeControl:Enable", "0"}};
        p.summary = "battery time control off";
        return p;
      }
      for (int d = 0; d < 7; ++d)
        p.writes.push_back({std::string("Battery:TimeControl:Conf") + kDayIds[d],
                            cmd.argument.substr(std::size_t(d) * 97, 96)});
      p.writes.push_back({"Battery:TimeControl:Enable", "1"});
      p.summary = "battery time control plan";
      return p;
    }
    default:
      return fail(ErrorKind::NotSupported,
                  "KOSTAL inverters take no " + std::string(to_string(cmd.type)) +
                      " command over the local API (battery power is set through Modbus, which "
                      "sunbridge does not speak)");
  }
}

/// Equal as the device writes numbers back ("100" and "100.0").
bool same_value(const std::string& a, const std::string& b) {
  if (a == b) return true;
  char* ea = nullptr;
  char* eb = nullptr;
  double x = std::strtod(a.c_str(), &ea), y = std::strtod(b.c_str(), &eb);
  return !a.empty() && !b.empty() && *ea == '\0' && *eb == '\0' && std::abs(x - y) < 1e-6;
}

class KostalDriver final : public Driver {
 public:
  KostalDriver(ConnectionConfig config, Options options, const DriverEnv& env)
      : config_(std::move(config)),
        options_(std::move(options)),
        env_(env),
        client_(env.http, endpoint_of(config_, kDefaultPort), options_.credentials, config_.timeout,
                env.blocking) {}

  asio::awaitable<Result<std::vector<DeviceInfo>>> discover() override {
    auto version = co_await client_.version();
    if (!version) co_return fail(version.error());
    auto modules = co_await client_.modules();
    if (!modules) co_return fail(modules.error());
    strings_ = 0;
    battery_ = false;
    poll_body_.clear();
    for (const auto& m : *modules) {
      if (m.id.starts_with("devices:local:pv")) ++strings_;
      if (m.id == "devices:local:battery") battery_ = true;
    }
    std::vector<std::string> ids = {"Properties:SerialNo", "Branding:ProductName1",
                                    "Branding:ProductName2", "Properties:VersionMC"};
    auto props = co_await client_.settings(kLocal, ids);
    if (!props) co_return fail(props.error());
    std::map<std::string, std::string> p;
    for (const auto& s : *props) p[s.id] = s.value;
    DeviceInfo d;
    d.serial = p["Properties:SerialNo"];
    if (d.serial.empty()) co_return fail(ErrorKind::Protocol, "KOSTAL: the inverter has no serial");
    d.id = config_.name + ":" + d.serial;
    d.site = config_.site;
    d.connection = config_.name;
    d.vendor = "kostal";
    d.kind = "inverter";
    d.manufacturer = "KOSTAL";
    d.model = p["Branding:ProductName1"] + " " + p["Branding:ProductName2"];
    d.firmware = version->sw_version;
    co_return std::vector<DeviceInfo>{d};
  }

  asio::awaitable<Result<Snapshot>> poll(const DeviceInfo& device) override {
    // The request is the same every poll: made once.
    if (poll_body_.empty()) poll_body_ = process_data_body(poll_request(strings_, battery_));
    auto values = co_await client_.process_data_posted(poll_body_);
    if (!values) co_return fail(values.error());
    Snapshot snap;
    snap.time = env_.clock.now();
    snap.samples = map_process_data(*values, device.id, snap.time);
    co_return snap;
  }

  Capabilities capabilities(const DeviceInfo&) const override {
    Capabilities c;
    c.live = true;
    c.history = true;
    c.history_step = std::chrono::minutes(5);  // logdata/download has a row every 5 minutes
    if (battery_)
      c.commands = {{CommandType::MinSoc, 5, 100, {}, 0},
                    {CommandType::MinHomeConsumption, 50, 38'000, {}, 0},
                    {CommandType::BatteryStrategy, 0, 0, kStrategies, 0},
                    {CommandType::SmartControl, 0, 1, {}, 0},
                    {CommandType::TimeControl, 0, 0, {}, 0}};
    return c;
  }

  asio::awaitable<Result<std::vector<Sample>>> history(const DeviceInfo& device,
                                                       TimeRange range) override {
    // The log is asked for by local date; a day either side covers any time zone.
    auto day = [](TimePoint t) { return format_iso8601(t).substr(0, 10); };
    auto text = co_await client_.log_data(day(range.from - std::chrono::hours(24)),
                                          day(range.to + std::chrono::hours(24)));
    if (!text) co_return fail(text.error());
    co_return parse_log_data(*text, device.id, range);
  }

  asio::awaitable<Result<CommandOutcome>> apply(const DeviceInfo&, const Command& cmd) override {
    auto plan = plan_for(cmd);
    if (!plan) co_return fail(plan.error());
    std::vector<std::string> ids;
    for (const auto& w : plan->writes) ids.push_back(w.id);
    CommandOutcome out;
    auto before = co_await client_.settings(kLocal, ids);
    if (!before) co_return fail(before.error());
    auto numeric = [](const std::vector<SettingValue>& vs, const std::string& id) {
      for (const auto& v : vs)
        if (v.id == id) {
          char* end = nullptr;
          double x = std::strtod(v.value.c_str(), &end);
          if (!v.value.empty() && *end == '\0') return std::optional<double>(x);
        }
      return std::optional<double>();
    };
    out.before = numeric(*before, ids.front());
    auto written = co_await client_.write_settings(kLocal, plan->writes);
    if (!written) co_return fail(written.error());
    // The PUT reply is not authoritative (protocols.md §1.6): read the settings back.
    auto deadline = env_.clock.now() + options_.verify_timeout;
    std::string mismatch;
    for (;;) {
      auto now_values = co_await client_.settings(kLocal, ids);
      if (now_values) {
        mismatch.clear();
        for (const auto& w : plan->writes) {
          auto it = std::find_if(now_values->begin(), now_values->end(),
                                 [&](const SettingValue& v) { return v.id == w.id; });
          if (it == now_values->end() || !same_value(it->value, w.value)) {
            mismatch = w.id + " reads '" + (it == now_values->end() ? "" : it->value) + "', not '" +
                       w.value + "'";
            break;
          }
        }
        out.after = numeric(*now_values, ids.front());
        if (mismatch.empty()) {
          out.verified = true;
          out.detail = plan->summary + " read back from the inverter";
          co_return out;
        }
      }
      if (env_.clock.now() >= deadline) break;
      co_await env_.sleeper.sleep(Millis(1000));
    }
    out.verified = false;
    out.detail = "the inverter accepted " + plan->summary + " but " +
                 (mismatch.empty() ? std::string("its settings could not be read back") : mismatch);
    co_return out;
  }

  // One read of the battery settings the commands write (protocols.md §1.6).
  asio::awaitable<Result<std::vector<Setting>>> settings(const DeviceInfo&) override {
    std::vector<Setting> out;
    if (!battery_) co_return out;
    std::vector<std::string> ids = {"Battery:MinSoc", "Battery:MinHomeComsumption",
                                    "Battery:Strategy", "Battery:SmartBatteryControl:Enable",
                                    "Battery:TimeControl:Enable"};
    for (auto d : kDayIds) ids.push_back(std::string("Battery:TimeControl:Conf") + d);
    auto read = co_await client_.settings(kLocal, ids);
    if (!read) co_return fail(read.error());
    std::map<std::string, std::string> v;
    for (const auto& s : *read) v[s.id] = s.value;
    auto number = [&](const std::string& id) -> std::optional<double> {
      auto it = v.find(id);
      if (it == v.end() || it->second.empty()) return std::nullopt;
      char* end = nullptr;
      double x = std::strtod(it->second.c_str(), &end);
      if (*end != '\0' || !std::isfinite(x)) return std::nullopt;
      return x;
    };
    if (auto x = number("Battery:MinSoc")) out.push_back({CommandType::MinSoc, x, ""});
    if (auto x = number("Battery:MinHomeComsumption"))
      out.push_back({CommandType::MinHomeConsumption, x, ""});
    if (auto x = number("Battery:Strategy"); x && *x >= 1 && *x <= double(kStrategies.size()))
      out.push_back({CommandType::BatteryStrategy, std::nullopt,
                     kStrategies[static_cast<std::size_t>(*x) - 1]});
    if (auto x = number("Battery:SmartBatteryControl:Enable"))
      out.push_back({CommandType::SmartControl, *x != 0 ? 1.0 : 0.0, ""});
    if (auto x = number("Battery:TimeControl:Enable")) {
      std::string plan;
      if (*x != 0)
        for (auto d : kDayIds)
          plan += (plan.empty() ? "" : ",") + v[std::string("Battery:TimeControl:Conf") + d];
      out.push_back({CommandType::TimeControl, std::nullopt, *x != 0 ? plan : "off"});
    }
    co_return out;
  }

  /// The inverter allows a few sessions at a time; ours is handed back rather than left to
  /// expire. A failed logout changes nothing: the session dies on its own after its idle time.
  asio::awaitable<void> close() override {
    auto op = client_.logout();
    (void)co_await std::move(op);
  }

 private:
  ConnectionConfig config_;
  Options options_;
  DriverEnv env_;
  Client client_;
  int strings_ = 2;
  bool battery_ = true;
  std::string poll_body_;  ///< POST processdata's body for strings_ and battery_
};

}  // namespace

DriverRegistry::Entry registry_entry() {
  return {"kostal",
          "KOSTAL PLENTICORE plus / PIKO IQ, local REST API (port 80, owner or installer login)",
          kDefaultPort,
          {"password", "role", "service_code", "verify_timeout"},
          local_device_factory<KostalDriver>(parse_options),
          true};
}

}  // namespace sb::kostal
