// A typed client of the Solar-Log WEB Enerest User and Portal APIs (docs/vendors/solarlog.md):
// OAuth 2.0 client credentials at the Keycloak token endpoint, renewed before the token expires
// and once more when the API refuses it; one call per method, each answer checked and turned
// into a struct, each failure an Error that names the call and what the portal said.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "net/http.hpp"
#include "vendors/solarlog/wire.hpp"

namespace sb::net {
class HttpClient;
}

namespace sb::solarlog {

struct ClientConfig {
  net::Endpoint api;   ///< api.enerest.world:443
  net::Endpoint auth;  ///< auth.enerest.world:443
  std::string portal;  ///< the first label of <portal>.enerest.world
  std::string client_id, client_secret;
  Millis timeout{10'000};
};

class Client {
 public:
  Client(net::HttpClient& http, ClientConfig config, const Clock& clock);

  /// A fresh token now (the driver's first call; the others renew it themselves).
  boost::asio::awaitable<Result<void>> sign_in();
  std::optional<TimePoint> token_expires() const { return expires_; }

  boost::asio::awaitable<Result<std::vector<PlantInfo>>> plants();
  boost::asio::awaitable<Result<PlantInfo>> plant(std::string id);
  boost::asio::awaitable<Result<PlantAddress>> address(std::string plant);
  boost::asio::awaitable<Result<std::vector<FleetInfo>>> fleets();
  boost::asio::awaitable<Result<FleetInfo>> fleet(std::string id);
  /// The components installed by the end of `date` (YYYY-MM-DD).
  boost::asio::awaitable<Result<std::vector<ComponentInfo>>> components(std::string plant,
                                                                        std::string date);
  /// 5-minute values of a day (YYYY-MM-DD) of the plant, or of `components`.
  boost::asio::awaitable<Result<std::vector<Series>>> day(
      std::string plant, std::string date, std::vector<std::string> channels,
      std::vector<std::int64_t> components = {});
  /// Daily values of a month, monthly of a year, yearly of the lifetime.
  boost::asio::awaitable<Result<std::vector<Series>>> month(
      std::string plant, int year, int month, std::vector<std::string> channels,
      std::vector<std::int64_t> components = {});
  boost::asio::awaitable<Result<std::vector<Series>>> year(
      std::string plant, int year, std::vector<std::string> channels,
      std::vector<std::int64_t> components = {});
  boost::asio::awaitable<Result<std::vector<Series>>> lifetime(
      std::string plant, std::vector<std::string> channels,
      std::vector<std::int64_t> components = {});
  /// 5-minute values of the days from `from` to `to` (inclusive): the plant's, or with
  /// `trackers` each MPP tracker's.
  boost::asio::awaitable<Result<std::vector<Series>>> range(
      std::string plant, std::string from, std::string to, std::vector<std::string> channels,
      std::vector<std::int64_t> trackers = {});
  /// The same for any components (Advanced).
  boost::asio::awaitable<Result<std::vector<Series>>> cross_epoch(
      std::string plant, std::vector<std::int64_t> components, std::vector<std::string> channels,
      std::string from, std::string to);
  boost::asio::awaitable<Result<Kpis>> kpis(std::string plant, std::string from, std::string to);
  boost::asio::awaitable<Result<std::vector<PortalEvent>>> events(std::string plant,
                                                                  std::string from, std::string to);

  /// API calls sent (token requests not counted).
  int calls() const { return calls_; }

 private:
  // GET under /api/v1/{portal}/ with the token; renews it once on a 401.
  boost::asio::awaitable<Result<std::string>> get(std::string path, std::string what);
  boost::asio::awaitable<Result<std::vector<Series>>> series(std::string path, std::string what);
  // A call whose answer is a list, each element through `parse`; one whose answer is an object.
  template <class T, class Parse>
  boost::asio::awaitable<Result<std::vector<T>>> list(std::string path, std::string what,
                                                      Parse parse);
  template <class T, class Parse>
  boost::asio::awaitable<Result<T>> one(std::string path, std::string what, Parse parse);

  net::HttpClient& http_;
  ClientConfig config_;
  const Clock& clock_;
  std::string token_;
  std::optional<TimePoint> expires_;
  int calls_ = 0;
};

}  // namespace sb::solarlog
