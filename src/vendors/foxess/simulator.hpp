// A FoxESS Cloud account as the Open API serves it (foxess.md, protocols.md §2): plants, their
// inverters (each a simulated site), the {errno, msg, result} envelope on HTTP 200, request
// signatures, the documented rate limits and quota, and the interfaces of seed 001.
#pragma once

#include <boost/json/fwd.hpp>
#include <set>

#include <boost/asio/any_io_executor.hpp>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/calendar.hpp"
#include "core/clock.hpp"
#include "net/http_server.hpp"
#include "sim/faults.hpp"
#include "sim/http_simulator.hpp"
#include "sim/site.hpp"

namespace sb::foxess {

namespace detail {
struct Reply;
}

struct SimInverter {
  std::string sn;                         ///< "60BH10202SIM0001"
  std::string device_type = "H3-10.0-E";  ///< model
  std::string product_type = "H3";        ///< series
  bool has_battery = true;
  sim::SiteConfig site;
};

struct SimPlant {
  std::string station_id;
  std::string name;
  std::string country = "DE";
  std::string city = "Berlin";
  std::string address = "Solarweg 1";
  std::string postcode = "10115";
  std::string timezone;  ///< IANA; empty: the first inverter's site zone
  std::string meter_sn;  ///< a grid meter (gw/list); empty: none
  std::vector<SimInverter> inverters;
};

struct SimOptions {
  std::string api_key = "fox-0123456789abcdef0123456789abcdef";
  std::vector<SimPlant> plants;  ///< empty: make_account(1, 1)
  int daily_calls_per_inverter = 1440;
  Millis query_gap{1000};    ///< per interface, queries
  Millis write_gap{2000};    ///< per interface, writes
  Millis max_skew{300'000};  ///< a timestamp further from the cloud's clock is stale
  /// The cloud's wall clock, which request timestamps are checked against: at --speed 60 the
  /// simulated site runs an hour a minute while clients sign with the real time. Null: the
  /// simulator's own clock (tests on a manual clock sign with it).
  const Clock* wall_clock = nullptr;
  std::string user_name = "Demo Owner";
  std::string user_email = "owner@example.org";
  // OAuth 2.0 (foxess.md §2.3): the app registered in the personal center.
  std::string oauth_client_id = "fox-app";
  std::string oauth_client_secret = "fox-app-secret";
  Millis access_token_life{86'400'000};  ///< one day, as documented
};

/// `plants` plants of `per_plant` inverters; sites spread over Germany and seeded from `seed`,
/// every third inverter without a battery when `mixed`.
std::vector<SimPlant> make_account(int plants, int per_plant, std::uint64_t seed = 1,
                                   bool mixed = false, const sim::SiteConfig& base = {});

/// How much of the account's daily quota is used (calls counted since 00:00 UTC).
struct Quota {
  int total = 0;
  int used = 0;
};

class Simulator : public sim::HttpSimulator {
 public:
  Simulator(boost::asio::any_io_executor executor, const Clock& clock, SimOptions options = {},
            sim::FaultSpec faults = {});
  ~Simulator();

  /// The next `count` requests fail with `code`: an errno (>= 1000, in a 200 envelope, e.g.
  /// 41200) or an HTTP status (429, 502, 503).
  void fail_next(int count, int code);
  /// Every request fails with `code` (as fail_next) until outage(0): the cloud is down.
  void outage(int code);
  Quota quota();
  const SimOptions& options() const { return options_; }
  /// Runs f on an inverter's site brought up to now (nullptr for an unknown SN).
  template <class F>
  auto with_site(const std::string& sn, F f) {
    std::lock_guard lock(mutex_);
    return f(site_locked(sn));
  }
  /// A device setting as setting/get returns its value ("" for an unknown SN or key).
  std::string setting(const std::string& sn, const std::string& key);
  /// The scheduler's main switch and groups of an inverter (false / empty for an unknown SN).
  bool scheduler_enabled(const std::string& sn);
  /// While `stopped`, the inverter uploads nothing: the cloud keeps answering its last
  /// real-time values with their old time (an inverter that lost its Wi-Fi).
  void stop_uploading(const std::string& sn, bool stopped);
  /// Invalidates every access token (a revocation in the personal center).
  void revoke_all_tokens();
  /// An OAuth authorization code for the default user, as the authorize page would send to
  /// `redirect_uri` (single use, 10 minutes).
  std::string issue_code(const std::string& redirect_uri);

  struct Row;  // one 5-minute history row
  struct Inverter;

 private:
  Inverter* find_locked(const std::string& sn);
  sim::Site* site_locked(const std::string& sn);  // brought up to now
  Quota quota_locked(TimePoint now);
  void advance_locked(Inverter& inv, TimePoint now);
  /// Applies the inverter's work mode, force-charge windows, scheduler, export limit, meter
  /// and peak shaving to its site.
  void apply_controls_locked(Inverter& inv);
  std::shared_ptr<net::Router> routes() override;
  // The Open API by section (simulator_*.cpp), each adding its interfaces through Routes.
  struct Routes;
  /// The inverter a request names (query `sn`, or body `sn` / `deviceSN`), brought up to now;
  /// nullptr with `err` set when there is none. mutex_ held.
  Inverter* device_locked(const std::string& sn, detail::Reply& err);
  /// Its real-time values (those `wanted`, or all), built in the reply's arena. mutex_ held.
  boost::json::object real_time_locked(Inverter& inv, const std::set<std::string>& wanted,
                                       const boost::json::storage_ptr& sp);
  void plant_routes(Routes& api);
  void device_routes(Routes& api);
  void setting_routes(Routes& api);
  void history_routes(Routes& api);
  void add_oauth_routes(net::Router& r);

  const Clock& clock_;
  SimOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::string> frozen_;  // SN -> its last upload (JSON), while stopped
  std::vector<std::unique_ptr<Inverter>> inverters_;
  // quota and per-interface pacing, guarded by mutex_
  std::int64_t quota_day_ = -1;
  int quota_used_ = 0;
  std::map<std::string, TimePoint> last_call_;
  std::deque<int> forced_;  // fail_next codes
  int outage_ = 0;          // every request fails with it while set
  struct Meter {
    std::string station_id;
    std::map<std::string, std::string> values;  // the eight settings, as strings
  };
  std::map<std::string, Meter> meters_;  // by meter SN
  int plants_made_ = 0;
  // OAuth, guarded by mutex_
  struct Grant {
    std::string redirect_uri;
    TimePoint expires;
  };
  std::map<std::string, Grant> codes_;
  std::map<std::string, TimePoint> access_tokens_;  // -> expiry
  std::map<std::string, bool> refresh_tokens_;      // -> still valid
  std::uint64_t token_serial_ = 0;
  std::string new_token(const char* prefix);
};

}  // namespace sb::foxess
