// The FoxESS Cloud driver: discovery of every inverter of the account, live data from one
// batch call for all of them, paced by the call-budget planner; minimum SoC and work mode read
// back from the cloud; history from history/query for backfill.
#pragma once

#include "core/registry.hpp"

namespace sb::foxess {

/// Connection options (config `options:`):
///   api_key         the account's Open API key (required)
///   verify_timeout  how long a written setting is read back before "unverified" (10 s)
///   daily_calls     calls per inverter per day (1440, as FoxESS documents)
/// Without `host` the driver talks to www.foxesscloud.com over HTTPS.
DriverRegistry::Entry registry_entry();

}  // namespace sb::foxess
