// Where and how the MQTT output connects (config `mqtt:`, `sunbridge demo --mqtt URL`); kept
// in core so that the engine's config reads it and the output uses it without either
// depending on the other.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sb {

struct MqttSettings {
  std::string host;
  std::uint16_t port = 1883;
  bool tls = false;     ///< mqtts://
  std::string ca_file;  ///< TLS: the CA bundle; empty: the system's
  std::string username, password;
  std::string prefix = "sunbridge";                ///< state, availability and command topics
  std::string discovery_prefix = "homeassistant";  ///< Home Assistant discovery; empty: none
  std::string client_id;                           ///< empty: "sunbridge-<prefix>"
  std::chrono::seconds keepalive{30};
  bool operator==(const MqttSettings&) const = default;
};

/// "mqtt://[user[:password]@]host[:port]" (port 1883) or "mqtts://…" (8883, TLS); an
/// InvalidArgument naming what is wrong otherwise.
Result<MqttSettings> parse_mqtt_url(std::string_view url);

/// What is wrong with a topic prefix ("sunbridge", "home/solar"): empty, wildcards, a leading
/// or trailing '/'; nothing when it is fine.
std::string mqtt_prefix_problem(std::string_view prefix);

}  // namespace sb
