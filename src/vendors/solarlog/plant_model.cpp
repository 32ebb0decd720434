#include "vendors/solarlog/plant_model.hpp"

#include <date/tz.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "vendors/solarlog/simulator.hpp"

namespace sb::solarlog {

using namespace std::chrono;

namespace {

constexpr double kSlotH = 5.0 / 60;
constexpr double kInverterEfficiency = 0.97;

std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

void DayTotals::add(const DayTotals& o) {
  prod += o.prod, cons += o.cons, charge += o.charge, discharge += o.discharge;
  import += o.import, export_ += o.export_, ev += o.ev, irradiation += o.irradiation;
  daylight_slots += o.daylight_slots, down_slots += o.down_slots;
  if (inverter.size() < o.inverter.size()) inverter.resize(o.inverter.size());
  for (std::size_t i = 0; i < o.inverter.size(); ++i) inverter[i] += o.inverter[i];
}

PlantModel::PlantModel(const SimPlant& plant, TimePoint now) : plant_(plant) {
  if (plant.inverters < 1 || static_cast<std::size_t>(plant.inverters) > plant.site.strings.size())
    throw std::invalid_argument("plant " + plant.id + ": " + std::to_string(plant.inverters) +
                                " inverters need at least as many PV strings (it has " +
                                std::to_string(plant.site.strings.size()) + ")");
  zone_ = date::locate_zone(plant.site.timezone);
  site_ = std::make_unique<sim::Site>(plant.site, now);
  first_day_ = day_of(now) - plant.installed_days;
  installed_ = day_start(first_day_);
  ev_installed_ = day_start(day_of(now) - std::min(plant.installed_days, 200));

  // The components, in the order the portal lists them. Cross-epoch ids are the plant's ffufId
  // times 100 plus a running number, so they are unique across a portal.
  std::int64_t next = 1;
  auto add = [&](Component c) {
    c.cross_epoch_id = static_cast<std::int64_t>(plant.ffuf_id) * 100 + next++;
    c.id = c.cross_epoch_id * 10 + 1;
    if (c.installed == TimePoint{}) c.installed = installed_;
    components_.push_back(std::move(c));
    return components_.back().cross_epoch_id;
  };
  add({.name = "Solar-Log Base 15",
       .type = "SolarLogIntern",
       .cls = "intern",
       .manufacturer = "Solare Datensysteme",
       .model = "Solar-Log Base 15",
       .serial = "SLB" + std::to_string(plant.ffuf_id)});
  for (int i = 0; i < plant.inverters; ++i) {
    double rated = plant.site.inverter_max_w / plant.inverters;
    auto inv = add({.name = "WR " + std::to_string(i + 1),
                    .type = "Inverter",
                    .cls = "production",
                    .index = i,
                    .rated_w = rated,
                    .manufacturer = "SMA",
                    .model = "Sunny Tripower " + std::to_string(std::lround(rated / 1000)) + ".0",
                    .serial = "30" + std::to_string(plant.ffuf_id * 10 + i)});
    for (std::size_t s = 0; s < plant.site.strings.size(); ++s) {
      if (static_cast<int>(s % plant.inverters) != i) continue;
      auto tracker = add({.name = "WR " + std::to_string(i + 1) + " MPP " +
                                  std::to_string(s / plant.inverters + 1),
                          .type = "MppTracker",
                          .cls = "production",
                          .parent = inv,
                          .index = static_cast<int>(s),
                          .rated_w = plant.site.strings[s].peak_w});
      auto tracker_name = components_.back().name;
      for (char k : {'A', 'B'})
        add({.name = tracker_name + " String " + k,
             .type = "InverterString",
             .cls = "production",
             .parent = tracker,
             .index = static_cast<int>(s),
             .rated_w = plant.site.strings[s].peak_w / 2});
    }
  }
  add({.name = "Grid meter",
       .type = "Meter",
       .cls = "consumption",
       .subtype = "grid",
       .manufacturer = "Janitza",
       .model = "UMG 104"});
  add({.name = "House",
       .type = "Meter",
       .cls = "consumption",
       .subtype = "consumption",
       .manufacturer = "Janitza",
       .model = "UMG 104"});
  if (plant.battery)
    add({.name = "Battery",
         .type = "Battery",
         .cls = "storage",
         .rated_w = plant.site.battery.max_discharge_w,
         .manufacturer = "BYD",
         .model = "Battery-Box Premium HVS"});
  add({.name = "Irradiance",
       .type = "Sensor",
       .cls = "sensor",
       .subtype = "irradiance",
       .manufacturer = "Mencke & Tegtmeyer",
       .model = "Si-RS485TC"});
  add({.name = "Module temperature",
       .type = "Sensor",
       .cls = "sensor",
       .subtype = "module",
       .manufacturer = "Mencke & Tegtmeyer",
       .model = "Si-RS485TC"});
  if (plant.ev_charger)
    add({.name = "Wallbox",
         .type = "EVCharger",
         .cls = "consumption",
         .rated_w = 11'000,
         .manufacturer = "KEBA",
         .model = "KeContact P30",
         .installed = ev_installed_});
}

PlantModel::~PlantModel() = default;

const Component* PlantModel::component(std::int64_t id) const {
  for (const auto& c : components_)
    if (c.cross_epoch_id == id) return &c;
  return nullptr;
}

bool PlantModel::has_battery() const {
  return plant_.battery;
}

double PlantModel::peak_w() const {
  double w = 0;
  for (const auto& s : plant_.site.strings) w += s.peak_w;
  return w;
}

double PlantModel::soc_percent(double stored_wh) const {
  return plant_.battery ? 100 * stored_wh / plant_.site.battery.capacity_wh : 0;
}

std::int64_t PlantModel::day_of(TimePoint t) const {
  return date::floor<date::days>(zone_->to_local(t)).time_since_epoch().count();
}

TimePoint PlantModel::day_start(std::int64_t day) const {
  auto local = date::local_days(date::days(day));
  return time_point_cast<Millis>(zone_->to_sys(local, date::choose::earliest));
}

PlantModel::Outage PlantModel::outage(std::int64_t day) const {
  // About one day in eleven an inverter disconnects for a while around midday (grid overvoltage).
  auto h = mix(plant_.site.seed * 1'000'003ull + static_cast<std::uint64_t>(day));
  if (h % 11 != 0) return {};
  auto from = day_start(day) + hours(10) + minutes((h >> 16) % 240);
  return {static_cast<int>((h >> 8) % static_cast<std::uint64_t>(plant_.inverters)), from,
          from + minutes(15 + (h >> 24) % 40)};
}

double PlantModel::ev_power(TimePoint t) const {
  // The car charges at 3.7 kW on weekday evenings (18:00 to 20:30) and Saturday mornings.
  if (!plant_.ev_charger || t < ev_installed_) return 0;
  auto local = zone_->to_local(t);
  auto day = date::floor<date::days>(local);
  auto wd = date::weekday(day).c_encoding();  // 0 Sunday
  auto minute = duration_cast<minutes>(local - day).count();
  bool on = (wd >= 1 && wd <= 5 && minute >= 18 * 60 && minute < 20 * 60 + 30) ||
            (wd == 6 && minute >= 10 * 60 && minute < 13 * 60);
  return on ? 3'700 : 0;
}

DayTotals PlantModel::run(std::int64_t day, TimePoint now, double stored,
                          std::vector<std::optional<SlotValues>>* out,
                          std::vector<PlantEvent>* events) const {
  DayTotals d;
  d.inverter.assign(static_cast<std::size_t>(plant_.inverters), 0);
  d.stored_start = d.stored_end = stored;
  if (day < first_day_) return d;
  const auto& b = plant_.site.battery;
  const double reserve = b.capacity_wh * b.min_soc_percent / 100;
  const double inverter_max = plant_.site.inverter_max_w / plant_.inverters;
  auto down = outage(day);
  bool was_full = stored >= b.capacity_wh - 1;
  // The events' components, by type (and the inverter's number).
  auto id_of = [&](std::string_view type, int index) -> std::int64_t {
    for (const auto& c : components_)
      if (c.type == type && (type != "Inverter" || c.index == index)) return c.cross_epoch_id;
    return 0;
  };
  if (events && down.inverter >= 0 && down.from + minutes(5) <= now)
    events->push_back({0, id_of("Inverter", down.inverter), "error", "E 207",
                       "Grid voltage too high, inverter disconnected", down.from,
                       down.to <= now ? std::optional<TimePoint>(down.to) : std::nullopt});
  auto start = day_start(day), end = day_start(day + 1);
  for (auto t = start; t < end; t += minutes(5)) {
    if (t + minutes(5) > now) {
      if (out) out->push_back(std::nullopt);
      continue;
    }
    auto mid = t + seconds(150);
    SlotValues s;
    auto strings = site_->pv_at(mid, nullptr, &s.irradiance);  // the sensor is in the module plane
    s.inverter_dc.assign(static_cast<std::size_t>(plant_.inverters), 0);
    s.inverter_ac = s.inverter_dc;
    for (std::size_t i = 0; i < strings.size(); ++i) {
      auto inv = static_cast<int>(i % static_cast<std::size_t>(plant_.inverters));
      if (inv == down.inverter && mid >= down.from && mid < down.to) strings[i] = {};
      s.inverter_dc[static_cast<std::size_t>(inv)] += strings[i].power_w;
    }
    for (std::size_t i = 0; i < s.inverter_dc.size(); ++i) {
      s.inverter_ac[i] = std::min(s.inverter_dc[i], inverter_max) * kInverterEfficiency;
      s.prod_dc += s.inverter_dc[i];
      s.prod_ac += s.inverter_ac[i];
      d.inverter[i] += s.inverter_ac[i] * kSlotH;
    }
    s.trackers = std::move(strings);
    // Module temperature: the season's air plus the sun's heating (about 25 K at 1000 W/m²).
    auto month = static_cast<unsigned>(
        date::year_month_day(date::floor<date::days>(zone_->to_local(mid))).month());
    double air = 10 - 9 * std::cos((static_cast<double>(month) - 0.5) / 12 * 2 * M_PI);
    s.module_c = air + 0.025 * s.irradiance;
    s.ev = ev_power(mid);
    s.cons = site_->load_at(mid) + s.ev;
    if (plant_.battery) {
      double room = std::max(0.0, (b.capacity_wh - stored) / b.charge_efficiency);
      if (s.prod_ac > s.cons)
        s.charge = std::min({s.prod_ac - s.cons, b.max_charge_w, room / kSlotH});
      else
        s.discharge = std::min({s.cons - s.prod_ac, b.max_discharge_w,
                                std::max(0.0, stored - reserve) * b.discharge_efficiency / kSlotH});
      stored += (s.charge * b.charge_efficiency - s.discharge / b.discharge_efficiency) * kSlotH;
      s.soc = soc_percent(stored);
      bool full = stored >= b.capacity_wh - 1;
      if (events && full && !was_full)
        events->push_back({0, id_of("Battery", 0), "info", "I 31", "Battery fully charged",
                           t + minutes(5), t + minutes(5)});
      was_full = full;
    }
    double net = s.cons + s.charge - s.prod_ac - s.discharge;  // + from the grid
    (net > 0 ? s.import : s.export_) = std::abs(net);
    d.prod += s.prod_ac * kSlotH, d.cons += s.cons * kSlotH, d.ev += s.ev * kSlotH;
    d.charge += s.charge * kSlotH, d.discharge += s.discharge * kSlotH;
    d.import += s.import * kSlotH, d.export_ += s.export_ * kSlotH;
    d.irradiation += s.irradiance * kSlotH;
    if (s.irradiance > 20) {
      d.daylight_slots += plant_.inverters;
      if (down.inverter >= 0 && mid >= down.from && mid < down.to) ++d.down_slots;
    }
    if (out) out->push_back(std::move(s));
  }
  d.stored_end = stored;
  return d;
}

void PlantModel::complete_until(std::int64_t day) {
  while (first_day_ + static_cast<std::int64_t>(days_.size()) < day) {
    auto d = first_day_ + static_cast<std::int64_t>(days_.size());
    const auto& b = plant_.site.battery;
    double stored = days_.empty() ? b.capacity_wh * b.initial_soc_percent / 100
                                  : days_.back().totals.stored_end;
    Day x;
    x.totals = run(d, day_start(d + 1), stored, nullptr, &x.events);
    days_.push_back(std::move(x));
  }
}

double PlantModel::stored_at_start(std::int64_t day, TimePoint now) {
  const auto& b = plant_.site.battery;
  if (day <= first_day_) return b.capacity_wh * b.initial_soc_percent / 100;
  complete_until(std::min(day, day_of(now)));
  return days_.back().totals.stored_end;
}

std::vector<std::optional<SlotValues>> PlantModel::slots(std::int64_t day, TimePoint now) {
  std::vector<std::optional<SlotValues>> out;
  if (day < first_day_) {
    auto n = duration_cast<minutes>(day_start(day + 1) - day_start(day)).count() / 5;
    out.assign(static_cast<std::size_t>(n), std::nullopt);
    return out;
  }
  run(day, now, stored_at_start(day, now), &out, nullptr);
  return out;
}

DayTotals PlantModel::totals(std::int64_t day, TimePoint now) {
  if (day < first_day_ || day > day_of(now)) {
    DayTotals empty;
    empty.inverter.assign(static_cast<std::size_t>(plant_.inverters), 0);
    return empty;
  }
  if (day < day_of(now)) {
    complete_until(day + 1);
    return days_[static_cast<std::size_t>(day - first_day_)].totals;
  }
  return run(day, now, stored_at_start(day, now), nullptr, nullptr);
}

DayTotals PlantModel::before(std::int64_t day, TimePoint now) {
  DayTotals sum;
  sum.inverter.assign(static_cast<std::size_t>(plant_.inverters), 0);
  auto until = std::min(day, day_of(now));
  if (until <= first_day_) return sum;
  complete_until(until);
  for (std::int64_t d = first_day_; d < until; ++d)
    sum.add(days_[static_cast<std::size_t>(d - first_day_)].totals);
  return sum;
}

std::vector<PlantEvent> PlantModel::events(std::int64_t from_day, std::int64_t to_day,
                                           TimePoint now) {
  std::vector<PlantEvent> out;
  auto today = day_of(now);
  from_day = std::max(from_day, first_day_);
  to_day = std::min(to_day, today + 1);
  if (from_day < today) complete_until(std::min(to_day, today));
  for (auto d = from_day; d < to_day; ++d) {
    if (d < today) {
      const auto& e = days_[static_cast<std::size_t>(d - first_day_)].events;
      out.insert(out.end(), e.begin(), e.end());
    } else {
      run(d, now, stored_at_start(d, now), nullptr, &out);
    }
  }
  // Ids follow from the start time and the component, so they stay the same between calls.
  for (auto& e : out)
    e.id = duration_cast<minutes>(e.start.time_since_epoch()).count() * 1000 + e.component % 1000;
  return out;
}

}  // namespace sb::solarlog
