// sonnen v1 status -> canonical samples. The only place that knows both worlds.
#pragma once

#include <string>
#include <vector>

#include "core/model.hpp"
#include "vendors/sonnen/wire.hpp"

namespace sb::sonnen {

/// Maps one status reading, stamped `t`, for `device`.
///  - battery.power   <- Pac_total_W (same sign rule: + discharging)
///  - battery.soc     <- USOC (what the user sees; RSOC kept as vendor.sonnen.RSOC)
///  - pv.power        <- Production_W, load.power <- Consumption_W
///  - grid.power      <- -GridFeedIn_W when the device sends it, else the balance
///                       Consumption - Production - Pac (the v1 table has no grid field)
///  - grid.frequency  <- Fac, ac.voltage <- Uac, battery.voltage <- Ubat
///  - device.state    <- running when installed, standby otherwise; device.online = 1
std::vector<Sample> map_status(const StatusV1& status, const std::string& device, TimePoint t);

}  // namespace sb::sonnen
