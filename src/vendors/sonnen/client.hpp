// A typed call per sonnenBatterie API v1 endpoint (seed 003; plain HTTP on port 8080, no auth)
// and per JSON API v2 endpoint (protocols.md §3.2; port 80, Auth-Token).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <map>

#include "core/clock.hpp"
#include "net/http_client.hpp"
#include "vendors/sonnen/wire.hpp"

namespace sb::sonnen {

namespace asio = boost::asio;

inline constexpr std::uint16_t kDefaultPort = 8080;

class Client {
 public:
  Client(net::HttpClient& http, net::Endpoint endpoint, Millis timeout = Millis(5000))
      : http_(http), endpoint_(std::move(endpoint)), timeout_(timeout) {}

  /// GET /api/v1/status.
  asio::awaitable<Result<StatusV1>> status();
  /// PUT /api/v1/setpoint/charge/{W}; watts >= 0.
  asio::awaitable<Result<void>> set_charge(int watts);
  /// PUT /api/v1/setpoint/discharge/{W}; watts >= 0.
  asio::awaitable<Result<void>> set_discharge(int watts);
  /// Canonical sign: + discharge, - charge; picks the path.
  asio::awaitable<Result<void>> set_battery_power(int watts);

  const net::Endpoint& endpoint() const { return endpoint_; }

 private:
  asio::awaitable<Result<net::HttpResponse>> call(std::string method, std::string target);
  /// PUT /api/v1/setpoint/{direction}/{W}.
  asio::awaitable<Result<void>> setpoint(std::string direction, int watts);
  net::HttpClient& http_;
  net::Endpoint endpoint_;
  Millis timeout_;
};

/// A typed call per sonnenBatterie JSON API v2 endpoint (protocols.md §3.2): header
/// `Auth-Token`, port 80 on real devices. Values of configurations are strings, as on the wire.
class ClientV2 {
 public:
  ClientV2(net::HttpClient& http, net::Endpoint endpoint, std::string token,
           Millis timeout = Millis(5000))
      : http_(http), endpoint_(std::move(endpoint)), token_(std::move(token)), timeout_(timeout) {}

  /// GET /api/v2/status (no token needed): the v1 status with OperatingMode, BackupBuffer.
  asio::awaitable<Result<StatusV1>> status();
  /// Whether the device answers GET /api/v2/status at all: false for a 404 (a v1-only device),
  /// an error when it cannot be reached.
  asio::awaitable<Result<bool>> offers_v2();
  /// GET /api/v2/latestdata, /battery, /inverter, /io: the objects as they come.
  asio::awaitable<Result<boost::json::object>> latest_data();
  asio::awaitable<Result<boost::json::object>> battery();
  asio::awaitable<Result<boost::json::object>> inverter();
  asio::awaitable<Result<boost::json::object>> io();
  /// GET /api/v2/powermeter: one object per meter.
  asio::awaitable<Result<boost::json::array>> powermeter();
  /// GET /api/v2/configurations.
  asio::awaitable<Result<std::map<std::string, std::string>>> configurations();
  /// GET /api/v2/configurations/{key}.
  asio::awaitable<Result<std::string>> configuration(std::string key);
  /// PUT /api/v2/configurations with string values; the items as the device echoes them.
  asio::awaitable<Result<std::map<std::string, std::string>>> set_configurations(
      std::map<std::string, std::string> items);
  /// POST /api/v2/setpoint/{charge|discharge}/{W} from the canonical sign (+ discharge);
  /// needs manual mode. 403 (a virtual power plant has priority) is a Conflict.
  asio::awaitable<Result<void>> set_battery_power(int watts);

  const net::Endpoint& endpoint() const { return endpoint_; }

 private:
  asio::awaitable<Result<net::HttpResponse>> call(std::string method, std::string target,
                                                  std::string body = {});
  asio::awaitable<Result<boost::json::value>> get_json(std::string path);
  asio::awaitable<Result<boost::json::object>> get_object(std::string path);
  net::HttpClient& http_;
  net::Endpoint endpoint_;
  std::string token_;
  Millis timeout_;
};

/// Turns a non-200 v2 reply into an error of the right kind, quoting the device's `error` and
/// its `details`.
Error error_from_v2_reply(const net::HttpResponse& response, std::string_view what);

/// Turns a non-200 v1 reply into an error of the right kind (404 -> NotFound, 405 -> Protocol,
/// 400 -> InvalidArgument, 5xx -> Transport so it is retried), quoting the ReturnCode.
Error error_from_reply(const net::HttpResponse& response, std::string_view what);

}  // namespace sb::sonnen
