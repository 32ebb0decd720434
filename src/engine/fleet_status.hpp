// What the holder of a fleet connection tells the other workers of it: the connection's health
// and its devices with their live values and capabilities, as a JSON document in the
// `fleet_status` table (store/fleet.hpp). Every worker reads them all back into a FleetView, so
// its REST API and dashboard show the whole fleet without asking the holders.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/gateway_api.hpp"
#include "store/fleet.hpp"

namespace sb::engine {

struct RemoteDevice {
  DeviceLive live;
  Capabilities capabilities;
};

struct ConnectionStatus {
  ConnectionHealth health;
  std::vector<RemoteDevice> devices;
};

/// The document written for a connection.
std::string encode_status(const ConnectionStatus& s);
/// Reads a document back; the error names `where` (the connection) and what is wrong.
Result<ConnectionStatus> decode_status(std::string_view json, const std::string& where);

/// A device's settings as the holder of its connection read them for another worker (a
/// settings read through the fleet's command queue), and back; the error names `where`.
std::string encode_settings(const DeviceSettings& s);
Result<DeviceSettings> decode_settings(std::string_view json, const std::string& where);

/// What a worker knows of the connections other workers hold, as last read from the database.
class FleetView {
 public:
  struct Entry {
    ConnectionStatus status;
    std::string worker, api;  ///< the holder and where its REST API answers
    TimePoint updated_at;
  };

  /// Replaces what is known: the statuses read, and the fleet's connections (those without a
  /// status have no live holder).
  void update(std::map<std::string, Entry> statuses,
              std::vector<store::FleetConnection> connections);
  /// The connection's status, if a holder wrote one.
  std::optional<Entry> of(const std::string& connection) const;
  using Entries = std::map<std::string, Entry>;
  /// Every status, by connection: a snapshot shared by its readers (the API reads it per
  /// request; the worker replaces it every 2 s), never copied.
  std::shared_ptr<const Entries> all() const;
  /// The fleet's connections as last read.
  std::vector<store::FleetConnection> connections() const;

  /// The worker's figures, changed by the worker (and by the API for forwarded commands).
  FleetWorkerStats stats() const;
  template <class F>
  void count(F change) {
    std::lock_guard lock(mutex_);
    change(stats_);
  }

 private:
  FleetWorkerStats stats_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Entries> statuses_ = std::make_shared<Entries>();
  std::vector<store::FleetConnection> connections_;
};

}  // namespace sb::engine
