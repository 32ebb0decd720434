// FoxESS variables to the canonical model (docs/vendors/foxess.md, Mapping): kW -> W, kWh -> Wh,
// battery + discharging, grid + importing; every other variable as vendor.foxess.<name>.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/metric.hpp"
#include "core/model.hpp"
#include "core/schedule.hpp"
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

/// The report variables that become energy counters, in the order report_counters takes them.
const std::vector<std::string>& report_variables();
/// One hour's or day's energy of the report variables, kWh, in report_variables() order.
using Energies = std::vector<double>;
/// Lifetime energy counters at `times` (ascending) rebuilt from energies: `start` is the
/// counters (report variables, kWh) at times[0] and `steps[k]` the energy from times[k] to
/// times[k + 1]. The samples of those in `range`, as canonical counters (Wh), Backfilled.
std::vector<Sample> report_counters(const std::vector<TimePoint>& times, Energies start,
                                    const std::vector<Energies>& steps, const std::string& device,
                                    TimeRange range);

}  // namespace sb::foxess

namespace sb::foxess {

/// What a canonical schedule needs from the device to become scheduler groups.
struct GroupDefaults {
  int min_soc_on_grid = 10;  ///< the device's reserve, for segments that name none
  double max_power_w = 6000;
  SchedulerLimits limits;
};

/// A time-of-use schedule as v1 scheduler groups (24:00 becomes 23:59, the cloud's last
/// minute); an error text when the device's limits cannot hold it.
Result<std::vector<SchedulerGroup>> groups_of(const TouSchedule& s, const GroupDefaults& d);
/// The enabled groups of a schedule read back, as canonical text ("off" when disabled).
std::string tou_text(const Schedule& s);

/// Canonical grid-charge windows as the two force-charge periods, and back.
Result<ForceCharge> force_charge_of(const std::vector<TimeWindow>& w);
std::vector<TimeWindow> windows_of(const ForceCharge& f);

}  // namespace sb::foxess
