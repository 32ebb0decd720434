// The MQTT output: publishes every device's values, availability and Home Assistant discovery
// to a broker, and takes commands from it through the gateway's command executor (verified,
// audited), answering with their outcome (discovery.hpp has the topics). libmosquitto's own
// thread keeps the connection (reconnects with back-off from 1 s to 60 s, the last will marks
// sunbridge offline); a 1-second scan on the gateway's executor publishes what changed. While
// the broker is away values are dropped, never queued, so polling never waits on it; on every
// (re)connect discovery, availability and every current value are published again, retained.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/gateway_api.hpp"
#include "core/mqtt_settings.hpp"

struct mosquitto;

namespace sb::mqtt {

struct PublisherStats {
  std::uint64_t connects = 0;
  std::uint64_t published = 0;
  std::uint64_t dropped = 0;  ///< changes not sent because the broker was away
  std::uint64_t commands = 0;
  std::string last_error;  ///< why the broker refused the last connection ("" once connected)
};

class Publisher {
 public:
  Publisher(boost::asio::any_io_executor executor, GatewayApi& gateway, MqttSettings settings);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  /// Starts connecting (in the background) and scanning; fails only for settings libmosquitto
  /// refuses (a TLS CA file it cannot read, say).
  Result<void> start();
  /// Publishes offline, disconnects cleanly, stops the scan. Idempotent.
  void stop();
  bool connected() const { return connected_.load(); }
  PublisherStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::atomic<bool> connected_{false};
};

}  // namespace sb::mqtt
