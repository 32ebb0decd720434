#include "fuzz/wire.hpp"

#include <map>

#include "fuzz/harness.hpp"
#include "vendors/enphase/client.hpp"
#include "vendors/enphase/mapping.hpp"
#include "vendors/foxess/client.hpp"
#include "vendors/foxess/mapping.hpp"
#include "vendors/kostal/client.hpp"
#include "vendors/kostal/mapping.hpp"
#include "vendors/solarlog/client.hpp"
#include "vendors/solarlog/mapping.hpp"

namespace sb::fuzz {

namespace {

using Run = std::function<asio::awaitable<void>(net::HttpClient&, const Clock&, net::Endpoint)>;

// A connection option of the harness's configuration (harness.hpp vendor_config), made once
// per vendor rather than at every run.
const std::string& option(std::string_view vendor, const char* key) {
  static const std::map<std::string, ConnectionConfig, std::less<>> configs = [] {
    std::map<std::string, ConnectionConfig, std::less<>> m;
    for (const char* v : {"kostal", "foxess", "solarlog", "enphase"}) m[v] = vendor_config(v);
    return m;
  }();
  return configs.find(vendor)->second.options.at(key);
}

// KOSTAL: every call logs in first (auth/start, auth/finish, auth/create_session), as the
// client does on its own; the process data and log data are mapped as the driver does.
std::vector<WireCall> kostal_calls() {
  using kostal::Client;
  auto with = [](std::function<asio::awaitable<void>(Client&, const Clock&)> f) -> Run {
    return
        [f](net::HttpClient& http, const Clock& clock, net::Endpoint at) -> asio::awaitable<void> {
          Client c(http, at, kostal::Credentials{"user", option("kostal", "password"), ""},
                   Millis(3000));
          co_await f(c, clock);
        };
  };
  return {
      {"login", with([](Client& c, const Clock&) -> asio::awaitable<void> {
         (void)co_await c.login();
         (void)co_await c.logout();
       })},
      {"version",
       with([](Client& c, const Clock&) -> asio::awaitable<void> { (void)co_await c.version(); })},
      {"me", with([](Client& c, const Clock&) -> asio::awaitable<void> { (void)co_await c.me(); })},
      {"modules",
       with([](Client& c, const Clock&) -> asio::awaitable<void> { (void)co_await c.modules(); })},
      {"process-data-ids", with([](Client& c, const Clock&) -> asio::awaitable<void> {
         (void)co_await c.process_data_ids();
       })},
      {"process-data-module", with([](Client& c, const Clock& clock) -> asio::awaitable<void> {
         std::vector<std::string> all;
         if (auto m = co_await c.process_data("devices:local", all); m)
           (void)kostal::map_process_data({*m}, "kostal:inverter", clock.now());
       })},
      {"process-data-poll", with([](Client& c, const Clock& clock) -> asio::awaitable<void> {
         auto request = kostal::poll_request(2, true);
         if (auto m = co_await c.process_data(request); m)
           (void)kostal::map_process_data(*m, "kostal:inverter", clock.now());
       })},
      {"settings-meta", with([](Client& c, const Clock&) -> asio::awaitable<void> {
         (void)co_await c.settings_meta();
       })},
      {"settings", with([](Client& c, const Clock&) -> asio::awaitable<void> {
         std::vector<std::string> ids = {"Battery:MinSoc", "Battery:MinHomeComsumption",
                                         "Battery:ExternControl", "Battery:TimeControl:Enable"};
         (void)co_await c.settings("devices:local", ids);
       })},
      {"write-settings", with([](Client& c, const Clock&) -> asio::awaitable<void> {
         std::vector<kostal::SettingValue> values = {kostal::SettingValue{"Battery:MinSoc", "15"}};
         (void)co_await c.write_settings("devices:local", values);
       })},
      {"events", with([](Client& c, const Clock&) -> asio::awaitable<void> {
         (void)co_await c.events(10, "en-gb");
       })},
      {"log-data", with([](Client& c, const Clock& clock) -> asio::awaitable<void> {
         if (auto text = co_await c.log_data("2026-06-20", "2026-06-21"); text)
           (void)kostal::parse_log_data(
               *text, "kostal:inverter",
               TimeRange{clock.now() - std::chrono::hours(48), clock.now()});
       })},
      {"firmware", with([](Client& c, const Clock&) -> asio::awaitable<void> {
         (void)co_await c.firmware_status();
       })},
  };
}

// FoxESS: a call that needs an inverter takes the first of device/list (an answer of its own).
std::vector<WireCall> foxess_calls() {
  using foxess::Client;
  auto with = [](std::function<asio::awaitable<void>(Client&, const Clock&, std::string)> f,
                 bool needs_sn = true) -> Run {
    return [f, needs_sn](net::HttpClient& http, const Clock& clock,
                         net::Endpoint at) -> asio::awaitable<void> {
      Client c(http, at, option("foxess", "api_key"), clock, Millis(3000));
      std::string sn = "60BH100013SIM0001";
      if (needs_sn)
        if (auto d = co_await c.devices(); d && !d->empty()) sn = d->front().sn;
      co_await f(c, clock, sn);
    };
  };
  using S = std::string;
  return {
      {"plants", with(
                     [](Client& c, const Clock&, S) -> asio::awaitable<void> {
                       if (auto p = co_await c.plants(); p && !p->empty())
                         (void)co_await c.plant(p->front().station_id);
                     },
                     false)},
      {"devices",
       with([](Client& c, const Clock&, S) -> asio::awaitable<void> { (void)co_await c.devices(); },
            false)},
      {"device", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.device(sn);
       })},
      {"variables", with([](Client& c, const Clock&,
                            S) -> asio::awaitable<void> { (void)co_await c.variables(); },
                         false)},
      {"real-time", with([](Client& c, const Clock& clock, S sn) -> asio::awaitable<void> {
         std::vector<std::string> sns = {sn}, all;
         if (auto r = co_await c.real_time(sns, all); r)
           for (const auto& x : *r)
             (void)foxess::map_real_time(x.data, "foxess:" + x.sn, clock.now());
       })},
      {"real-time-v0", with([](Client& c, const Clock& clock, S sn) -> asio::awaitable<void> {
         std::vector<std::string> all;
         if (auto r = co_await c.real_time_v0(sn, all); r)
           for (const auto& x : *r)
             (void)foxess::map_real_time(x.data, "foxess:" + x.sn, clock.now());
       })},
      {"history", with([](Client& c, const Clock& clock, S sn) -> asio::awaitable<void> {
         auto now = clock.now();
         TimeRange range{now - std::chrono::hours(1), now};
         if (auto h = co_await c.history(sn, foxess::history_variables(), range.from, range.to); h)
           (void)foxess::map_history(*h, "foxess:" + sn, range);
       })},
      {"report", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.report(sn, "day", 2026, 6, 20, foxess::report_variables());
       })},
      {"generation", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.generation(sn);
       })},
      {"min-soc", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.min_soc(sn);
       })},
      {"setting", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.setting(sn, "ExportLimit");
       })},
      {"access-count", with([](Client& c, const Clock&,
                               S) -> asio::awaitable<void> { (void)co_await c.access_count(); },
                            false)},
      {"fault-codes", with([](Client& c, const Clock&,
                              S) -> asio::awaitable<void> { (void)co_await c.fault_codes(); },
                           false)},
      {"force-charge", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.force_charge(sn);
       })},
      {"device-time", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.device_time(sn);
       })},
      {"peak-shaving", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.peak_shaving(sn);
       })},
      {"scheduler", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.scheduler_flag(sn);
         (void)co_await c.scheduler(sn);
       })},
      {"scheduler-v0", with([](Client& c, const Clock&, S sn) -> asio::awaitable<void> {
         (void)co_await c.scheduler_flag(sn, false);
         (void)co_await c.scheduler(sn, false);
       })},
      {"modules-meters", with(
                             [](Client& c, const Clock&, S) -> asio::awaitable<void> {
                               (void)co_await c.modules();
                               if (auto m = co_await c.meters(); m && !m->empty())
                                 (void)co_await c.meter_settings(m->front().sn);
                             },
                             false)},
  };
}

// Solar-Log: every call signs in first (the token answer); a plant's calls take the first of
// the plant list.
std::vector<WireCall> solarlog_calls() {
  using solarlog::Client;
  auto with = [](std::function<asio::awaitable<void>(Client&, const Clock&, std::string)> f,
                 bool needs_plant = true) -> Run {
    return [f, needs_plant](net::HttpClient& http, const Clock& clock,
                            net::Endpoint at) -> asio::awaitable<void> {
      solarlog::ClientConfig config{at,
                                    at,
                                    option("solarlog", "portal"),
                                    option("solarlog", "client_id"),
                                    option("solarlog", "client_secret"),
                                    Millis(3000)};
      Client c(http, config, clock);
      std::string plant = "plant";
      if (needs_plant)
        if (auto p = co_await c.plants(); p && !p->empty()) plant = p->front().id;
      co_await f(c, clock, plant);
    };
  };
  using S = std::string;
  const std::vector<std::string> channels = {
      "ProdPac",      "ProdE",  "ProdEtotal", "ConsPac",      "ConsEtotal", "ChargePac",
      "DischargePac", "BatSoc", "ImportPac",  "ImportEtotal", "ExportPac",  "ExportEtotal"};
  // Daily, monthly and yearly values exist of the energies only.
  const std::vector<std::string> energies = {"ProdE",      "ConsE",   "ChargeE",
                                             "DischargeE", "ImportE", "ExportE"};
  return {
      {"plants",
       with([](Client& c, const Clock&, S) -> asio::awaitable<void> { (void)co_await c.plants(); },
            false)},
      {"plant", with([](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         (void)co_await c.plant(p);
         (void)co_await c.address(p);
       })},
      {"fleets", with(
                     [](Client& c, const Clock&, S) -> asio::awaitable<void> {
                       if (auto f = co_await c.fleets(); f && !f->empty())
                         (void)co_await c.fleet(f->front().id);
                     },
                     false)},
      {"components", with([](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         if (auto k = co_await c.components(p, "2026-06-20"); k) {
           auto layout = solarlog::layout_of("solarlog:" + p, *k, true);
           (void)solarlog::plant_channels(layout);
         }
       })},
      {"day", with([channels](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         (void)co_await c.day(p, "2026-06-20", channels);
       })},
      {"month", with([energies](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         (void)co_await c.month(p, 2026, 6, energies);
       })},
      {"year", with([energies](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         (void)co_await c.year(p, 2026, energies);
       })},
      {"lifetime", with([energies](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         (void)co_await c.lifetime(p, energies);
       })},
      {"range", with([channels](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         (void)co_await c.range(p, "2026-06-19", "2026-06-20", channels);
       })},
      {"cross-epoch", with([channels](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         std::vector<std::int64_t> components;
         if (auto k = co_await c.components(p, "2026-06-20"); k)
           for (const auto& x : *k) components.push_back(x.id);
         (void)co_await c.cross_epoch(p, components, channels, "2026-06-20", "2026-06-20");
       })},
      {"kpis", with([](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         (void)co_await c.kpis(p, "2026-06-20", "2026-06-20");
       })},
      {"events", with([](Client& c, const Clock&, S p) -> asio::awaitable<void> {
         (void)co_await c.events(p, "2026-06-01", "2026-06-20");
       })},
  };
}

// Enphase: a system's calls take the first id of the systems list (an answer of their own),
// a device's the first serial of its kind from the devices list.
std::vector<WireCall> enphase_calls() {
  using enphase::Client;
  using Call = std::function<asio::awaitable<void>(Client&, std::int64_t, std::int64_t)>;
  auto with = [](Call f, bool needs_id = true) -> Run {
    return [f, needs_id](net::HttpClient& http, const Clock& clock,
                         net::Endpoint at) -> asio::awaitable<void> {
      Client c(http, at, option("enphase", "api_key"), Millis(3000));
      c.use_access_token(enphase_wire_token());
      std::int64_t id = 1;
      if (needs_id)
        if (auto page = co_await c.systems(); page && !page->systems.empty())
          id = page->systems.front().id;
      const std::int64_t now =
          std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
      co_await f(c, id, now);
      (void)c.take_refusal();
    };
  };
  auto serial_of = [](Client& c, std::int64_t id,
                      std::string kind) -> asio::awaitable<std::string> {
    std::string serial = "482100000001";
    if (auto devices = co_await c.devices(id); devices)
      for (const auto& d : *devices)
        if (d.kind == kind) {
          serial = d.serial;
          break;
        }
    co_return serial;
  };
  using I = std::int64_t;
  std::vector<WireCall> calls = {
      {"systems", with(
                      [](Client& c, I, I) -> asio::awaitable<void> {
                        (void)co_await c.systems();
                        (void)co_await c.search("home");
                      },
                      false)},
      {"system", with([](Client& c, I id, I) -> asio::awaitable<void> {
         (void)co_await c.system(id);
         (void)co_await c.summary(id);
       })},
      {"devices", with([](Client& c, I id, I) -> asio::awaitable<void> {
         if (auto d = co_await c.devices(id); d) (void)enphase::inventory_of(*d);
         (void)co_await c.inverters(id);
       })},
      {"gateway",
       with([](Client& c, I,
               I) -> asio::awaitable<void> { (void)co_await c.system_of_gateway("122100000001"); },
            false)},
      {"events", with([](Client& c, I id, I now) -> asio::awaitable<void> {
         (void)co_await c.events(id, now - 86'400, now);
         (void)co_await c.alarms(id, now - 86'400, now, true);
         (void)co_await c.event_types();
       })},
      {"meters", with([](Client& c, I id, I now) -> asio::awaitable<void> {
         (void)co_await c.meter_readings(id);
         (void)co_await c.rgm_stats(id, now - 86'400, now);
       })},
      {"lifetime", with([](Client& c, I id, I) -> asio::awaitable<void> {
         for (auto kind : {enphase::LifetimeKind::Energy, enphase::LifetimeKind::Consumption,
                           enphase::LifetimeKind::Battery, enphase::LifetimeKind::Import,
                           enphase::LifetimeKind::Export})
           (void)co_await c.lifetime(id, kind, "2026-06-01", "2026-06-20");
       })},
      {"telemetry", with([](Client& c, I id, I now) -> asio::awaitable<void> {
         (void)co_await c.telemetry(id, "production_micro", now - 86'400, "day");
         (void)co_await c.telemetry(id, "consumption_meter", now - 86'400, "day");
         (void)co_await c.grid_telemetry(id, true, now - 86'400, "day");
       })},
      {"battery-telemetry", with([](Client& c, I id, I now) -> asio::awaitable<void> {
         (void)co_await c.battery_telemetry(id, now - 86'400, "day");
       })},
      {"micro-telemetry", with([serial_of](Client& c, I id, I now) -> asio::awaitable<void> {
         auto micro = co_await serial_of(c, id, "micros");
         (void)co_await c.micro_telemetry(id, micro, now - 86'400, "day");
       })},
      {"device-battery", with([serial_of](Client& c, I id, I now) -> asio::awaitable<void> {
         auto battery = co_await serial_of(c, id, "encharges");
         (void)co_await c.device_battery_telemetry(id, false, battery, now - 86'400, "day");
       })},
      {"latest",
       with([](Client& c, I id, I) -> asio::awaitable<void> { (void)co_await c.latest(id); })},
      {"settings", with([](Client& c, I id, I) -> asio::awaitable<void> {
         (void)co_await c.battery_settings(id);
         (void)co_await c.storm_guard(id);
         (void)co_await c.grid_status(id);
         (void)co_await c.load_control(id);
       })},
      {"ev", with([](Client& c, I id, I now) -> asio::awaitable<void> {
         std::string charger = "202300000001";
         if (auto chargers = co_await c.ev_chargers(id); chargers && !chargers->empty())
           charger = chargers->front().serial;
         (void)co_await c.ev_events(id, 0, 20);
         (void)co_await c.ev_sessions(id, charger, 0, 20);
         (void)co_await c.ev_schedules(id, charger);
         (void)co_await c.ev_daily(id, charger, "20260601", "20260620");
         (void)co_await c.ev_telemetry(id, charger, now - 86'400, "day");
       })},
      {"live",
       with([](Client& c, I id, I) -> asio::awaitable<void> { (void)co_await c.live(id, 30); })},
  };
  return calls;
}

}  // namespace

std::string& enphase_wire_token() {
  static std::string token = "fuzz-access-token";
  return token;
}

const std::vector<WireCall>& wire_calls(std::string_view vendor) {
  static const std::map<std::string, std::vector<WireCall>, std::less<>> all = [] {
    std::map<std::string, std::vector<WireCall>, std::less<>> m;
    m["kostal"] = kostal_calls();
    m["foxess"] = foxess_calls();
    m["solarlog"] = solarlog_calls();
    m["enphase"] = enphase_calls();
    return m;
  }();
  static const std::vector<WireCall> none;
  auto it = all.find(vendor);
  return it == all.end() ? none : it->second;
}

void run_wire(std::string_view vendor, std::string_view data) {
  const auto& calls = wire_calls(vendor);
  if (calls.empty() || data.empty()) return;
  const auto& call = calls[static_cast<unsigned char>(data[0]) % calls.size()];
  run_client(data.substr(1), [&call](net::HttpClient& http, const Clock& clock) {
    return call.run(http, clock, net::Endpoint{"127.0.0.1", 0, false});
  });
}

}  // namespace sb::fuzz
