// An Enphase Monitoring API v4 cloud (shared/specs/enphase-openapi.yaml, catalogued in
// shared/specs/enphase.md; OAuth, keys and plans from protocols.md §4): systems of simulated
// sites, the OAuth 2.0 authorization server, the API key in header `key` or query `?key=`,
// per-minute and per-month plan limits with the seed's 429 bodies, and injectable faults.
// Decisions where the documents stop: docs/vendors/enphase.md.
//
// Operations so far: listSystems, searchSystems, getSystemById, getSystemSummary,
// listSystemDevices, retrieveSystemId, getInvertersSummary (the System Details group but for
// and the event, alarm and event-type calls), the five lifetime series (energy, consumption,
// battery, import, export) the site telemetry series and latest_telemetry. The rest of the 43 are
// issue 5's next steps.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "net/http_server.hpp"
#include "sim/faults.hpp"
#include "sim/site.hpp"

namespace sb::sim {
class HttpEndpoint;
}

namespace sb::enphase {

enum class Plan { Watt, Kilowatt, Megawatt, Partner };
struct PlanLimits {
  const char* name;
  int per_minute;
  int per_month;
};
/// protocols.md §4: Watt 10/min 1,000/month, Kilowatt 50 / 50,000, Megawatt 100 / 300,000,
/// Partner 300 / 1,500,000.
PlanLimits plan_limits(Plan plan);
/// "watt", "Kilowatt", ... (any case); nullopt otherwise.
std::optional<Plan> parse_plan(std::string_view name);

struct SimSystem {
  std::int64_t id = 0;
  std::string name;
  std::string owner;         ///< the user who may read it (others get 403); "": the default user
  std::string envoy_serial;  ///< the IQ Gateway's serial (retrieve_system_id)
  std::string reference;     ///< the installer's own id; "" : the key is omitted
  std::string city, state, country, postal_code;
  std::string connection_type = "ethernet";
  std::string attachment_type = "rack_mount";
  std::string status = "normal";
  int micros = 12;             ///< IQ8 microinverters
  int encharges = 1;           ///< IQ Batteries (0: no battery)
  bool ev_charger = false;     ///< an IQ EV Charger
  int operational_days = 900;  ///< how long it has been operational
  sim::SiteConfig site;        ///< its timezone is the system's
};

/// `n` systems of one owner, with seeded weather and loads, a battery on every other one and an
/// EV charger on the first.
std::vector<SimSystem> make_fleet(int n, std::uint64_t seed = 1);

struct SimOptions {
  std::vector<SimSystem> systems;  ///< empty: make_fleet(2)
  std::string api_key = "enph-3f1c9a0d7b2e4c6a8f0e1d2c3b4a5968";
  std::string client_id = "sunbridge-enphase-client";
  std::string client_secret = "enphase-client-secret-0123456789";
  Plan plan = Plan::Watt;
  bool partner_app = false;  ///< the password grant is for partner apps only
  std::string username = "owner@example.org";
  std::string password = "owner-password";
  std::chrono::seconds access_token_life{86'400};       ///< one day
  std::chrono::seconds refresh_token_life{7 * 86'400};  ///< a week, as observed (§6)
  std::chrono::seconds code_life{600};
};

class Simulator {
 public:
  Simulator(boost::asio::any_io_executor executor, const Clock& clock, SimOptions options = {},
            sim::FaultSpec faults = {});
  ~Simulator();

  Result<void> listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  std::string url() const;
  void stop();
  void set_faults(sim::FaultSpec faults) { faults_.set(faults); }

  /// An authorization code for the default user, as the authorize page sends it to
  /// `redirect_uri` (single use, `code_life`).
  std::string issue_code(const std::string& redirect_uri);
  /// An access token of the default user, issued at start (what `simulate enphase` prints).
  std::string default_access_token() const { return default_token_; }
  /// Every access and refresh token stops working (a user revoking the app).
  void revoke_all_tokens();
  void set_plan(Plan plan);
  /// Raises an event on a system's device (`serial`; "" : its gateway) of a catalogued type
  /// (28 gateway not reporting, 502 microinverter not reporting, 1003 battery low SoC, 1101
  /// grid outage); `end` nullopt while it is still open. Events of stateful types that last
  /// over an hour raise an alarm.
  void raise_event(std::int64_t system, int type, std::string serial, TimePoint start,
                   std::optional<TimePoint> end);
  /// API calls counted in the current minute and month.
  std::pair<int, int> usage();
  std::uint64_t requests() const { return requests_.load(); }
  const SimOptions& options() const { return options_; }

 private:
  /// Energy of a stretch of time (a slot, a day), Wh; pv + import + discharge = load + export +
  /// charge.
  struct DayEnergy {
    double pv = 0, load = 0, charge = 0, discharge = 0, import = 0, export_ = 0;
    double stored_start = 0;  ///< the battery at its start, Wh
    double stored_end = 0;    ///< the battery at its end, Wh
  };
  struct System {
    SimSystem cfg;
    std::unique_ptr<sim::Site> site;  // the weather and the house: pv_at, load_at
    std::int64_t operational_at = 0;  // epoch s
    // The system's history, day by day from its operational day, in 5-minute slots of
    // self-consumption: what every lifetime, telemetry and summary figure is read from.
    std::vector<DayEnergy> days;  // complete local days, the first one first
  };
  /// Fills sys.days up to yesterday (local) and returns today's energy so far.
  DayEnergy history_locked(System& sys, TimePoint now);
  /// The 5-minute slots from `from` (a slot boundary) that end by `until`, the battery starting
  /// at `stored`; their sum, and each slot when `slots` is given (its time is its end).
  DayEnergy slots(const System& sys, TimePoint from, TimePoint until, double stored,
                  std::vector<std::pair<TimePoint, DayEnergy>>* each = nullptr) const;
  /// The slots of [from, until) (from on a slot boundary), from the history of their days.
  std::vector<std::pair<TimePoint, DayEnergy>> slots_between(System& sys, TimePoint from,
                                                             TimePoint until);
  struct Grant {
    std::string user;
    TimePoint expires;
  };
  struct Code {
    std::string redirect_uri;
    TimePoint expires;
  };
  std::shared_ptr<net::Router> routes();
  void add_oauth_routes(net::Router& r);
  void add_system_routes(net::Router& r);
  std::string new_jwt(const std::string& user, TimePoint expires);
  System* system_locked(std::int64_t id);

  const Clock& clock_;
  SimOptions options_;
  sim::FaultInjector faults_;
  std::unique_ptr<sim::HttpEndpoint> http_;
  std::atomic<std::uint64_t> requests_{0};
  std::mutex mutex_;
  std::vector<System> systems_;
  struct SysEvent {
    std::int64_t system;
    int type;
    std::string serial;
    std::int64_t start;               // epoch s
    std::optional<std::int64_t> end;  // epoch s
  };
  std::vector<SysEvent> events_;
  std::map<std::string, Grant> access_;   // access token -> grant
  std::map<std::string, Grant> refresh_;  // refresh token -> grant (spent ones removed)
  std::map<std::string, Code> codes_;
  std::string default_token_;
  std::int64_t minute_start_ = 0, month_start_ = 0;  // epoch s of the current windows
  int minute_calls_ = 0, month_calls_ = 0;
  std::uint64_t serial_ = 0;
};

}  // namespace sb::enphase
