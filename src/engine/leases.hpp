// The lease keeper: commands that hold for a while. Each lease is in the store (so a crash
// cannot lose it) and here; between polls the connection's loop asks it to end the leases
// whose time is up and to write again those the device forgets unless renewed; at start it
// hands back what a killed gateway left active.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/model.hpp"
#include "engine/executor.hpp"

namespace sb::engine {

class LeaseKeeper {
 public:
  explicit LeaseKeeper(ControlDeps deps) : deps_(deps) {}
  /// The executor that hands leases back (set once, before the first lease).
  void use(CommandExecutor& executor) { executor_ = &executor; }

  /// The lease that holds `device` now.
  std::optional<Lease> held(const std::string& device) const;
  /// Holds `l` from now on (stored already), written last at its start.
  void hold(const Lease& l);
  /// Marks `l` ended (released or failed) in memory and in the store, with an event.
  boost::asio::awaitable<bool> end(Lease l, std::string state, std::string detail);

  /// How often each device forgets a setpoint unless it is written again (0: it holds).
  using Keepalive = std::function<Millis(const DeviceInfo&)>;
  /// Between polls of `devices`: hands back the leases whose time is up and writes again
  /// those due to be renewed (through the device's driver). `keepalive` is taken by value: the
  /// coroutine starts when it is awaited, after a temporary passed by reference is gone.
  boost::asio::awaitable<void> tend(const std::vector<DeviceInfo>& devices, Driver& driver,
                                    Keepalive keepalive);
  /// How long until the next lease of `devices` ends or is to be written again.
  std::optional<Millis> next_action(const std::vector<DeviceInfo>& devices,
                                    const Keepalive& keepalive) const;
  /// At start: the leases of `devices` still active in the store were not handed back
  /// (sunbridge stopped without doing it); the devices get their own mode back now. With
  /// `passed_on` (a fleet's connection that another worker held before) those still running
  /// are taken over instead: held, written again when due, handed back here when they end.
  boost::asio::awaitable<void> recover(const std::vector<DeviceInfo>& devices,
                                       bool passed_on = false);
  /// Lets go of the leases of `devices` without ending them: their connection moves to another
  /// fleet worker, which takes them over (recover with passed_on).
  void forget(const std::vector<DeviceInfo>& devices);
  /// The active leases of `devices`.
  std::vector<Lease> of(const std::vector<DeviceInfo>& devices) const;

  /// "battery-power 900 by api:127.0.0.1 until 2026-… (lease 1)".
  static std::string text(const Lease& l);

 private:
  ControlDeps deps_;
  CommandExecutor* executor_ = nullptr;
  mutable std::mutex mutex_;
  std::map<std::string, Lease> leases_;          // active, by device
  std::map<std::string, TimePoint> kept_alive_;  // by device: when its lease was last written
};

}  // namespace sb::engine
