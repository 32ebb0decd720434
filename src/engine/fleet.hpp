// A fleet's connections as the database keeps them: each connection's settings (host, port,
// intervals, vendor options with their secrets) sealed with AES-256-GCM under the fleet key, so
// a dump of the database shows no password or token. The key is 32 bytes, given as 64 hex
// digits or base64, in a file or an environment variable the configuration names.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/driver.hpp"
#include "core/result.hpp"
#include "engine/config.hpp"
#include "store/fleet.hpp"

namespace sb::engine {

/// `s` without the white space around it (a key file's newline, a CSV cell's padding).
std::string trimmed(std::string_view s);

/// The key `fleet:` names; errors say where it was looked for and what was wrong with it.
Result<std::string> load_fleet_key(const FleetConfig& fleet);
/// 64 hex digits or base64 of 32 bytes (surrounding white space ignored); `where` names it.
Result<std::string> parse_fleet_key(std::string_view text, const std::string& where);

/// The connection's settings sealed for the database (a fresh nonce each time; the name is
/// sealed with them, so a row's settings cannot be moved to another row).
Result<std::string> seal_connection(const ConnectionConfig& c, std::string_view key);
/// The connection a row stands for; fails naming the connection when the key is not the one
/// it was sealed with or the row was changed.
Result<ConnectionConfig> open_connection(const store::FleetConnection& row, std::string_view key);

/// What `sunbridge fleet import` reads: the sites and connections, and the vendor account each
/// connection's budget is shared with (CSV's `account` column; none from YAML).
struct FleetFile {
  Config config;
  std::map<std::string, std::string> accounts;  ///< connection -> account
};
/// CSV with a header row: `site`, `name`, `vendor` and any of `host`, `port`, `tls`,
/// `poll_interval`, `timeout`, `timezone`, `latitude`, `longitude`, `site_name`, `account`; any
/// other column is a vendor option (`token`, `password`, …). Empty cells are left out. Checked
/// like a configuration; errors name the file's line.
Result<FleetFile> parse_fleet_csv(std::string_view text, const std::string& name,
                                  const DriverRegistry& registry);
/// A `.csv` file as above, anything else as YAML (`sites:` and `connections:`).
Result<FleetFile> load_fleet_file(const std::string& path, const DriverRegistry& registry);

}  // namespace sb::engine
