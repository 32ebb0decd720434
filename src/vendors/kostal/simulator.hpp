// A KOSTAL PLENTICORE plus / PIKO IQ simulator: the local REST API (base /api/v1) over a
// simulated site, with the real login (SCRAM-SHA-256 variant + AES-256-GCM session), roles,
// lock-out, expiring sessions, process data, settings that change the site, events, log data
// and faults. What the seed does not say is decided in docs/vendors/kostal.md.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/calendar.hpp"
#include "core/clock.hpp"
#include "net/http_server.hpp"
#include "sim/faults.hpp"
#include "sim/http_simulator.hpp"
#include "sim/site.hpp"
#include "vendors/kostal/scram.hpp"

namespace date {
class time_zone;
}

namespace sb::kostal {

struct SimOptions {
  std::string owner_password = "owner-password";  ///< plant owner ("user")
  std::string master_key = "MASTERKEY01234";      ///< installer ("master"), with the service code
  std::string service_code = "12345";
  int rounds = 29000;                          ///< PBKDF2 rounds, as real devices use
  std::chrono::seconds session_idle{15 * 60};  ///< a session unused this long expires
  int lock_after = 5;                          ///< wrong passwords in a row before the lock
  std::chrono::seconds lock_for{5 * 60};
  std::string serial = "90512ABC0019";
  std::string product = "PLENTICORE plus";
  std::string power_class = "10";  ///< Branding:ProductName2
  std::string sw_version = "01.26.09454";
  std::string hostname = "scb";
  bool empty_units = false;  ///< 2019 firmware: every process-data unit is ""
  /// Older firmware: scb:network ids without the "Network:" prefix (Hostname, IPv4Address…).
  bool legacy_network_ids = false;
};

enum class Role { None, User, Installer };

/// One row of the inverter's 5-minute log (logdata/download).
struct LogRow {
  TimePoint time;
  std::vector<sim::StringState> strings;
  double ac_u[3]{}, ac_i[3]{}, ac_p[3]{};
  double frequency = 0;
  double soc = 0, bat_u = 0, bat_i = 0, bat_p = 0;
  double home_pv = 0, home_bat = 0, home_grid = 0, grid_p = 0;
  double total_e_kwh = 0;
};

class Simulator : public sim::HttpSimulator {
 public:
  Simulator(boost::asio::any_io_executor executor, const Clock& clock, sim::SiteConfig site,
            SimOptions options = {}, sim::FaultSpec faults = {});
  ~Simulator();

  /// Every request answers 503 "Internal communication error" until the clock reaches now+d
  /// (the SCB while the inverter sleeps or boots).
  void unavailable_for(Millis d);
  /// Forgets every session and transaction (power loss); with `boot` > 0, answers 503 for that
  /// long first.
  void restart(Millis boot = Millis(0));
  /// Ends every session as an idle timeout would.
  void expire_sessions();
  /// Makes the next PUT /settings of `id` answer 200 without applying it (firmware that
  /// ignores a write it has accepted).
  void ignore_next_write(const std::string& id);

  /// A setting's current value as GET would return it ("" when unknown).
  std::string setting(const std::string& module, const std::string& id);
  std::size_t sessions();
  const SimOptions& options() const { return options_; }
  template <class F>
  auto with_site(F f) {
    std::lock_guard lock(mutex_);
    advance_locked();
    return f(site_);
  }

  struct SettingDef {
    std::string type;  ///< "uint8", "uint32", "float", "bool", "string"
    std::optional<std::string> unit;
    std::optional<double> min, max;
    std::optional<std::string> default_value;
    bool installer_only = false;  ///< owners see it read-only
    bool readonly = false;        ///< nobody writes it
    std::string value;
  };

 private:
  struct Txn {
    std::string user;
    std::string client_nonce, nonce, salt_b64;
    int rounds = 0;
    TimePoint created;
    bool finished = false;
    std::string client_key, token;
  };
  struct Session {
    Role role = Role::None;
    TimePoint last_used;
  };
  struct Account {
    Credential credential;
    int failures = 0;
    std::optional<TimePoint> locked_until;
  };
  struct Pd {
    std::string id, unit;
    double value;
  };
  struct Event {
    TimePoint start;
    std::optional<TimePoint> end;
    int code;
    std::string category, group, description, long_description;
  };
  using Json = net::ServerResponse;

  std::shared_ptr<net::Router> routes() override;
  void advance_locked();
  void roll_periods_locked();
  void record_log_locked();
  std::map<std::string, std::vector<Pd>> process_data_locked();
  Role role_of(const net::ServerRequest& req);
  void apply_setting_locked(const std::string& module, const std::string& id);
  std::string local_iso(TimePoint t) const;

  Json auth_start(net::ServerRequest& req);
  Json auth_finish(net::ServerRequest& req);
  Json auth_create_session(net::ServerRequest& req);
  Json auth_me(net::ServerRequest& req);
  Json auth_logout(net::ServerRequest& req);
  Json auth_set_password(net::ServerRequest& req);
  Json processdata_get(net::ServerRequest& req);
  Json processdata_post(net::ServerRequest& req);
  Json settings_meta(net::ServerRequest& req);
  Json settings_get(net::ServerRequest& req);
  Json settings_post(net::ServerRequest& req);
  Json settings_put(net::ServerRequest& req);
  Json events_latest(net::ServerRequest& req);
  Json logdata(net::ServerRequest& req);

  const Clock& clock_;
  SimOptions options_;
  std::mutex mutex_;
  const date::time_zone* zone_;
  Calendar calendar_;  // midnights and local dates of the site's zone
  sim::Site site_;
  sim::Counters day_start_, month_start_, year_start_;
  TimePoint next_midnight_, next_log_;
  std::deque<LogRow> log_;
  std::map<std::string, std::map<std::string, SettingDef>> settings_;
  std::map<std::string, Txn> txns_;
  std::map<std::string, Session> sessions_;
  Account owner_, master_;
  std::vector<Event> events_;
  std::optional<TimePoint> unavailable_until_;
  std::set<std::string> ignore_writes_;
};

/// "Europe/Berlin" -> "Europe\/Berlin": the device escapes every '/' in its JSON.
std::string escape_slashes(std::string json);

}  // namespace sb::kostal
