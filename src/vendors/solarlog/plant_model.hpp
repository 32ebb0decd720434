// What a simulated Solar-Log plant measured: its components (inverters with MPP trackers and
// strings, a grid and a consumption meter, a battery, an irradiance and a module temperature
// sensor, an EV charger), 5-minute values of every channel from the day it was installed, day
// totals, and component events. The weather and the house come from sim::Site (pv_at, load_at);
// the battery runs self-consumption across the days, so every day's values follow from the ones
// before. Complete days are computed once and kept.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "sim/site.hpp"

namespace date {
class time_zone;
}

namespace sb::solarlog {

struct SimPlant;

struct Component {
  std::int64_t cross_epoch_id = 0;  ///< stable across configuration epochs; what calls take
  std::int64_t id = 0;              ///< of the current epoch
  std::string name, type, cls;      ///< type: Inverter, MppTracker, InverterString, Meter, ...
  std::string subtype;              ///< Meter: grid | consumption; Sensor: irradiance | module
  std::int64_t parent = 0;          ///< the cross-epoch id of the component it belongs to
  int index = 0;                    ///< inverter number; tracker: the site's string
  double rated_w = 0;
  std::string manufacturer, model, serial;
  TimePoint installed;
};

/// Mean values of one 5-minute slot (W, %, W/m², °C, V, A).
struct SlotValues {
  double prod_ac = 0, prod_dc = 0, cons = 0, charge = 0, discharge = 0, import = 0, export_ = 0;
  double ev = 0, soc = 0, irradiance = 0, module_c = 0;
  std::vector<double> inverter_ac, inverter_dc;  ///< per inverter
  std::vector<sim::StringState> trackers;        ///< per MPP tracker (one per site string)
};

/// Energy of a local day (or of the part of today that has passed), Wh.
struct DayTotals {
  double prod = 0, cons = 0, charge = 0, discharge = 0, import = 0, export_ = 0, ev = 0;
  std::vector<double> inverter;  ///< production per inverter
  double stored_start = 0, stored_end = 0;
  double irradiation = 0;  ///< Wh/m²
  int daylight_slots = 0;  ///< slots with irradiance, times inverters
  int down_slots = 0;      ///< of those, slots an inverter was disconnected
  void add(const DayTotals& o);
};

struct PlantEvent {
  std::int64_t id = 0;
  std::int64_t component = 0;  ///< cross-epoch id
  std::string severity, code, message;
  TimePoint start;
  std::optional<TimePoint> end;  ///< nullopt: still open
};

class PlantModel {
 public:
  /// The plant was installed at the local midnight `installed_days` before `now`. Throws
  /// std::invalid_argument when the plant has more inverters than PV strings.
  PlantModel(const SimPlant& plant, TimePoint now);
  ~PlantModel();

  TimePoint installed() const { return installed_; }
  const std::vector<Component>& components() const { return components_; }
  const Component* component(std::int64_t cross_epoch_id) const;
  bool has_battery() const;
  double peak_w() const;  ///< the PV generator, Wp
  /// The battery's state of charge, %, at `stored_wh`.
  double soc_percent(double stored_wh) const;
  const date::time_zone* zone() const { return zone_; }

  /// Days since 1970-01-01 of `t`'s local day, and the instant that local day starts.
  std::int64_t day_of(TimePoint t) const;
  TimePoint day_start(std::int64_t day) const;
  std::int64_t first_day() const { return first_day_; }

  /// The 5-minute slots of a local day (276, 288 or 300 of them); nullopt for a slot that has
  /// not ended by `now` or lies before the installation.
  std::vector<std::optional<SlotValues>> slots(std::int64_t day, TimePoint now);
  /// A day's energy up to `now`.
  DayTotals totals(std::int64_t day, TimePoint now);
  /// Everything from the installation to the start of `day`.
  DayTotals before(std::int64_t day, TimePoint now);
  /// Events that started in [from, to) local days.
  std::vector<PlantEvent> events(std::int64_t from_day, std::int64_t to_day, TimePoint now);

 private:
  struct Day {
    DayTotals totals;
    std::vector<PlantEvent> events;
  };
  // Runs a day's slots from the battery level `stored`; fills `out` and `events` when given.
  DayTotals run(std::int64_t day, TimePoint now, double stored,
                std::vector<std::optional<SlotValues>>* out, std::vector<PlantEvent>* events) const;
  void complete_until(std::int64_t day);  // days_ holds every day before `day`
  double stored_at_start(std::int64_t day, TimePoint now);
  // The inverter that is disconnected during [from, to) of a day, if any (-1 none).
  struct Outage {
    int inverter = -1;
    TimePoint from, to;
  };
  Outage outage(std::int64_t day) const;
  double ev_power(TimePoint t) const;

  const SimPlant& plant_;
  std::unique_ptr<sim::Site> site_;
  const date::time_zone* zone_ = nullptr;
  TimePoint installed_;
  TimePoint ev_installed_;
  std::int64_t first_day_ = 0;
  std::vector<Component> components_;
  std::vector<Day> days_;  // complete days from first_day_
};

}  // namespace sb::solarlog
