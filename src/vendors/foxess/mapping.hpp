// FoxESS variables to the canonical model (docs/vendors/foxess.md, Mapping): kW -> W, kWh -> Wh,
// battery + discharging, grid + importing; every other variable as vendor.foxess.<name>.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/metric.hpp"
#include "core/model.hpp"
#include "vendors/foxess/client.hpp"

namespace sb::foxess {

/// "2026-04-07 10:44:04 AEST+1000" (local time, zone, offset) as an instant; also takes
/// "2026-04-07 10:44:04" as UTC.
std::optional<TimePoint> parse_device_time(std::string_view text);

/// The samples of one device's real-time data at `time`.
std::vector<Sample> map_real_time(const std::vector<Datum>& data, const std::string& device,
                                  TimePoint time);

/// device.state from runningState (160..170).
DeviceState running_state(int code);

/// The variables history backfill asks for, and the samples their points become.
const std::vector<std::string>& history_variables();
std::vector<Sample> map_history(const std::vector<Series>& series, const std::string& device,
                                TimeRange range);

}  // namespace sb::foxess
