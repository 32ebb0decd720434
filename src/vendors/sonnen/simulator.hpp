// A sonnenBatterie API v1 simulator over a simulated site: what seed 003 documents, with the
// return codes carried as decided in docs/vendors/sonnen.md, setpoints that drive the
// simulated battery, and injectable faults.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <mutex>

#include "core/clock.hpp"
#include "net/http_server.hpp"
#include "sim/faults.hpp"
#include "sim/site.hpp"
#include "vendors/sonnen/wire.hpp"

namespace sb::sim {
class HttpEndpoint;
}

namespace sb::sonnen {

class Simulator {
 public:
  /// `clock` drives the site (RealClock, ScaledClock for --speed, ManualClock in tests) and
  /// must outlive the simulator.
  Simulator(boost::asio::any_io_executor executor, const Clock& clock, sim::SiteConfig site,
            sim::FaultSpec faults = {});
  ~Simulator();

  Result<void> listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  std::string url() const;  ///< "http://127.0.0.1:8080"
  void stop();

  void set_faults(sim::FaultSpec faults) { faults_.set(faults); }
  /// The status as the device would serve it now.
  StatusV1 status();
  /// Runs f on the site brought up to the clock's now, under the simulator's lock.
  template <class F>
  auto with_site(F f) {
    std::lock_guard lock(mutex_);
    site_.advance_to(clock_.now());
    return f(site_);
  }
  std::uint64_t requests() const { return requests_.load(); }

 private:
  StatusV1 status_locked();
  std::shared_ptr<net::Router> routes();

  const Clock& clock_;
  std::mutex mutex_;
  sim::Site site_;
  sim::FaultInjector faults_;
  std::unique_ptr<sim::HttpEndpoint> http_;  // server and handlers in flight; stop() closes
  std::atomic<std::uint64_t> requests_{0};
};

}  // namespace sb::sonnen
