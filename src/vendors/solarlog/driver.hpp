// The Solar-Log WEB Enerest driver (User API and Portal API): every plant the client credentials
// see (or those named) is a device, and with the Advanced package a plant's EV charger is a device
// of its own. Solar-Log plants send their data every 5 minutes; a refresh reads today's 5-minute
// plant values (powers, lifetime counters, SoC), with Advanced also the MPP trackers, sensors and
// wallbox, then the component events now and then. Every slot since the last refresh becomes
// samples, so history stays complete; history() reads any past days for backfill. The API is
// read-only: no commands.
#pragma once

#include "core/registry.hpp"

namespace sb::solarlog {

/// Connection options (config `options:`):
///   portal         the first label of <portal>.enerest.world (required)
///   client_id, client_secret
///                  the API client's credentials (User API or Portal API)
///   package        basic, advanced or auto (default: asks the portal once at discovery)
///   plant_id       only this plant (default: every plant the credentials see)
///   fleet          Portal API only: only the plants of this fleet
///   auth_host      HOST[:PORT] of the token endpoint (default auth.enerest.world over HTTPS, or
///                  the connection's host when it is set, as the simulator serves both)
///   per_minute     the portal's quota, calls a minute (60)
///   events_interval seconds between two reads of the component events (900)
/// Without `host` the driver talks to api.enerest.world over HTTPS.
DriverRegistry::Entry registry_entry();

}  // namespace sb::solarlog
