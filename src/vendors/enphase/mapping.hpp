// The one place that knows both the Enphase cloud's answers (wire.hpp) and sunbridge's model: a
// system and its devices as DeviceInfos, its 15-minute telemetry and latest powers as samples
// and counters, its events, its battery settings and the commands that change them. The driver
// (driver.cpp) decides what to fetch and when; it does not map.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/driver.hpp"
#include "core/model.hpp"
#include "vendors/enphase/wire.hpp"

namespace sb::enphase {

/// The battery modes the cloud accepts (battery-strategy's choices).
const std::vector<std::string>& battery_modes();

/// Energy of a stretch, Wh.
struct Totals {
  double pv = 0, load = 0, import = 0, export_ = 0, charge = 0, discharge = 0, ev = 0;
  Totals& operator+=(const Totals& o);
  Totals& operator-=(const Totals& o);
};

/// One 15-minute interval of a system's telemetry; a day's of them by interval end (epoch s).
struct Quarter {
  Totals e;
  std::optional<double> soc;
};
using Quarters = std::map<std::int64_t, Quarter>;
Totals sum(const Quarters& q);

/// Which telemetry series the driver reads into a Quarter, and the field each one fills.
enum class Series { Production, Consumption, Import, Export, Ev };
void put(Quarter& q, Series series, const Interval& i);
void put(Quarters& q, const BatteryTelemetry& b);

/// Adds a lifetime series (one value per day from `offset`) to the days' totals.
void add_lifetime(std::vector<Totals>& days, LifetimeKind kind, const Lifetime& l,
                  std::size_t offset);

/// What a system's device list says about it.
struct Inventory {
  int batteries = 0;  ///< Encharge and AC batteries
  std::string ev_serial, gateway_serial, gateway_model, gateway_firmware;
  std::vector<std::string> contacts;  ///< load control's dry contacts
};
Inventory inventory_of(const std::vector<Device>& devices);

/// The system (an inverter) and, when it has one, its EV charger, as devices of `connection`.
std::vector<DeviceInfo> devices_of(const ConnectionConfig& connection, const System& system,
                                   const Inventory& inventory);

/// The live values of the system, or of its charger (`today`'s last interval), at `time`.
void add_live(std::vector<Sample>& out, const DeviceInfo& device, TimePoint time,
              const LatestPower& latest, const Inventory& inventory, const Quarters& today,
              const Totals& ev_base);

/// Each interval ending after `after`: its average powers, the SoC and the counters (the day's
/// start `counters` plus what the intervals so far added).
std::vector<Sample> interval_samples(const DeviceInfo& device, bool batteries, const Quarters& q,
                                     Totals counters, std::int64_t after);

/// A cloud event as a sunbridge event of `device`; `name` from the event types list.
Event event_of(const std::string& device, const SystemEvent& e, const std::string& name);

/// The commands a device takes: the system's battery settings when it has batteries (or is not
/// yet known), the dry contacts it has, the charger's level.
std::vector<CommandLimits> commands_of(const DeviceInfo& device, const Inventory* inventory);

/// The battery's settings, storm guard and the dry contacts as the commands write them.
std::vector<Setting> settings_of(const BatteryConfig& battery, const StormGuard& storm,
                                 const std::vector<LoadContact>* contacts);

/// "HH:MM" of seconds from midnight.
std::string clock_text(int seconds);

/// The battery-settings change a min-soc, battery-strategy or charge-from-grid command asks for,
/// and its outcome from the settings read before and after.
BatteryChange battery_change_of(const Command& cmd);
CommandOutcome battery_outcome(CommandType type, const BatteryChange& change,
                               const BatteryConfig& before, const BatteryConfig& after);
CommandOutcome storm_guard_outcome(bool on, const StormGuard& before, const StormGuard& after);

/// A load-control command's change, and its outcome from the contacts read back.
LoadContactChange load_change_of(const LoadControlSetting& s);
CommandOutcome load_control_outcome(const LoadContactChange& change,
                                    const std::vector<LoadContact>& after);

/// An EV charger start (level > 0) or stop: accepted, not readable at once.
CommandOutcome ev_outcome(int level);

}  // namespace sb::enphase
