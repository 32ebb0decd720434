// A Solar-Log WEB Enerest portal (shared/specs/solarlog.md, protocols.md §5): plants of
// simulated sites, users assigned to some of them with a Basic or an Advanced package of the
// User API, and Portal API accounts that see every plant; OAuth 2.0 client credentials at the
// Keycloak-style token endpoint the public client uses; the documented administration calls
// under /api/v1/{portal}/. Every call that is inferred rather than documented is listed, with its
// reasoning, in docs/vendors/solarlog.md.
//
// The data calls follow the public client's `datasource` and `visualization` calls: components
// of a plant for a date, channel values for a day, month, year, the lifetime and a date range,
// per-component values and KPIs (Advanced), and component events. Values come from a
// PlantModel per plant.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "net/http_server.hpp"
#include "sim/faults.hpp"
#include "sim/http_simulator.hpp"
#include "sim/site.hpp"
#include "vendors/solarlog/plant_model.hpp"

namespace sb::solarlog {

/// Which API and package a client's credentials are for.
enum class Package { UserBasic, UserAdvanced, PortalBasic, PortalAdvanced };
/// "user-basic", "user-advanced", "portal-basic", "portal-advanced".
std::string_view to_string(Package p);
inline bool is_portal(Package p) {
  return p == Package::PortalBasic || p == Package::PortalAdvanced;
}
inline bool is_advanced(Package p) {
  return p == Package::UserAdvanced || p == Package::PortalAdvanced;
}

struct SimContact {
  std::string first_name, last_name, company, email, phone, role;
};

struct SimPlant {
  std::string id;  ///< a GUID
  int ffuf_id = 0;
  std::string name;
  std::string street, house_number, postal_code, city, country;
  std::string fleet;  ///< the fleet's id; "" none
  int inverters = 1, meters = 2;
  bool battery = true, ev_charger = false;
  int installed_days = 700;
  std::vector<SimContact> contacts;
  sim::SiteConfig site;
};

struct SimFleet {
  std::string id, name;
};

/// A set of client credentials: a user of the User API (who sees the plants assigned to them) or
/// a Portal API account (who sees them all).
struct SimClient {
  std::string client_id, client_secret;
  Package package = Package::UserBasic;
  std::vector<std::string> plants;  ///< User API: the plant ids assigned
};

/// `n` plants in two fleets, around Germany and Austria; the first has an EV charger, every third
/// no battery.
std::vector<SimPlant> make_plants(int n, std::uint64_t seed = 1);

struct SimOptions {
  std::string portal = "solarCompanyXYZ";  ///< the first label of <portal>.enerest.world
  std::vector<SimPlant> plants;            ///< empty: make_plants(4)
  std::vector<SimFleet> fleets;            ///< empty: the fleets the plants name
  /// Empty: user-basic (the first two plants), user-advanced (the first three), portal-basic and
  /// portal-advanced (all), each with the secret "<id>-secret".
  std::vector<SimClient> clients;
  std::chrono::seconds token_life{300};  ///< Keycloak's default access token lifespan
  /// The wall clock tokens expire by: at --speed 60 a token still lasts 5 real minutes. Null:
  /// the simulator's own clock.
  const Clock* wall_clock = nullptr;
  int per_minute = 60;  ///< calls per client and minute (decision)
};

class Simulator : public sim::HttpSimulator {
 public:
  Simulator(boost::asio::any_io_executor executor, const Clock& clock, SimOptions options = {},
            sim::FaultSpec faults = {});
  ~Simulator();

  /// Every token issued so far stops working (an administrator revoking the client's sessions).
  void expire_all_tokens();
  const SimOptions& options() const { return options_; }
  /// What a plant measured (the values every data call answers from); nullptr for an unknown id.
  /// Lock-free: use it while no request is in flight.
  PlantModel* model(const std::string& plant_id);
  /// The next `n` API calls answer 200 with a cut JSON body (a fault of the portal's proxy).
  void malform_next(int n);
  /// The next `n` API calls answer 503 (a burst of server errors).
  void fail_next(int n);

 private:
  struct Token {
    std::string client_id;
    TimePoint expires;
  };
  using ApiHandler = std::function<net::ServerResponse(net::ServerRequest&, const SimClient&)>;
  using PlantHandler = std::function<net::ServerResponse(net::ServerRequest&, const SimClient&,
                                                         const SimPlant&, PlantModel&)>;
  std::shared_ptr<net::Router> routes() override;
  void add_data_routes(net::Router& r, const std::function<net::Handler(ApiHandler)>& api);
  /// The Spring Boot error body (decision 2).
  net::ServerResponse api_error(int status, const char* error, std::string message,
                                const std::string& path) const;
  /// The plant in the path: 404 unknown, 403 not assigned to a User client; `f` with the
  /// simulator's mutex held.
  net::ServerResponse with_plant(net::ServerRequest& req, const SimClient& c,
                                 const PlantHandler& f);
  /// The client behind the request's bearer token; nullptr with the 401 in `refusal` otherwise,
  /// or the quota's 429.
  const SimClient* caller(const net::ServerRequest& req, net::ServerResponse& refusal);
  const SimPlant* plant(const std::string& id) const;
  bool may_see(const SimClient& c, const SimPlant& p) const;

  const Clock& clock_;
  const Clock& auth_clock() const { return options_.wall_clock ? *options_.wall_clock : clock_; }
  TimePoint started_;  // plants were installed installed_days before it
  SimOptions options_;
  std::mutex mutex_;
  std::map<std::string, Token> tokens_;
  std::map<std::string, std::pair<std::int64_t, int>> minute_;  // client -> (minute, calls)
  std::uint64_t serial_ = 0;
  std::vector<std::unique_ptr<PlantModel>> models_;  // as options_.plants
  int malform_ = 0, fail_ = 0;
};

}  // namespace sb::solarlog
