// What a fleet worker's outputs (REST, MQTT, Prometheus) see: its own gateway, and for a device
// whose connection another worker holds, the fleet's command queue in PostgreSQL. A command
// for such a device is queued, the holder runs, reads back and audits it (engine/fleet_worker),
// and the caller gets the audit row or the refusal as if it had run here.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "core/gateway_api.hpp"
#include "engine/fleet_status.hpp"
#include "store/fleet.hpp"
#include "store/store.hpp"

namespace sb::engine {

class FleetGateway final : public GatewayApi {
 public:
  /// `view` is what the other workers last wrote of their connections; `lease` is the fleet's
  /// lease: a command nobody takes within it has no live holder.
  FleetGateway(GatewayApi& local, FleetView& view, store::Fleet& fleet, store::Store& store,
               boost::asio::thread_pool& blocking, Millis lease, std::string worker);

  // The whole fleet: what this worker polls, and what the others wrote of theirs (a few
  // seconds old at most); a connection nobody holds shows with state "unheld".
  std::vector<Site> sites() const override { return local_.sites(); }
  std::vector<DeviceInfo> devices() const override;
  std::optional<DeviceInfo> device(const std::string& id) const override;
  std::optional<Capabilities> capabilities(const std::string& device) const override;
  std::vector<DeviceLive> live() const override;
  std::vector<ConnectionHealth> health() const override;
  std::vector<SiteQuality> quality() const override { return local_.quality(); }
  /// Here for a device this worker polls; for another's, through the queue: the holder reads
  /// them (from the device when `refresh`) and the answer comes back as if read here.
  boost::asio::awaitable<Result<DeviceSettings>> settings(std::string device,
                                                          bool refresh) override;
  std::vector<std::pair<std::uint64_t, Event>> events_after(std::uint64_t after) const override {
    return local_.events_after(after);
  }
  /// Here when this worker polls the device; otherwise through the queue, waiting for the
  /// holder's outcome (up to a lease for a holder to take it, then as long as it runs).
  boost::asio::awaitable<Result<CommandRecord>> execute(Command command) override;
  /// What this worker polls itself: its /metrics are its own.
  const GatewayApi& own() const override { return local_; }
  std::optional<FleetWorkerStats> fleet() const override { return view_.stats(); }

 private:
  /// The fleet connection whose holder answers for `device`: "" when this worker polls it or
  /// it is none of the fleet's (the local gateway answers).
  boost::asio::awaitable<Result<std::string>> fleet_connection(const std::string& device);
  /// Waits for queued request `id` to end: the row when done, else the holder's error, or a
  /// timeout when nobody took it within a lease (it is withdrawn) or it ran past the longest a
  /// command may (`if_slow` says where its outcome will show).
  boost::asio::awaitable<Result<store::FleetCommand>> outcome(std::int64_t id,
                                                              std::string connection,
                                                              std::string what,
                                                              std::string if_slow);

  GatewayApi& local_;
  FleetView& view_;
  store::Fleet& fleet_;
  store::Store& store_;
  boost::asio::thread_pool& blocking_;
  Millis lease_;
  std::string worker_;  ///< this worker's id
};

/// The connection a device belongs to: its id up to the first ':' ("" for none).
std::string connection_of_device(const std::string& device);

}  // namespace sb::engine
