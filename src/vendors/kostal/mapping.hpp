// KOSTAL process data and log data to the canonical model (sign rules: battery + discharging,
// grid + import; energy in Wh). See docs/vendors/kostal.md for the table.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/metric.hpp"
#include "core/model.hpp"
#include "core/result.hpp"
#include "vendors/kostal/client.hpp"

namespace sb::kostal {

using PdRequest = std::vector<std::pair<std::string, std::vector<std::string>>>;

/// What one poll asks for (one POST /processdata) for an inverter with `strings` PV inputs
/// and, when `battery`, a battery.
PdRequest poll_request(int strings, bool battery);

/// The canonical and vendor samples of one poll.
std::vector<Sample> map_process_data(const std::vector<ModuleValues>& modules,
                                     const std::string& device, TimePoint time);

/// Inverter:State -> DeviceState (6 FeedIn, 7 Throttled run; 10 Standby, 0 Off sleep; ...).
DeviceState inverter_state(int code);

/// Parses logdata/download text (tab-separated, a header block, then a "Zeit" column header
/// and one row per logging interval) into samples of quality Backfilled within `range`.
/// Errors name the line.
Result<std::vector<Sample>> parse_log_data(const std::string& text, const std::string& device,
                                           TimeRange range);

}  // namespace sb::kostal
