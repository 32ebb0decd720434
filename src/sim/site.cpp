#include "sim/site.hpp"

#include <date/tz.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace sb::sim {

namespace {

constexpr Millis kCell{1000};  // integration grid

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform [0, 1) from a seed, a stream id and an integer index: the same inputs, the same value.
double hash01(std::uint64_t seed, std::uint64_t stream, std::int64_t index) {
  auto h =
      splitmix(seed ^ splitmix(stream * 0x632be59bd9b4e019ULL ^ static_cast<std::uint64_t>(index)));
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
}

// Smooth value noise: knots every `period_s`, cosine interpolation between them.
double value_noise(std::uint64_t seed, std::uint64_t stream, double t_s, double period_s) {
  double x = t_s / period_s;
  double i = std::floor(x);
  double f = x - i;
  double a = hash01(seed, stream, static_cast<std::int64_t>(i));
  double b = hash01(seed, stream, static_cast<std::int64_t>(i) + 1);
  double w = (1 - std::cos(f * std::numbers::pi)) / 2;
  return a * (1 - w) + b * w;
}

double gauss(double x, double mu, double sigma) {
  double d = (x - mu) / sigma;
  return std::exp(-0.5 * d * d);
}

// Daily shape of a household's consumption by local hour: night base, a morning and a larger
// evening peak, a small midday bump.
double load_shape(double hour) {
  return 0.55 + 0.9 * gauss(hour, 7.3, 0.9) + 0.35 * gauss(hour, 12.5, 1.5) +
         1.3 * gauss(hour, 19.3, 1.7);
}

}  // namespace

std::vector<PvArray> pv_arrays(const SiteConfig& site) {
  std::vector<PvArray> out;
  for (const auto& s : site.strings) out.push_back({s.peak_w, s.azimuth_deg, s.tilt_deg});
  return out;
}

Counters minus(const Counters& a, const Counters& b) {
  return {a.pv_wh - b.pv_wh,
          a.grid_import_wh - b.grid_import_wh,
          a.grid_export_wh - b.grid_export_wh,
          a.battery_charge_wh - b.battery_charge_wh,
          a.battery_discharge_wh - b.battery_discharge_wh,
          a.load_wh - b.load_wh,
          a.home_from_pv_wh - b.home_from_pv_wh,
          a.home_from_battery_wh - b.home_from_battery_wh,
          a.home_from_grid_wh - b.home_from_grid_wh,
          a.charge_from_grid_wh - b.charge_from_grid_wh};
}

Counters scaled(const Counters& a, double k) {
  return {a.pv_wh * k,
          a.grid_import_wh * k,
          a.grid_export_wh * k,
          a.battery_charge_wh * k,
          a.battery_discharge_wh * k,
          a.load_wh * k,
          a.home_from_pv_wh * k,
          a.home_from_battery_wh * k,
          a.home_from_grid_wh * k,
          a.charge_from_grid_wh * k};
}

Result<void> validate(const SiteConfig& c) {
  auto bad = [](std::string m) { return fail(ErrorKind::InvalidArgument, "site: " + m); };
  if (!(c.latitude >= -90 && c.latitude <= 90)) return bad("latitude must be within -90..90");
  if (!(c.longitude >= -180 && c.longitude <= 180))
    return bad("longitude must be within -180..180");
  try {
    (void)date::locate_zone(c.timezone);
  } catch (const std::exception&) {
    return bad("unknown time zone '" + c.timezone + "'");
  }
  for (std::size_t i = 0; i < c.strings.size(); ++i) {
    const auto& s = c.strings[i];
    std::string which = "string " + std::to_string(i + 1) + ": ";
    if (!(s.peak_w > 0)) return bad(which + "peak_w must be > 0");
    if (!(s.tilt_deg >= 0 && s.tilt_deg <= 90)) return bad(which + "tilt_deg must be within 0..90");
    if (s.modules < 1 || !(s.module_vmp_v > 0))
      return bad(which + "needs modules >= 1 and module_vmp_v > 0");
  }
  const auto& b = c.battery;
  if (!(b.capacity_wh > 0)) return bad("battery capacity_wh must be > 0");
  if (!(b.max_charge_w >= 0 && b.max_discharge_w >= 0))
    return bad("battery power limits must be >= 0");
  if (!(b.charge_efficiency > 0 && b.charge_efficiency <= 1 && b.discharge_efficiency > 0 &&
        b.discharge_efficiency <= 1))
    return bad("battery efficiencies must be within (0, 1]");
  if (!(b.min_soc_percent >= 0 && b.min_soc_percent < b.max_soc_percent &&
        b.max_soc_percent <= 100))
    return bad("battery needs 0 <= min_soc_percent < max_soc_percent <= 100");
  if (!(b.initial_soc_percent >= b.min_soc_percent && b.initial_soc_percent <= b.max_soc_percent))
    return bad("battery initial_soc_percent must lie between min and max");
  if (!(c.load.annual_kwh > 0)) return bad("load annual_kwh must be > 0");
  if (!(c.cloudiness >= 0 && c.cloudiness <= 1)) return bad("cloudiness must be within 0..1");
  if (!(c.inverter_max_w > 0)) return bad("inverter_max_w must be > 0");
  return {};
}

Site::Site(SiteConfig config, TimePoint start) : config_(std::move(config)) {
  if (auto ok = validate(config_); !ok) throw std::invalid_argument(ok.error().message);
  zone_ = date::locate_zone(config_.timezone);
  now_ = start;
  counters_ = config_.initial_counters;
  // Keep the initial counters balanced: load is what the others leave.
  const auto& c = counters_;
  counters_.load_wh =
      c.pv_wh + c.grid_import_wh + c.battery_discharge_wh - c.grid_export_wh - c.battery_charge_wh;
  if (counters_.load_wh < 0) counters_.load_wh = 0;
  stored_wh_ = config_.battery.capacity_wh * config_.battery.initial_soc_percent / 100.0;
  reserve_soc_ = config_.battery.min_soc_percent;
  // Scale the daily shape so that the year adds up to annual_kwh (appliance bursts included).
  double sum = 0;
  for (int m = 0; m < 1440; ++m) sum += load_shape(m / 60.0);
  double mean_shape = sum / 1440.0;
  double target_w = config_.load.annual_kwh * 1000.0 / 8760.0;
  load_scale_ = target_w / (mean_shape + 0.07 * 1.8);  // 7 % of 5-min slots carry ~1.8 x mean
  state_.battery_temperature_c = 20;
  auto ms = to_ms(start);
  auto into = ((ms % kCell.count()) + kCell.count()) % kCell.count();
  enter_cell(from_ms(ms - into));
  refresh_state();
}

std::string Site::local_time_string(TimePoint t) const {
  auto local = zone_->to_local(std::chrono::time_point_cast<std::chrono::seconds>(t));
  return date::format("%Y-%m-%d %H:%M:%S", local);
}

double Site::local_minutes(TimePoint t) const {
  auto local = zone_->to_local(t);
  auto day = std::chrono::floor<std::chrono::days>(local);
  return std::chrono::duration<double, std::ratio<60>>(local - day).count();
}

double Site::cloud_index(TimePoint t) const {
  double ts = static_cast<double>(to_ms(t)) / 1000.0;
  // Weather fronts over hours, cumulus passing over minutes.
  double slow = value_noise(config_.seed, 1, ts, 3 * 3600.0);
  double fast = value_noise(config_.seed, 2, ts, 240.0);
  double cover = std::clamp(
      (slow - (1.0 - config_.cloudiness)) * 2.5 + (fast - 0.5) * config_.cloudiness, 0.0, 1.0);
  return 1.0 - 0.8 * cover;  // clear-sky index: 1 clear .. 0.2 overcast
}

std::vector<StringState> Site::pv_at(TimePoint t, double* ghi_out, double* poa_out) const {
  auto sun = sun_position(config_.latitude, config_.longitude, t);
  double ghi = clear_sky_ghi(sun.elevation_deg) * cloud_index(t);
  if (ghi_out) *ghi_out = ghi;
  if (poa_out) *poa_out = 0;
  std::vector<StringState> out(config_.strings.size());
  double total = 0;
  double clear = cloud_index(t);
  // Direct part shrinks faster than diffuse under clouds.
  double beam_share = 0.8 * std::clamp((clear - 0.2) / 0.8, 0.0, 1.0);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& s = config_.strings[i];
    double poa = plane_of_array(sun, ghi, beam_share, s.tilt_deg, s.azimuth_deg);
    if (i == 0 && poa_out) *poa_out = poa;
    if (poa < 2) continue;  // dark: no voltage on the string
    double cell_t = 15.0 + poa / 800.0 * 25.0;
    double p = s.peak_w * poa / 1000.0 * (1 - 0.0037 * (cell_t - 25.0)) * 0.97;
    double v = s.modules * s.module_vmp_v * (1 - 0.0035 * (cell_t - 25.0)) *
               (0.85 + 0.15 * std::min(1.0, poa / 200.0));
    out[i] = {p, v, p / v};
    total += p;
  }
  if (total > config_.inverter_max_w) {  // clipping: the inverter moves off the MPP
    double k = config_.inverter_max_w / total;
    for (auto& s : out) {
      s.power_w *= k;
      s.current_a = s.voltage_v > 0 ? s.power_w / s.voltage_v : 0;
    }
  }
  return out;
}

double Site::load_at(TimePoint t) const {
  double minutes = local_minutes(t);
  double ts = static_cast<double>(to_ms(t)) / 1000.0;
  double base = load_scale_ * load_shape(minutes / 60.0);
  double wobble = 0.85 + 0.3 * value_noise(config_.seed, 3, ts, 90.0);
  // Appliances: some 5-minute slots carry a kettle, an oven or a washing machine.
  std::int64_t slot = static_cast<std::int64_t>(std::floor(ts / 300.0));
  double appliance = 0;
  if (hash01(config_.seed, 4, slot) < 0.07) {
    double secs_in = ts - static_cast<double>(slot) * 300.0;
    double len = 60 + 240 * hash01(config_.seed, 5, slot);
    if (secs_in < len) appliance = 800 + 1700 * hash01(config_.seed, 6, slot);
  }
  return base * wobble + appliance;
}

double Site::battery_power_for(double pv, double load, SlotRule rule, const DaySegment* seg) const {
  const auto& b = config_.battery;
  double soc = stored_wh_ / b.capacity_wh * 100.0;
  double p = 0;
  if (setpoint_) {
    p = std::clamp(*setpoint_, -b.max_charge_w, b.max_discharge_w);
    if (p > 0 && soc <= b.min_soc_percent) p = 0;
    if (p < 0 && soc >= b.max_soc_percent) p = 0;
    return p;  // an external setpoint is held as given
  }
  auto mode = seg ? seg->mode : SegmentMode::SelfUse;
  double reserve = std::max(seg && seg->min_soc_percent > 0 ? seg->min_soc_percent : reserve_soc_,
                            b.min_soc_percent);
  if (mode == SegmentMode::Charge) {
    double ceiling = std::min(seg->max_soc_percent, b.max_soc_percent);
    p = soc < ceiling ? -std::min(seg->power_w, b.max_charge_w) : 0;
  } else if (mode == SegmentMode::Discharge) {
    p = soc > reserve ? std::min(seg->power_w, b.max_discharge_w) : 0;
  } else {
    double net = load - pv;
    if (net > 0) {
      bool may = soc > reserve && load >= discharge_threshold_w_ && rule != SlotRule::NoDischarge &&
                 mode != SegmentMode::NoDischarge;
      p = may ? std::min(net, b.max_discharge_w) : 0;
    } else {
      bool may =
          soc < b.max_soc_percent && rule != SlotRule::NoCharge && mode != SegmentMode::NoCharge;
      p = may ? -std::min(-net, b.max_charge_w) : 0;
    }
  }
  if (import_limit_w_) {
    // Peak shaving: charge less first, then discharge, so that import stays at the limit.
    double over = load - pv - p - *import_limit_w_;
    if (over > 0 && p < 0) {
      p = std::min(0.0, p + over);
      over = load - pv - p - *import_limit_w_;
    }
    if (over > 0 && soc > std::max(peak_shaving_soc_, b.min_soc_percent))
      p = std::min(b.max_discharge_w, p + over);
  }
  // Discharge never exports beyond the limit, even with all PV curtailed.
  if (export_limit_w_ && p > load + *export_limit_w_) p = std::max(0.0, load + *export_limit_w_);
  return p;
}

double Site::curtailed(double pv, double load, double battery) const {
  if (!export_limit_w_) return pv;
  return std::clamp(load - battery + *export_limit_w_, 0.0, pv);
}

void Site::recompute_cell() {
  cell_rule_ = slot_rule_at(cell_start_);
  cell_battery_ =
      battery_power_for(cell_pv_available_, cell_load_, cell_rule_, segment_at(cell_start_));
  cell_pv_ = curtailed(cell_pv_available_, cell_load_, cell_battery_);
}

void Site::enter_cell(TimePoint cell_start) {
  cell_start_ = cell_start;
  double ghi = 0;
  auto strings = pv_at(cell_start, &ghi);
  cell_pv_available_ = 0;
  for (const auto& s : strings) cell_pv_available_ += s.power_w;
  cell_load_ = load_at(cell_start);
  recompute_cell();
}

void Site::integrate(double seconds) {
  const auto& b = config_.battery;
  double hours = seconds / 3600.0;
  double batt = cell_battery_;
  // Clamp the battery's energy to its bounds within this slice.
  if (batt > 0) {
    double floor_wh = b.capacity_wh * b.min_soc_percent / 100.0;
    double can_out = std::max(0.0, (stored_wh_ - floor_wh) * b.discharge_efficiency);
    double want = batt * hours;
    double out = std::min(want, can_out);
    stored_wh_ -= out / b.discharge_efficiency;
    counters_.battery_discharge_wh += out;
    batt = hours > 0 ? out / hours : 0;
  } else if (batt < 0) {
    double ceil_wh = b.capacity_wh * b.max_soc_percent / 100.0;
    double can_in = std::max(0.0, (ceil_wh - stored_wh_) / b.charge_efficiency);
    double want = -batt * hours;
    double in = std::min(want, can_in);
    stored_wh_ += in * b.charge_efficiency;
    counters_.battery_charge_wh += in;
    batt = hours > 0 ? -in / hours : 0;
  }
  // A battery that hit its bound leaves more PV for the export limit to curtail.
  double pv = batt == cell_battery_ ? cell_pv_ : curtailed(cell_pv_available_, cell_load_, batt);
  double grid = cell_load_ - pv - batt;
  counters_.pv_wh += pv * hours;
  counters_.load_wh += cell_load_ * hours;
  double home_grid = std::min(cell_load_, std::max(grid, 0.0));
  double home_bat = std::min(cell_load_ - home_grid, std::max(batt, 0.0));
  counters_.home_from_grid_wh += home_grid * hours;
  counters_.home_from_battery_wh += home_bat * hours;
  counters_.home_from_pv_wh += (cell_load_ - home_grid - home_bat) * hours;
  counters_.charge_from_grid_wh += std::max(0.0, grid - cell_load_) * hours;
  if (grid > 0)
    counters_.grid_import_wh += grid * hours;
  else
    counters_.grid_export_wh += -grid * hours;
  // Battery temperature relaxes towards 20 °C plus a share of its power (time constant 30 min).
  double target = 20.0 + 8.0 * std::abs(batt) / std::max(1.0, b.max_discharge_w);
  state_.battery_temperature_c +=
      (target - state_.battery_temperature_c) * std::min(1.0, seconds / 1800.0);
}

void Site::advance_to(TimePoint t) {
  while (now_ < t) {
    TimePoint cell_end = cell_start_ + kCell;
    TimePoint until = std::min(t, cell_end);
    integrate(std::chrono::duration<double>(until - now_).count());
    now_ = until;
    if (now_ == cell_end) enter_cell(cell_end);
  }
  refresh_state();
}

void Site::refresh_state() {
  const auto& b = config_.battery;
  state_.time = now_;
  double ghi = 0;
  state_.strings = pv_at(cell_start_, &ghi);
  state_.irradiance_wm2 = ghi;
  state_.sun_elevation_deg = sun_position(config_.latitude, config_.longitude, now_).elevation_deg;
  state_.load_w = cell_load_;
  double soc = stored_wh_ / b.capacity_wh * 100.0;
  double batt = cell_battery_;
  if (batt > 0 && soc <= b.min_soc_percent + 1e-9) batt = 0;
  if (batt < 0 && soc >= b.max_soc_percent - 1e-9) batt = 0;
  double pv = batt == cell_battery_ ? cell_pv_ : curtailed(cell_pv_available_, cell_load_, batt);
  if (pv < cell_pv_available_) {  // curtailed: the strings move off their MPP alike
    double k = cell_pv_available_ > 0 ? pv / cell_pv_available_ : 0;
    for (auto& s : state_.strings) {
      s.power_w *= k;
      s.current_a *= k;
    }
  }
  state_.pv_w = pv;
  state_.battery_w = batt;
  state_.grid_w = cell_load_ - pv - batt;
  state_.soc_percent = soc;
  double cycles = counters_.battery_discharge_wh / b.capacity_wh;
  state_.soh_percent = std::max(60.0, b.initial_soh_percent - cycles * 0.004);
  double v_oc = b.nominal_voltage_v * (0.93 + 0.12 * soc / 100.0);
  double i = batt / v_oc;
  state_.battery_voltage_v = v_oc - i * 0.04;
  state_.battery_current_a = batt / state_.battery_voltage_v;
  double ts = static_cast<double>(to_ms(now_)) / 1000.0;
  state_.ac_voltage_v = 229.0 + 4.0 * value_noise(config_.seed, 7, ts, 20.0);
  state_.frequency_hz = 49.98 + 0.04 * value_noise(config_.seed, 8, ts, 15.0);
}

void Site::set_battery_setpoint(std::optional<double> watts) {
  setpoint_ = watts;
  recompute_cell();  // takes effect at once
  refresh_state();
}

void Site::set_reserve_soc(double percent) {
  reserve_soc_ = std::clamp(percent, 0.0, 100.0);
  recompute_cell();
  refresh_state();
}

void Site::set_discharge_threshold(double watts) {
  discharge_threshold_w_ = std::max(0.0, watts);
  recompute_cell();
  refresh_state();
}

void Site::set_weekly_plan(std::optional<WeeklyPlan> plan) {
  plan_ = std::move(plan);
  recompute_cell();
  refresh_state();
}

void Site::set_day_plan(std::vector<DaySegment> segments) {
  for (const auto& s : segments)
    if (s.start_minute < 0 || s.end_minute > 1440 || s.start_minute >= s.end_minute ||
        !(s.power_w >= 0))
      throw std::invalid_argument("day plan segment " + std::to_string(s.start_minute) + ".." +
                                  std::to_string(s.end_minute) + " is not within one day");
  day_plan_ = std::move(segments);
  recompute_cell();
  refresh_state();
}

const DaySegment* Site::segment_at(TimePoint t) const {
  if (day_plan_.empty()) return nullptr;
  auto minute = static_cast<int>(std::floor(local_minutes(t)));
  for (const auto& s : day_plan_)
    if (minute >= s.start_minute && minute < s.end_minute) return &s;
  return nullptr;
}

void Site::set_export_limit(std::optional<double> watts) {
  export_limit_w_ = watts ? std::optional<double>(std::max(0.0, *watts)) : std::nullopt;
  recompute_cell();
  refresh_state();
}

void Site::set_peak_shaving(std::optional<double> import_limit_w, double min_soc_percent) {
  import_limit_w_ =
      import_limit_w ? std::optional<double>(std::max(0.0, *import_limit_w)) : std::nullopt;
  peak_shaving_soc_ = std::clamp(min_soc_percent, 0.0, 100.0);
  recompute_cell();
  refresh_state();
}

SlotRule Site::slot_rule_at(TimePoint t) const {
  if (!plan_) return SlotRule::Free;
  auto local = zone_->to_local(t);
  auto day = std::chrono::floor<std::chrono::days>(local);
  // 1970-01-01 was a Thursday: day 0 is index 3 from Monday.
  auto days = day.time_since_epoch().count();
  auto weekday = ((days % 7) + 7 + 3) % 7;
  auto slot = std::chrono::duration_cast<std::chrono::minutes>(local - day).count() / 15;
  return (*plan_)[weekday][std::clamp<std::int64_t>(slot, 0, 95)];
}

double Site::usable_capacity_wh() const {
  return config_.battery.capacity_wh * state_.soh_percent / 100.0;
}

}  // namespace sb::sim
