// The sonnen driver: discovery, polling and the battery power setpoint over API v1.
#pragma once

#include "core/registry.hpp"

namespace sb::sonnen {

/// Connection options (config `options:`):
///   max_power_w     largest setpoint the battery takes, W (default 4600: v1 cannot tell)
///   serial          the battery's serial, for a stable device id (default: "battery")
///   verify_timeout  how long a setpoint is read back before it counts as unverified (10s)
///   tolerance_w     how far the read-back may be from the setpoint (default 50 W)
DriverRegistry::Entry registry_entry();

}  // namespace sb::sonnen
