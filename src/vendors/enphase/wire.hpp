// The Enphase Monitoring API v4's answers as the client decodes them (shared/specs/enphase.md,
// enphase-openapi.yaml): one struct per body the driver uses, fields named as the cloud names them,
// numbers already range-checked. The mapping (mapping.hpp) turns them into sunbridge's model.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace sb::enphase {

/// What a 429 with quota fields said: `limit` calls per `period` ("minute" or "month").
struct Refusal {
  int limit = 0;
  std::string period;
  TimePoint period_end;
  std::string plan;  ///< from "Usage limit exceeded for plan Kilowatt"
};

struct System {
  std::int64_t id = 0;
  std::string name, timezone, status, connection_type, reference;
  std::int64_t last_report_at = 0, operational_at = 0;
};
struct SystemPage {
  int total = 0, page = 1, size = 10;
  std::vector<System> systems;
};
struct Summary {
  std::int64_t system_id = 0;
  double current_power_w = 0, energy_lifetime_wh = 0, energy_today_wh = 0;
  double size_w = 0, battery_capacity_wh = 0;
  int modules = 0;
  std::int64_t last_report_at = 0, last_interval_end_at = 0, operational_at = 0;
  std::string status, summary_date;
};
/// One device of listSystemDevices; `kind` is its list's key (micros, meters, gateways,
/// encharges, enpowers, acbs, ev_chargers).
struct Device {
  std::string kind, name, serial, model, sku, part_number, firmware, status;
  bool active = true;
  std::int64_t last_report_at = 0;
};
struct Inverter {
  std::string serial, model, status;
  double power_w = 0, lifetime_wh = 0;
  std::int64_t last_report_at = 0;
};
struct SystemEvent {
  int type = 0;
  std::string status, serial;
  std::int64_t start = 0;
  std::optional<std::int64_t> end;
};
struct Alarm {
  std::string id;
  int type = 0, severity = 0;
  bool cleared = false;
  std::int64_t start = 0;
  std::optional<std::int64_t> end;
};
struct EventType {
  int id = 0;
  std::string key, name, description;
  bool stateful = false;
};
struct MeterReading {
  std::string serial;
  double wh = 0;
  std::int64_t read_at = 0;
};
/// An interval of a telemetry series: its end, its energy and (where given) its power.
struct Interval {
  std::int64_t end_at = 0;
  double wh = 0;
  std::optional<double> power_w;
};
struct BatteryInterval {
  std::int64_t end_at = 0;
  double charge_wh = 0, discharge_wh = 0;
  std::optional<double> soc;
};
struct Telemetry {
  std::int64_t start_at = 0, end_at = 0;  ///< 0 when the answer carried dates instead
  std::string start_date;
  int total_devices = 0;
  std::vector<Interval> intervals;
};
struct BatteryTelemetry {
  std::int64_t start_at = 0, end_at = 0;
  int total_devices = 0;
  std::vector<BatteryInterval> intervals;
  std::optional<double> last_soc;  ///< last_reported_(aggregate_)soc, "%" stripped
};
/// A lifetime series: one Wh value per day from start_date.
struct Lifetime {
  std::string start_date;
  std::vector<double> values;                      ///< production, consumption, import, export
  std::vector<double> charge, discharge;           ///< battery_lifetime
  std::vector<double> meter_values, micro_values;  ///< energy_lifetime production=all
};
enum class LifetimeKind { Energy, Consumption, Battery, Import, Export };
struct LatestPower {
  std::optional<double> production_w, consumption_w, battery_w;  ///< battery: + discharging
  std::int64_t reported_at = 0;
};
struct BatteryConfig {
  std::string mode;
  int reserve_soc = 0, shutdown_level = 0;
  bool energy_independence = false, charge_from_grid = false;
};
/// What a battery-settings PUT changes; unset fields stay.
struct BatteryChange {
  std::optional<std::string> mode;
  std::optional<int> reserve_soc;
  std::optional<bool> energy_independence, charge_from_grid;
};
struct StormGuard {
  bool enabled = false, alert = false;
  std::string status;  ///< as the cloud wrote it ("enabled", "Enabled (Inactive)")
};
struct GridStatus {
  std::string state;  ///< On Grid, Off Grid, Unknown
  std::int64_t last_report = 0;
};
struct LoadContact {
  std::string name, load_name, mode, status;
  bool owner_can_override = false;
  int soc_low = 0, soc_high = 0, essential_start = 0, essential_end = 0;
};
struct LoadContactChange {
  std::string name;
  std::optional<std::string> mode;
  std::optional<int> soc_low, essential_start, essential_end;
};
struct LiveStatus {
  std::int64_t at_ms = 0;
  double pv_w = 0, consumption_w = 0, grid_w = 0, battery_w = 0, generator_w = 0;
  std::optional<double> soc;
  std::string battery_mode, grid_status;
};
struct EvCharger {
  std::string id, serial, name, model, sku, firmware, status;
  bool active = false;
};
struct EvEvent {
  std::string status, details;
  std::int64_t triggered = 0, cleared = 0;
};
struct EvSession {
  std::int64_t start = 0, end = 0, duration_s = 0, charge_time_s = 0;
  double energy_wh = 0, miles = 0, cost = 0;
};
struct EvSchedule {
  std::string type;
  bool active = false;
  std::vector<std::vector<int>> days;  ///< per schedule
  std::vector<std::string> start, end;
  std::vector<int> level;
};

}  // namespace sb::enphase
