// An Enphase Monitoring API v4 cloud (shared/specs/enphase-openapi.yaml, catalogued in
// shared/specs/enphase.md; OAuth, keys and plans from protocols.md §4): systems of simulated
// sites, the OAuth 2.0 authorization server, the API key in header `key` or query `?key=`,
// per-minute and per-month plan limits with the seed's 429 bodies, and injectable faults.
// Decisions where the documents stop: docs/vendors/enphase.md.
//
// All 43 operations: System Details, events and alarms, meters, the lifetime series, site and
// device telemetry, configuration read and write (simulator_control.cpp), live_data as a
// server-sent-event stream (simulator_devices.cpp) and the EV charger. Every figure comes from
// one history of 5-minute slots per system that obeys its settings and charger timelines.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/fwd.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "net/http_server.hpp"
#include "net/token_file.hpp"
#include "sim/faults.hpp"
#include "sim/http_simulator.hpp"
#include "sim/site.hpp"
#include "vendors/enphase/plans.hpp"

namespace date {
class time_zone;
}

namespace sb::enphase {

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
  int micros = 12;    ///< IQ8 microinverters
  int encharges = 1;  ///< IQ Batteries (0: none)
  int acbs = 0;       ///< older AC Batteries; the site's battery is all of them together
  bool consumption_meter = true;             ///< without it live_data is refused (472) on a battery
  std::string envoy_firmware = "D8.2.4264";  ///< below 6.0.0 live_data is refused (466)
  bool ev_charger = false;                   ///< an IQ EV Charger
  int operational_days = 900;                ///< how long it has been operational
  sim::SiteConfig site;                      ///< its timezone is the system's
  int batteries() const { return encharges + acbs; }
};

/// `n` systems of one owner, with seeded weather and loads, a battery on every other one and an
/// EV charger on the first; the fourth has an AC Battery, the fifth an old gateway, the sixth a
/// battery without a consumption meter, the seventh a gateway that stopped reporting (status
/// "comm").
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
  std::chrono::seconds access_token_life{86'400};  ///< one day
  /// The cloud's wall clock, which token lifetimes run on: an accelerated simulation (demo
  /// --speed 60) runs the site faster while a token still lasts a day of real time. Null: the
  /// simulator's own clock.
  const Clock* wall_clock = nullptr;
  std::chrono::seconds refresh_token_life{7 * 86'400};  ///< a week, as observed (§6)
  std::chrono::seconds code_life{600};
  /// The live_data stream sends a message per simulated second of its duration, this far apart
  /// in real time (tests shorten it).
  std::chrono::milliseconds live_interval{1000};
};

/// A system's battery configuration (getSystemBatterySettings, storm guard) from a time on.
struct BatterySettings {
  std::string mode = "Self-consumption";  ///< "Savings Mode", "Full Backup", "Self-consumption"
  int reserve_soc = 20;
  bool energy_independence = true;
  bool charge_from_grid = false;
  bool storm_guard = false;
  bool storm_alert = false;  ///< a severe-weather alert: with storm_guard, Full Backup
};

/// A dry contact of the IQ System Controller (load control).
struct DryContact {
  std::string name, load_name, mode = "Basic";
  bool owner_can_override = true;
  int soc_low = 30, soc_high = 50;
  bool enabled = true;
  int essential_start = 32'400, essential_end = 57'600;  ///< seconds from midnight
};

class Simulator : public sim::HttpSimulator {
 public:
  Simulator(boost::asio::any_io_executor executor, const Clock& clock, SimOptions options = {},
            sim::FaultSpec faults = {});
  ~Simulator();

  /// An authorization code for the default user, as the authorize page sends it to
  /// `redirect_uri` (single use, `code_life`).
  std::string issue_code(const std::string& redirect_uri);
  /// An access token of the default user, issued at start (what `simulate enphase` prints).
  std::string default_access_token() const { return default_token_; }
  /// A fresh access and refresh token of the default user, as a sign-in would give them.
  net::OAuthTokens issue_tokens();
  /// Every access and refresh token stops working (a user revoking the app).
  void revoke_all_tokens();
  void set_plan(Plan plan);
  /// Raises an event on a system's device (`serial`; "" : its gateway) of a catalogued type
  /// (28 gateway not reporting, 502 microinverter not reporting, 1003 battery low SoC, 1101
  /// grid outage); `end` nullopt while it is still open. Events of stateful types that last
  /// over an hour raise an alarm.
  void raise_event(std::int64_t system, int type, std::string serial, TimePoint start,
                   std::optional<TimePoint> end);
  /// A severe-weather alert in the system's area starts or ends (storm guard acts on it).
  void set_storm_alert(std::int64_t system, bool alert);
  /// The settings in force now, the EV charger's power now (W).
  BatterySettings battery_settings(std::int64_t system);
  double ev_power_now(std::int64_t system);
  /// The next live_data stream is cut in the middle of its `after`-th message (a fault).
  void cut_next_stream(int after) { cut_stream_after_ = after; }
  /// A system's energy from its operational day to `t` (a 5-minute mark, not after now) as the
  /// vendor's history counts it, in the site's lifetime counters (Wh); zero for an unknown id.
  sim::Counters energy_to(std::int64_t system, TimePoint t);
  /// API calls counted in the current minute and month.
  std::pair<int, int> usage();
  /// Books `n` calls in the current month, as another program with the same key would.
  void spend_month(int n);
  const SimOptions& options() const { return options_; }

 private:
  /// Energy of a stretch of time (a slot, a day), Wh; pv + import + discharge = load + export +
  /// charge.
  struct DayEnergy {
    double pv = 0, load = 0, charge = 0, discharge = 0, import = 0, export_ = 0;
    double ev = 0;            ///< of the load, the EV charger's
    double stored_start = 0;  ///< the battery at its start, Wh
    double stored_end = 0;    ///< the battery at its end, Wh
    /// Adds another stretch's flows (not its battery levels).
    void add_flows(const DayEnergy& o) {
      pv += o.pv, load += o.load, charge += o.charge, discharge += o.discharge;
      import += o.import, export_ += o.export_, ev += o.ev;
    }
  };
  struct System {
    SimSystem cfg;
    std::unique_ptr<sim::Site> site;  // the weather and the house: pv_at, load_at
    std::int64_t operational_at = 0;  // epoch s
    // The system's history, day by day from its operational day, in 5-minute slots of
    // self-consumption: what every lifetime, telemetry and summary figure is read from.
    std::vector<DayEnergy> days;  // complete local days, the first one first
    const date::time_zone* zone = nullptr;
    // What the slots obey, each from a time on (epoch s; the first from the start).
    std::vector<std::pair<std::int64_t, BatterySettings>> settings;
    std::vector<DryContact> contacts;  // load control (no effect on-grid)
    struct EvCommand {
      std::int64_t at;
      bool charge;
      int level;  // percent of the charger's 32 A
    };
    std::vector<EvCommand> ev_commands;
    const BatterySettings& settings_at(std::int64_t t) const;
    /// The EV charger's power at t (W): a seeded evening session every other day, changed by
    /// start and stop commands (the later of the two decides).
    double ev_power(TimePoint t) const;
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
  struct EvSession {
    std::int64_t start, end;  // epoch s, on slot boundaries
    double wh;
  };
  /// The EV charger's sessions of the last 30 days, the newest first.
  std::vector<EvSession> ev_sessions(System& s);
  /// Everything from the operational day up to `t` (on a slot boundary).
  DayEnergy energy_until(System& s, TimePoint t);
  /// A live_data message of the system now: "data: {...}\n\n".
  std::string live_message(std::int64_t system);
  class LiveStream;
  struct Grant {
    std::string user;
    TimePoint expires;
  };
  struct Code {
    std::string redirect_uri;
    TimePoint expires;
  };
  std::shared_ptr<net::Router> routes() override;
  void add_oauth_routes(net::Router& r);
  void add_system_routes(net::Router& r);  // simulator_systems.cpp
  void add_series_routes(net::Router& r);  // simulator_series.cpp
  void add_device_routes(net::Router& r);  // simulator_devices.cpp
  void add_config_routes(net::Router& r);  // simulator_control.cpp
  void add_ev_routes(net::Router& r);      // simulator_control.cpp
  void add_live_route(net::Router& r);     // simulator_devices.cpp

  /// An operation's error bodies: E1 with a plain 429 (Plain) or with the quota fields (Quota,
  /// E2), the EV charger's octet-stream E4 (Ev), live_data's E7 (Live).
  /// rgm_stats is Quota with its own 500 (E8).
  enum class Style { Plain, Quota, Rgm, Ev, Live };
  net::ServerResponse error_body(Style style, int status, std::string details) const;
  using ApiHandler = std::function<net::ServerResponse(net::ServerRequest&, const std::string&)>;
  net::Handler api_route(Style style, ApiHandler h);
  net::ServerResponse in_system(Style style, net::ServerRequest& req, const std::string& user,
                                const std::function<net::ServerResponse(System&)>& f);
  std::int64_t last_report() const;
  /// A telemetry request's window: start_at or start_date, granularity, clamped.
  struct Window {
    TimePoint start, end;
    bool by_date = false;
    std::string granularity = "day";
  };
  std::variant<Window, net::ServerResponse> window(const net::ServerRequest& req,
                                                   const System& s) const;
  std::vector<std::pair<TimePoint, DayEnergy>> intervals(System& s, const Window& w, Millis length);
  boost::json::object envelope(const System& s, const Window& w, int devices) const;
  boost::json::object meta(const System& s) const;
  std::string new_jwt(const std::string& user, TimePoint expires);
  System* system_locked(std::int64_t id);

  const Clock& clock_;
  /// What sign-ins and tokens are timed by (SimOptions::wall_clock, else clock_).
  const Clock& auth_clock() const { return options_.wall_clock ? *options_.wall_clock : clock_; }
  SimOptions options_;
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
  std::atomic<int> cut_stream_after_{0};
};

}  // namespace sb::enphase
