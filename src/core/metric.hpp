// The canonical metric catalogue: every value sunbridge stores has an id from here, a unit and
// a sign rule (ARCHITECTURE.md "Canonical model"). Vendor values with no canonical home keep a
// `vendor.<vendor>.<field>` id and are stored as they come.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/name.hpp"

namespace sb {

enum class Unit { Watt, WattHour, Percent, Volt, Ampere, Hertz, Celsius, Boolean, State, None };

/// Unit symbol as shown to people and to Home Assistant ("W", "Wh", "%", "°C").
std::string_view unit_symbol(Unit u);

/// Decimals a value of the unit is shown to people with: whole watts, watt-hours and states,
/// SoC and °C to 0.1, volts to 0.1, amperes and hertz to 0.01 (other: at most 2, trailing
/// zeros dropped by display_number).
int display_decimals(Unit u);
/// `v` as people read it: display_decimals() places, never "-0" ("-0.004 W" is "0"); "nan"
/// or "inf" as they are.
std::string display_number(double v, Unit u);

enum class SignRule {
  Any,                ///< no constraint (voltages can be anything but are >= 0 in practice)
  NonNegative,        ///< PV power, load power, counters, SoC
  ImportPositive,     ///< grid: + import from grid, - export to grid
  DischargePositive,  ///< battery: + discharging, - charging
};

enum class MetricKind {
  Gauge,    ///< instantaneous value
  Counter,  ///< lifetime, monotonic energy counter (Wh)
  State,    ///< enumerated state code (see device_state labels)
};

struct MetricDef {
  std::string_view id;  ///< "pv.power"; "{n}" stands for a 1-based index ("pv.string.{n}.power")
  Unit unit;
  SignRule sign;
  MetricKind kind;
  std::string_view description;
};

/// Every canonical metric, in display order.
std::span<const MetricDef> metric_catalogue();

/// Looks up a canonical id; indexed ids match their "{n}" pattern ("pv.string.2.power").
/// Returns nullopt for unknown ids and for vendor ids.
std::optional<MetricDef> find_metric(std::string_view id);
/// find_metric for an interned id, remembered per name: the engine asks it of every sample, and
/// an indexed id's search builds its pattern. Null for unknown and vendor ids. Thread-safe.
const MetricDef* metric_def(const Name& id);

/// True for "vendor.<vendor>.<field>" with non-empty parts.
bool is_vendor_metric(std::string_view id);

/// True when `id` is canonical or a well-formed vendor metric.
bool is_known_metric(std::string_view id);

/// "pv.string.{n}.power" with n=2 -> "pv.string.2.power".
std::string indexed_metric(std::string_view pattern, int n);

/// Device state codes carried by metric "device.state".
enum class DeviceState { Unknown = 0, Standby = 1, Running = 2, Fault = 3, Offline = 4 };
std::string_view to_string(DeviceState s);

/// Canonical ids used across the code base (typos here would be silent; the catalogue test
/// checks that each one is in the catalogue).
namespace metric {
inline constexpr std::string_view kPvPower = "pv.power";
inline constexpr std::string_view kPvStringPower = "pv.string.{n}.power";
inline constexpr std::string_view kPvStringVoltage = "pv.string.{n}.voltage";
inline constexpr std::string_view kPvStringCurrent = "pv.string.{n}.current";
inline constexpr std::string_view kAcPower = "ac.power";
inline constexpr std::string_view kAcVoltage = "ac.voltage";
inline constexpr std::string_view kGridPower = "grid.power";
inline constexpr std::string_view kGridPhaseVoltage = "grid.phase.{n}.voltage";
inline constexpr std::string_view kGridPhaseCurrent = "grid.phase.{n}.current";
inline constexpr std::string_view kGridPhasePower = "grid.phase.{n}.power";
inline constexpr std::string_view kGridFrequency = "grid.frequency";
inline constexpr std::string_view kLoadPower = "load.power";
inline constexpr std::string_view kBatteryPower = "battery.power";
inline constexpr std::string_view kBatterySoc = "battery.soc";
inline constexpr std::string_view kBatterySoh = "battery.soh";
inline constexpr std::string_view kBatteryVoltage = "battery.voltage";
inline constexpr std::string_view kBatteryCurrent = "battery.current";
inline constexpr std::string_view kBatteryTemperature = "battery.temperature";
inline constexpr std::string_view kBatteryUsableCapacity = "battery.usable_capacity";
inline constexpr std::string_view kEnergyPvYield = "energy.pv_yield";
inline constexpr std::string_view kEnergyGridImport = "energy.grid_import";
inline constexpr std::string_view kEnergyGridExport = "energy.grid_export";
inline constexpr std::string_view kEnergyBatteryCharge = "energy.battery_charge";
inline constexpr std::string_view kEnergyBatteryDischarge = "energy.battery_discharge";
inline constexpr std::string_view kEnergyLoad = "energy.load";
inline constexpr std::string_view kEvPower = "ev.power";
inline constexpr std::string_view kEvCharging = "ev.charging";
inline constexpr std::string_view kEnergyEvCharge = "energy.ev_charge";
inline constexpr std::string_view kDeviceState = "device.state";
inline constexpr std::string_view kDeviceOnline = "device.online";
}  // namespace metric

}  // namespace sb
