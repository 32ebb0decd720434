// What a fleet worker's outputs (REST, MQTT, Prometheus) see: its own gateway, and for a device
// whose connection another worker holds, the fleet's command queue in PostgreSQL. A command
// for such a device is queued, the holder runs, reads back and audits it (engine/fleet_worker),
// and the caller gets the audit row or the refusal as if it had run here.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "core/gateway_api.hpp"
#include "store/fleet.hpp"
#include "store/store.hpp"

namespace sb::engine {

class FleetGateway final : public GatewayApi {
 public:
  /// `lease` is the fleet's lease: a command nobody takes within it has no live holder.
  FleetGateway(GatewayApi& local, store::Fleet& fleet, store::Store& store,
               boost::asio::thread_pool& blocking, Millis lease);

  std::vector<Site> sites() const override { return local_.sites(); }
  std::vector<DeviceInfo> devices() const override { return local_.devices(); }
  std::optional<DeviceInfo> device(const std::string& id) const override {
    return local_.device(id);
  }
  std::optional<Capabilities> capabilities(const std::string& device) const override {
    return local_.capabilities(device);
  }
  std::vector<DeviceLive> live() const override { return local_.live(); }
  std::vector<ConnectionHealth> health() const override { return local_.health(); }
  std::vector<SiteQuality> quality() const override { return local_.quality(); }
  boost::asio::awaitable<Result<DeviceSettings>> settings(std::string device,
                                                          bool refresh) override {
    return local_.settings(std::move(device), refresh);
  }
  std::vector<std::pair<std::uint64_t, Event>> events_after(std::uint64_t after) const override {
    return local_.events_after(after);
  }
  /// Here when this worker polls the device; otherwise through the queue, waiting for the
  /// holder's outcome (up to a lease for a holder to take it, then as long as it runs).
  boost::asio::awaitable<Result<CommandRecord>> execute(Command command) override;

 private:
  GatewayApi& local_;
  store::Fleet& fleet_;
  store::Store& store_;
  boost::asio::thread_pool& blocking_;
  Millis lease_;
};

/// The connection a device belongs to: its id up to the first ':' ("" for none).
std::string connection_of_device(const std::string& device);

}  // namespace sb::engine
