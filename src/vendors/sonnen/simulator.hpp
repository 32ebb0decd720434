// A sonnenBatterie simulator over a simulated site: API v1 as seed 003 documents it (return
// codes carried as decided in docs/vendors/sonnen.md), and, when given a token, the JSON API v2
// of protocols.md §3 (Auth-Token, status / latestdata / configurations / battery / inverter /
// powermeter / io, PUT configurations with string values, POST setpoint in manual mode, 403
// while a virtual power plant has priority). Setpoints and configurations drive the simulated
// battery; faults can be injected.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "core/clock.hpp"
#include "net/http_server.hpp"
#include "sim/faults.hpp"
#include "sim/http_simulator.hpp"
#include "sim/site.hpp"
#include "vendors/sonnen/wire.hpp"

namespace sb::sonnen {

struct SimOptions {
  /// The API v2 token (dashboard "Software-Integration"); empty: a v1-only device (every
  /// /api/v2 path answers 404).
  std::string token;
  /// A virtual-power-plant operator has priority: v2 setpoints answer 403.
  bool vpp_priority = false;
  /// A setpoint not written again within this long falls back to 0 W (firmware that wants
  /// setpoints renewed); 0: it holds until the next one.
  Millis setpoint_timeout{0};
  /// Older firmware: a wrong token gets 200 and `{}` instead of 401.
  bool empty_on_bad_token = false;
  std::string software = "1.14.5";  ///< DE_Software
  std::string serial = "123456";    ///< IC_SerialNumber (v2 battery data)
};

class Simulator : public sim::HttpSimulator {
 public:
  /// `clock` drives the site (RealClock, ScaledClock for --speed, ManualClock in tests) and
  /// must outlive the simulator.
  Simulator(boost::asio::any_io_executor executor, const Clock& clock, sim::SiteConfig site,
            sim::FaultSpec faults = {}, SimOptions options = {});
  ~Simulator();

  /// The status as the device would serve it now.
  StatusV1 status();
  /// Runs f on the site brought up to the clock's now, under the simulator's lock.
  template <class F>
  auto with_site(F f) {
    std::lock_guard lock(mutex_);
    site_.advance_to(clock_.now());
    return f(site_);
  }
  /// A v2 configuration value as GET would return it ("" for an unknown key).
  std::string configuration(const std::string& key);
  /// Turns the virtual power plant's priority on or off.
  void set_vpp_priority(bool on);
  const SimOptions& options() const { return options_; }

 private:
  StatusV1 status_locked();
  std::shared_ptr<net::Router> routes() override;
  void routes_v2(net::Router& r);  // simulator_v2.cpp
  // Brings the site up to now and lets an old setpoint lapse (setpoint_timeout).
  void advance_locked();
  // What the configuration asks of the simulated battery (mode, reserve, time-of-use).
  void apply_configuration_locked();

  const Clock& clock_;
  std::mutex mutex_;
  sim::Site site_;
  SimOptions options_;
  std::map<std::string, std::string> config_;  // v2 configurations, string values
  TimePoint setpoint_at_{};                    // when the last setpoint was written
};

}  // namespace sb::sonnen
