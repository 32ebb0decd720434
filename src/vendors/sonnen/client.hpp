// A typed call per sonnenBatterie API v1 endpoint (seed 003). Plain HTTP on port 8080, no auth.
#pragma once

#include <boost/asio/awaitable.hpp>

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

/// Turns a non-200 v1 reply into an error of the right kind (404 -> NotFound, 405 -> Protocol,
/// 400 -> InvalidArgument, 5xx -> Transport so it is retried), quoting the ReturnCode.
Error error_from_reply(const net::HttpResponse& response, std::string_view what);

}  // namespace sb::sonnen
