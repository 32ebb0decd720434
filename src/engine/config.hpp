// The YAML configuration: gateway settings, sites, connections. Secrets come from ${ENV}
// references; every error names file:line:column and the key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/driver.hpp"
#include "core/log.hpp"
#include "core/model.hpp"
#include "core/mqtt_settings.hpp"
#include "core/registry.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace sb::engine {

struct GatewayConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string database = "sunbridge.db";
  std::string api_token;  ///< bearer token for POST /api/v1/...; empty: commands refused
  int threads = 2;
  /// How much /metrics says: "auto", "devices" (every device's values, each connection's
  /// work) or "vendors" (connections' work summed per vendor); docs/prometheus.md.
  std::string metrics = "auto";
};

/// `storage:`: how long history is kept.
struct StorageConfig {
  store::Retention retention;
};

/// `fleet:`: where the key that seals the fleet's connection settings in the database is.
struct FleetConfig {
  std::string key_file;  ///< a file with the key (64 hex digits, base64 or 32 raw bytes)
  std::string key_env;   ///< or the environment variable holding it
  Millis lease{30'000};  ///< how long a worker holds a connection without renewing (every third)
};

/// `log:`: what the service writes to stderr (journald).
struct LogConfig {
  LogLevel level = LogLevel::Info;
};

struct Config {
  std::string path;  ///< where it was read from ("<memory>" for text)
  GatewayConfig gateway;
  LogConfig log;
  StorageConfig storage;
  std::vector<Site> sites;
  std::vector<ConnectionConfig> connections;
  std::optional<MqttSettings> mqtt;  ///< `mqtt:`; none: no MQTT output
  std::optional<FleetConfig> fleet;  ///< `fleet:`; none: connections only from this file
};

/// Reads and validates a config file. Every mistake is named (file:line:column), one per line of
/// the error's message, so a single run shows them all.
Result<Config> load_config(const std::string& path, const DriverRegistry& registry);
/// The same for text (tests, the demo); `name` stands for the file in messages.
Result<Config> parse_config(std::string_view text, const std::string& name,
                            const DriverRegistry& registry);

/// "127.0.0.1:8080" -> host, port; "[::1]:8080" too.
Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text);
/// What is wrong with a connection's `host` (it carries a port, it is a URL, …), or nothing
/// for a bare host name, IPv4 or IPv6 address.
std::optional<std::string> host_problem(std::string_view host);

}  // namespace sb::engine
