// One simulated site: PV strings under the sun of a latitude, longitude and date (clear sky
// times a seeded cloud process), a house load profile, a battery, and the grid that closes the
// balance. Energy counters integrate power exactly, so pv + import + discharge == load +
// export + charge holds to rounding at every instant. Deterministic for a seed: weather and
// load are functions of time, and the integration runs on a fixed 1-second grid whatever the
// pattern of advance_to() calls.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/solar.hpp"  // sun_position, clear_sky_ghi, plane_of_array

namespace date {
class time_zone;
}

namespace sb::sim {

struct PvStringConfig {
  double peak_w = 5000;        ///< STC peak power, W
  double azimuth_deg = 180;    ///< 0 north, 90 east, 180 south
  double tilt_deg = 30;        ///< 0 flat
  int modules = 12;            ///< in series
  double module_vmp_v = 34.0;  ///< maximum-power voltage per module at STC
};

struct BatteryConfig {
  double capacity_wh = 10'000;
  double max_charge_w = 4'600;
  double max_discharge_w = 4'600;
  double charge_efficiency = 0.96;     ///< AC -> stored
  double discharge_efficiency = 0.96;  ///< stored -> AC
  double min_soc_percent = 5;          ///< hardware floor
  double max_soc_percent = 100;
  double initial_soc_percent = 50;
  double nominal_voltage_v = 51.2;
  double initial_soh_percent = 98.5;
};

struct LoadConfig {
  double annual_kwh = 4'500;  ///< sets the mean of the profile
};

/// Lifetime energy counters, Wh.
struct Counters {
  double pv_wh = 0;
  double grid_import_wh = 0;
  double grid_export_wh = 0;
  double battery_charge_wh = 0;
  double battery_discharge_wh = 0;
  double load_wh = 0;
  // Where the house's energy came from, and what charged the battery from the grid
  // (home_from_pv + home_from_battery + home_from_grid == load).
  double home_from_pv_wh = 0;
  double home_from_battery_wh = 0;
  double home_from_grid_wh = 0;
  double charge_from_grid_wh = 0;
};

/// Counter arithmetic: differences over a period, and a share of them (all fields alike).
Counters minus(const Counters& a, const Counters& b);
Counters scaled(const Counters& a, double k);

struct SiteConfig {
  double latitude = 52.52;
  double longitude = 13.40;
  std::string timezone = "Europe/Berlin";
  std::vector<PvStringConfig> strings = {PvStringConfig{}, PvStringConfig{3000, 270, 25, 8, 34.0}};
  double inverter_max_w = 8'000;  ///< AC limit; PV above it is clipped
  BatteryConfig battery;
  LoadConfig load;
  double cloudiness = 0.3;  ///< 0 always clear .. 1 mostly overcast
  std::uint64_t seed = 1;
  /// Where the lifetime counters start (a plant that has run for a few years); they balance:
  /// pv + import + discharge == load + export + charge.
  Counters initial_counters{13'500'000, 6'100'000, 7'200'000, 3'050'000, 2'800'000,
                            12'150'000, 3'300'000, 2'800'000, 6'050'000, 50'000};
};

/// The site's PV strings as the engine's PV arrays (a demo's site configuration).
std::vector<PvArray> pv_arrays(const SiteConfig& site);

/// Checks a configuration; InvalidArgument naming the bad field.
Result<void> validate(const SiteConfig& config);

struct StringState {
  double power_w = 0;
  double voltage_v = 0;
  double current_a = 0;
};

/// Instantaneous values at now().
struct State {
  TimePoint time;
  std::vector<StringState> strings;
  double pv_w = 0;  ///< DC, after clipping
  double load_w = 0;
  double battery_w = 0;  ///< + discharging, - charging
  double grid_w = 0;     ///< + import, - export
  double soc_percent = 0;
  double soh_percent = 100;
  double battery_voltage_v = 0;
  double battery_current_a = 0;  ///< + discharging
  double battery_temperature_c = 20;
  double ac_voltage_v = 230;
  double frequency_hz = 50;
  double sun_elevation_deg = 0;
  double irradiance_wm2 = 0;  ///< global horizontal, after clouds
};

enum class BatteryMode {
  SelfConsumption,  ///< charge from surplus, discharge to cover the house, down to the reserve
  Setpoint,         ///< hold an external setpoint (W, + discharge) until told otherwise
};

/// What a 15-minute slot of a weekly plan allows the battery (KOSTAL's time control).
enum class SlotRule : std::uint8_t { Free = 0, NoCharge = 1, NoDischarge = 2 };
/// Seven days from Monday, 96 slots of 15 minutes from local midnight.
using WeeklyPlan = std::array<std::array<SlotRule, 96>, 7>;

/// What the battery does in a segment of a daily plan (time-of-use schedules such as FoxESS's
/// scheduler groups and force-charge windows).
enum class SegmentMode : std::uint8_t {
  SelfUse,      ///< self-consumption, with the segment's reserve
  NoCharge,     ///< PV serves the house and the grid; the battery is not charged
  NoDischarge,  ///< the battery is kept for outages; it still charges from surplus
  Charge,       ///< charge at power_w (PV first, then the grid) up to max_soc_percent
  Discharge,    ///< discharge at power_w (the house first, the rest exported) down to min_soc
};

struct DaySegment {
  int start_minute = 0;  ///< local minutes from midnight, inclusive (0..1439)
  int end_minute = 0;    ///< local minutes from midnight, exclusive (1..1440)
  SegmentMode mode = SegmentMode::SelfUse;
  double power_w = 0;            ///< Charge / Discharge power, W (>= 0)
  double min_soc_percent = 0;    ///< reserve while the segment runs; 0: the site's reserve
  double max_soc_percent = 100;  ///< Charge stops here
};

class Site {
 public:
  /// Throws std::invalid_argument on a bad config (validate() first for a clear error).
  Site(SiteConfig config, TimePoint start);

  /// Integrates from now() to t; does nothing when t <= now().
  void advance_to(TimePoint t);
  TimePoint now() const { return now_; }
  const State& state() const { return state_; }
  const Counters& counters() const { return counters_; }
  const SiteConfig& config() const { return config_; }

  /// + discharge, - charge, W; clamped to the battery's limits. nullopt: self-consumption.
  void set_battery_setpoint(std::optional<double> watts);
  std::optional<double> battery_setpoint() const { return setpoint_; }
  BatteryMode battery_mode() const {
    return setpoint_ ? BatteryMode::Setpoint : BatteryMode::SelfConsumption;
  }
  /// Reserve that self-consumption does not discharge below, %.
  void set_reserve_soc(double percent);
  double reserve_soc() const { return reserve_soc_; }
  /// Self-consumption discharges only while the house draws at least this much, W.
  void set_discharge_threshold(double watts);
  double discharge_threshold() const { return discharge_threshold_w_; }
  /// Slots that forbid charging or discharging in self-consumption; nullopt: no plan.
  void set_weekly_plan(std::optional<WeeklyPlan> plan);
  /// The rule in force at t (Free without a plan).
  SlotRule slot_rule_at(TimePoint t) const;
  /// A daily plan of segments in local time; where two overlap, the first wins. Outside every
  /// segment the battery is in self-consumption. Empty: no plan.
  void set_day_plan(std::vector<DaySegment> segments);
  const std::vector<DaySegment>& day_plan() const { return day_plan_; }
  /// The segment in force at t (nullptr outside the plan).
  const DaySegment* segment_at(TimePoint t) const;
  /// Export to the grid never exceeds this, W: PV is curtailed first, then discharge.
  /// nullopt: no limit.
  void set_export_limit(std::optional<double> watts);
  std::optional<double> export_limit() const { return export_limit_w_; }
  /// Peak shaving: import above `import_limit_w` is covered by the battery (even beyond its
  /// mode) while its SoC is above `min_soc_percent`, and grid charging stays below the limit.
  /// nullopt: off.
  void set_peak_shaving(std::optional<double> import_limit_w, double min_soc_percent);
  std::optional<double> import_limit() const { return import_limit_w_; }
  double usable_capacity_wh() const;

  /// Local wall-clock time of `t` in the site's zone ("2026-11-21 14:05:00").
  std::string local_time_string(TimePoint t) const;
  /// Minutes from local midnight, for profiles.
  double local_minutes(TimePoint t) const;

  /// The load and the PV of time t, without integrating (pure functions of time and seed).
  double load_at(TimePoint t) const;
  /// `ghi`: the global horizontal irradiance; `poa`: the first string's plane-of-array
  /// irradiance (what a sensor mounted with the modules reads), W/m².
  std::vector<StringState> pv_at(TimePoint t, double* ghi = nullptr, double* poa = nullptr) const;

 private:
  void enter_cell(TimePoint cell_start);
  void integrate(double seconds);
  void refresh_state();
  double cloud_index(TimePoint t) const;
  double battery_power_for(double pv, double load, SlotRule rule, const DaySegment* seg) const;
  void recompute_cell();
  // PV the cell may use: what the strings give, less what the export limit curtails.
  double curtailed(double pv, double load, double battery) const;

  SiteConfig config_;
  const date::time_zone* zone_ = nullptr;
  TimePoint now_;
  Counters counters_;
  State state_;
  double stored_wh_ = 0;
  double load_scale_ = 1;
  double reserve_soc_ = 0;
  double discharge_threshold_w_ = 0;
  std::optional<WeeklyPlan> plan_;
  std::optional<double> setpoint_;
  std::vector<DaySegment> day_plan_;
  std::optional<double> export_limit_w_;
  std::optional<double> import_limit_w_;
  double peak_shaving_soc_ = 0;
  // Powers held constant over the current 1-second cell.
  TimePoint cell_start_;
  double cell_pv_ = 0, cell_load_ = 0, cell_battery_ = 0;
  double cell_pv_available_ = 0;  // before the export limit
  SlotRule cell_rule_ = SlotRule::Free;
};

}  // namespace sb::sim
