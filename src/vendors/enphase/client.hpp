// A typed client of the Enphase Monitoring API v4 (shared/specs/enphase-openapi.yaml): one call
// per operation, both credentials on each (the bearer token and the API key in header `key`),
// the eight error bodies turned into Errors that say what the cloud said, and the OAuth token
// calls. A 429 is a RateLimited error; its quota fields (E2), when present, are kept for
// take_refusal() so that the planner learns the plan.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/fwd.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "net/http.hpp"
#include "net/token_file.hpp"

namespace sb::net {
class HttpClient;
}

namespace sb::enphase {

namespace asio = boost::asio;

using Tokens = net::OAuthTokens;

/// What a 429 with quota fields said: `limit` calls per `period` ("minute" or "month").
struct Refusal {
  int limit = 0;
  std::string period;
  TimePoint period_end;
  std::string plan;  ///< from "Usage limit exceeded for plan Kilowatt"
};

struct System {
  std::int64_t id = 0;
  std::string name, timezone, status, connection_type, reference;
  std::int64_t last_report_at = 0, operational_at = 0;
};
struct SystemPage {
  int total = 0, page = 1, size = 10;
  std::vector<System> systems;
};
struct Summary {
  std::int64_t system_id = 0;
  double current_power_w = 0, energy_lifetime_wh = 0, energy_today_wh = 0;
  double size_w = 0, battery_capacity_wh = 0;
  int modules = 0;
  std::int64_t last_report_at = 0, last_interval_end_at = 0, operational_at = 0;
  std::string status, summary_date;
};
/// One device of listSystemDevices; `kind` is its list's key (micros, meters, gateways,
/// encharges, enpowers, acbs, ev_chargers).
struct Device {
  std::string kind, name, serial, model, sku, part_number, firmware, status;
  bool active = true;
  std::int64_t last_report_at = 0;
};
struct Inverter {
  std::string serial, model, status;
  double power_w = 0, lifetime_wh = 0;
  std::int64_t last_report_at = 0;
};
struct SystemEvent {
  int type = 0;
  std::string status, serial;
  std::int64_t start = 0;
  std::optional<std::int64_t> end;
};
struct Alarm {
  std::string id;
  int type = 0, severity = 0;
  bool cleared = false;
  std::int64_t start = 0;
  std::optional<std::int64_t> end;
};
struct EventType {
  int id = 0;
  std::string key, name, description;
  bool stateful = false;
};
struct MeterReading {
  std::string serial;
  double wh = 0;
  std::int64_t read_at = 0;
};
/// An interval of a telemetry series: its end, its energy and (where given) its power.
struct Interval {
  std::int64_t end_at = 0;
  double wh = 0;
  std::optional<double> power_w;
};
struct BatteryInterval {
  std::int64_t end_at = 0;
  double charge_wh = 0, discharge_wh = 0;
  std::optional<double> soc;
};
struct Telemetry {
  std::int64_t start_at = 0, end_at = 0;  ///< 0 when the answer carried dates instead
  std::string start_date;
  int total_devices = 0;
  std::vector<Interval> intervals;
};
struct BatteryTelemetry {
  std::int64_t start_at = 0, end_at = 0;
  int total_devices = 0;
  std::vector<BatteryInterval> intervals;
  std::optional<double> last_soc;  ///< last_reported_(aggregate_)soc, "%" stripped
};
/// A lifetime series: one Wh value per day from start_date.
struct Lifetime {
  std::string start_date;
  std::vector<double> values;                      ///< production, consumption, import, export
  std::vector<double> charge, discharge;           ///< battery_lifetime
  std::vector<double> meter_values, micro_values;  ///< energy_lifetime production=all
};
enum class LifetimeKind { Energy, Consumption, Battery, Import, Export };
struct LatestPower {
  std::optional<double> production_w, consumption_w, battery_w;  ///< battery: + discharging
  std::int64_t reported_at = 0;
};
struct BatteryConfig {
  std::string mode;
  int reserve_soc = 0, shutdown_level = 0;
  bool energy_independence = false, charge_from_grid = false;
};
/// What a battery-settings PUT changes; unset fields stay.
struct BatteryChange {
  std::optional<std::string> mode;
  std::optional<int> reserve_soc;
  std::optional<bool> energy_independence, charge_from_grid;
};
struct StormGuard {
  bool enabled = false, alert = false;
  std::string status;  ///< as the cloud wrote it ("enabled", "Enabled (Inactive)")
};
struct GridStatus {
  std::string state;  ///< On Grid, Off Grid, Unknown
  std::int64_t last_report = 0;
};
struct LoadContact {
  std::string name, load_name, mode, status;
  bool owner_can_override = false;
  int soc_low = 0, soc_high = 0, essential_start = 0, essential_end = 0;
};
struct LoadContactChange {
  std::string name;
  std::optional<std::string> mode;
  std::optional<int> soc_low, essential_start, essential_end;
};
struct LiveStatus {
  std::int64_t at_ms = 0;
  double pv_w = 0, consumption_w = 0, grid_w = 0, battery_w = 0, generator_w = 0;
  std::optional<double> soc;
  std::string battery_mode, grid_status;
};
struct EvCharger {
  std::string id, serial, name, model, sku, firmware, status;
  bool active = false;
};
struct EvEvent {
  std::string status, details;
  std::int64_t triggered = 0, cleared = 0;
};
struct EvSession {
  std::int64_t start = 0, end = 0, duration_s = 0, charge_time_s = 0;
  double energy_wh = 0, miles = 0, cost = 0;
};
struct EvSchedule {
  std::string type;
  bool active = false;
  std::vector<std::vector<int>> days;  ///< per schedule
  std::vector<std::string> start, end;
  std::vector<int> level;
};

class Client {
 public:
  Client(net::HttpClient& http, net::Endpoint endpoint, std::string api_key, Millis timeout);

  void use_access_token(std::string token);
  /// The last 429's quota fields, once (nullopt when none came since).
  std::optional<Refusal> take_refusal();

  // OAuth 2.0 (protocols.md §4): Basic client auth, parameters in the query string.
  static std::string authorize_url(const net::Endpoint& cloud, const std::string& client_id,
                                   const std::string& redirect_uri, const std::string& state);
  asio::awaitable<Result<Tokens>> exchange_code(std::string client_id, std::string client_secret,
                                                std::string code, std::string redirect_uri);
  asio::awaitable<Result<Tokens>> refresh_tokens(std::string client_id, std::string client_secret,
                                                 std::string refresh_token);
  asio::awaitable<Result<Tokens>> password_grant(std::string client_id, std::string client_secret,
                                                 std::string username, std::string password);

  /// One call: the parsed body of a 2xx answer; an Error naming the operation otherwise.
  asio::awaitable<Result<boost::json::value>> call(std::string method, std::string target,
                                                   std::optional<std::string> body = std::nullopt,
                                                   net::Headers extra = {});

  // System Details.
  asio::awaitable<Result<SystemPage>> systems(int page = 1, int size = 100);
  asio::awaitable<Result<SystemPage>> search(std::string name, int page = 1, int size = 100);
  asio::awaitable<Result<System>> system(std::int64_t id);
  asio::awaitable<Result<Summary>> summary(std::int64_t id);
  asio::awaitable<Result<std::vector<Device>>> devices(std::int64_t id);
  asio::awaitable<Result<std::int64_t>> system_of_gateway(std::string envoy_serial);
  asio::awaitable<Result<std::vector<Inverter>>> inverters(std::int64_t id, int page = 1,
                                                           int size = 100);
  asio::awaitable<Result<std::vector<SystemEvent>>> events(std::int64_t id, std::int64_t from,
                                                           std::int64_t to);
  asio::awaitable<Result<std::vector<Alarm>>> alarms(std::int64_t id, std::int64_t from,
                                                     std::int64_t to, bool cleared);
  asio::awaitable<Result<std::vector<EventType>>> event_types();

  // Meters, lifetime series, telemetry. `start` is epoch s; 0: the cloud's default.
  asio::awaitable<Result<std::vector<MeterReading>>> meter_readings(std::int64_t id,
                                                                    std::int64_t end_at = 0);
  asio::awaitable<Result<Telemetry>> rgm_stats(std::int64_t id, std::int64_t start,
                                               std::int64_t end);
  asio::awaitable<Result<Lifetime>> lifetime(std::int64_t id, LifetimeKind kind,
                                             std::string start_date, std::string end_date,
                                             bool all_production = false);
  /// kind: production_micro, production_meter, consumption_meter.
  asio::awaitable<Result<Telemetry>> telemetry(std::int64_t id, std::string kind,
                                               std::int64_t start, std::string granularity);
  asio::awaitable<Result<BatteryTelemetry>> battery_telemetry(std::int64_t id, std::int64_t start,
                                                              std::string granularity);
  /// import: energy_import_telemetry, else energy_export_telemetry.
  asio::awaitable<Result<Telemetry>> grid_telemetry(std::int64_t id, bool import,
                                                    std::int64_t start, std::string granularity);
  asio::awaitable<Result<Telemetry>> micro_telemetry(std::int64_t id, std::string serial,
                                                     std::int64_t start, std::string granularity);
  /// acb: AC Battery, else IQ Battery (Encharge).
  asio::awaitable<Result<BatteryTelemetry>> device_battery_telemetry(std::int64_t id, bool acb,
                                                                     std::string serial,
                                                                     std::int64_t start,
                                                                     std::string granularity);
  asio::awaitable<Result<LatestPower>> latest(std::int64_t id);
  /// A live_data stream of `duration_s` (30..900), read to its end.
  asio::awaitable<Result<std::vector<LiveStatus>>> live(std::int64_t id, int duration_s);

  // System Configurations.
  asio::awaitable<Result<BatteryConfig>> battery_settings(std::int64_t id);
  asio::awaitable<Result<BatteryConfig>> set_battery_settings(std::int64_t id, BatteryChange c);
  asio::awaitable<Result<StormGuard>> storm_guard(std::int64_t id);
  asio::awaitable<Result<StormGuard>> set_storm_guard(std::int64_t id, bool enabled);
  asio::awaitable<Result<GridStatus>> grid_status(std::int64_t id);
  asio::awaitable<Result<std::vector<LoadContact>>> load_control(std::int64_t id);
  asio::awaitable<Result<std::vector<LoadContact>>> set_load_control(std::int64_t id,
                                                                     LoadContactChange c);

  // EV charger.
  asio::awaitable<Result<std::vector<EvCharger>>> ev_chargers(std::int64_t id);
  asio::awaitable<Result<std::vector<EvEvent>>> ev_events(std::int64_t id, int offset, int limit);
  asio::awaitable<Result<std::vector<EvSession>>> ev_sessions(std::int64_t id, std::string serial,
                                                              int offset, int limit);
  asio::awaitable<Result<std::vector<EvSchedule>>> ev_schedules(std::int64_t id,
                                                                std::string serial);
  /// Wh per day from start_date (YYYYMMDD) to end_date; the map's keys are YYYY-MM-DD.
  asio::awaitable<Result<std::map<std::string, double>>> ev_daily(std::int64_t id,
                                                                  std::string serial,
                                                                  std::string start_date,
                                                                  std::string end_date);
  asio::awaitable<Result<Telemetry>> ev_telemetry(std::int64_t id, std::string serial,
                                                  std::int64_t start, std::string granularity);
  asio::awaitable<Result<void>> ev_start(std::int64_t id, std::string serial, int level);
  asio::awaitable<Result<void>> ev_stop(std::int64_t id, std::string serial);

 private:
  asio::awaitable<Result<Tokens>> token_call(std::map<std::string, std::string> params,
                                             std::string client_id, std::string client_secret);
  net::HttpClient& http_;
  net::Endpoint endpoint_;
  std::string api_key_;
  Millis timeout_;
  std::mutex mutex_;
  std::string access_token_;
  std::optional<Refusal> refusal_;
};

}  // namespace sb::enphase
