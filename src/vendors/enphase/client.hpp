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
#include "vendors/enphase/wire.hpp"

namespace sb::net {
class HttpClient;
}

namespace sb::enphase {

namespace asio = boost::asio;

using Tokens = net::OAuthTokens;

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
