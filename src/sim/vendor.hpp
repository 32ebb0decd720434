// One vendor as the commands see it (`sunbridge simulate`, `demo`, `auth`): its simulator with
// the flags it takes, its home in the demo, and its OAuth app if its cloud has one. Each vendor
// fills one in its `vendors/<v>/vendor.cpp`; `cli/vendors.cpp` lists them, so the commands loop
// over the list instead of naming vendors. The driver itself is registered beside the engine
// (engine/drivers.cpp), which must not see simulators.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/driver.hpp"
#include "core/model.hpp"
#include "core/result.hpp"
#include "net/oauth_app.hpp"
#include "sim/faults.hpp"
#include "sim/http_simulator.hpp"
#include "sim/site.hpp"

namespace sb::sim {

/// A flag of `sunbridge simulate` that only some simulators take. Several vendors may declare
/// one name (--client-id); each reads it its own way.
struct SimFlag {
  std::string name;      ///< "--plan"
  std::string help;      ///< "watt, kilowatt, megawatt or partner"
  std::string fallback;  ///< the value when it is not given, shown in --help
  bool is_switch = false;
};

/// What `sunbridge simulate VENDOR` hands the vendor's simulator.
struct SimulateRequest {
  boost::asio::any_io_executor executor;
  const Clock* clock = nullptr;       ///< simulated time (--speed)
  const Clock* wall_clock = nullptr;  ///< real time, for tokens and signatures
  std::string host;
  std::uint16_t port = 0;  ///< 0: any free one
  int devices = 1;
  /// Where device i of a local vendor listens: on port + i of `host` (the default), or on the
  /// i-th IPv4 address from `host`, all at one port (127.0.0.1, 127.0.0.2, …). The second lets
  /// one process host tens of thousands of devices without taking a port each from the range
  /// the system hands out for outgoing connections.
  bool across_addresses = false;
  std::uint64_t seed = 1;
  SiteConfig site;  ///< from --latitude … --cloudiness, for the vendors that use them
  FaultSpec faults;
  std::map<std::string, std::string>
      given;  ///< the vendor's flags that were given ("true": switch)

  /// The flag's value: as given, else the vendor's fallback.
  std::string flag(const std::string& name, const std::vector<SimFlag>& flags) const;
  bool has(const std::string& name) const { return given.contains(name); }
  /// Device i's address and port. `first_port` is the port device 0 listens on: when `port` is
  /// 0 and the devices go across addresses, the one free port device 0 got serves every device.
  std::pair<std::string, std::uint16_t> endpoint_of(int i, std::uint16_t first_port) const;
};

/// Reads a flag's number: "--session-idle must be a whole number from 1 to 86400".
Result<long long> whole_flag(const std::string& name, const std::string& value, long long lo,
                             long long hi);
Result<double> number_flag(const std::string& name, const std::string& value, double lo, double hi);

/// n random hex digits, for the demo's tokens and secrets.
std::string random_hex(int n);

/// Simulators started: served until the process stops; `banner` says how to talk to them
/// (paths, credentials, limits), a line each.
struct Started {
  std::vector<std::unique_ptr<HttpSimulator>> simulators;
  std::string banner;

  /// One simulator (the cloud vendors serve every account from one).
  static Started one(std::unique_ptr<HttpSimulator> simulator, std::string banner) {
    Started s;
    s.simulators.push_back(std::move(simulator));
    s.banner = std::move(banner);
    return s;
  }
};

/// What `sunbridge demo` hands each vendor's home.
struct DemoRequest {
  boost::asio::any_io_executor executor;
  const Clock* clock = nullptr;       ///< simulated time (--speed)
  const Clock* wall_clock = nullptr;  ///< real time
  std::uint64_t seed = 1;
  FaultSpec faults;
  std::string database;  ///< files the home writes (tokens) sit beside it
};

/// One home of the demo: its simulator (listening on loopback), the site, the connection's
/// options, and a banner line.
struct DemoHome {
  std::unique_ptr<HttpSimulator> simulator;
  sb::Site site;  ///< as the config names it
  Millis poll_interval{10'000};
  std::map<std::string, std::string> options;
  std::string banner;              ///< "KOSTAL sim  http://…/api/v1/info/version (password …)"
  std::vector<std::string> files;  ///< written for the demo; removed when it ends
};

struct Vendor {
  std::string name;   ///< the config's `vendor:` value
  std::string title;  ///< "KOSTAL PLENTICORE plus"
  /// --latitude, --longitude, --timezone, --capacity-wh, --max-power-w, --cloudiness shape
  /// its simulated site.
  bool uses_site = false;
  std::vector<SimFlag> flags;
  std::function<Result<Started>(const SimulateRequest&)> simulate;
  std::function<Result<DemoHome>(const DemoRequest&)> demo;
  std::optional<net::OAuthApp> oauth;
  /// Each simulated device listens on an endpoint of its own (a local API), so `--devices`
  /// may reach 100,000 and `--across addresses` applies; a cloud serves all from one.
  bool endpoint_per_device = false;
};

}  // namespace sb::sim
