// The Enphase Monitoring API v4 driver: every system of the signed-in user (or the one named) as a
// device, with its EV charger as a device of its own; live powers from latest_telemetry, energy
// counters and SoC from the day's 15-minute telemetry on top of the lifetime series, all paced by
// the plan's monthly and per-minute budget; history from telemetry for backfill; battery mode,
// reserve, charge from grid, storm guard, load control and EV charging, each read back.
#pragma once

#include "core/registry.hpp"

namespace sb::enphase {

/// Connection options (config `options:`):
///   api_key        the application's API key (developer portal -> Applications)
///   client_id, client_secret
///                  the application's OAuth client
///   token_file     where `sunbridge auth enphase` keeps the tokens (0600; rewritten at each
///                  refresh, as the refresh token rotates)
///   plan           watt (default), kilowatt, megawatt or partner: the calls a minute and a month
///   system_id      only this system (default: every system of the user)
///   verify_timeout how long a written setting is read back before "unverified" (10 s)
/// Without `host` the driver talks to api.enphaseenergy.com over HTTPS.
DriverRegistry::Entry registry_entry();

}  // namespace sb::enphase
