// The FoxESS Cloud driver: discovery of every inverter of the account, live data from one
// batch call for all of them, paced by the call-budget planner; minimum SoC and work mode read
// back from the cloud; history from history/query for backfill.
#pragma once

#include <optional>
#include <string>

#include "core/registry.hpp"

namespace sb::foxess {

/// What OAuth takes of a connection: the app's id and secret (FoxESS Cloud personal center) and
/// the file `sunbridge auth foxess` keeps the tokens in.
struct OAuthApp {
  std::string client_id, client_secret, token_file;
};
/// The connection's OAuth app, nullopt when it signs with an API key; an InvalidArgument naming
/// the connection when OAuth is set only in part, or beside api_key.
Result<std::optional<OAuthApp>> oauth_app(const ConnectionConfig& c);
/// The same, its mistakes noted on `r` (the driver's other options are read there too).
std::optional<OAuthApp> oauth_app(OptionReader& r);
/// The connection as the driver uses it: without a host, www.foxesscloud.com:443 over TLS;
/// without a port, the scheme's.
ConnectionConfig with_cloud_defaults(ConnectionConfig c);

/// Connection options (config `options:`):
///   api_key         the account's Open API key, or client_id, client_secret and token_file
///                   for OAuth (oauth_app)
///   verify_timeout  how long a written setting is read back before "unverified" (10 s)
///   daily_calls     calls per inverter per day (1440, as FoxESS documents)
/// Without `host` the driver talks to www.foxesscloud.com over HTTPS.
DriverRegistry::Entry registry_entry();

}  // namespace sb::foxess
