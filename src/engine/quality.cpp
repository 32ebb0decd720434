#include "engine/quality.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/calendar.hpp"
#include "core/metric.hpp"
#include "core/solar.hpp"

namespace sb::engine {

void judge(EnergyBalance& b, BalanceTolerance tol) {
  b.residual_wh = b.in_wh() - b.out_wh();
  b.tolerance_wh = std::max(tol.wh, tol.percent / 100 * std::max(b.in_wh(), b.out_wh()));
  b.flagged = b.checkable && std::abs(b.residual_wh) > b.tolerance_wh;
}

Result<EnergyBalance> check_energy_balance(store::Store& store,
                                           const std::vector<DeviceInfo>& devices, TimeRange window,
                                           Millis near, BalanceTolerance tolerance) {
  EnergyBalance b;
  b.window = window;
  struct Kind {
    std::string_view metric;
    double EnergyBalance::*sum;
    bool required;
    bool seen = false;
  };
  Kind kinds[] = {{metric::kEnergyPvYield, &EnergyBalance::pv_wh, false},
                  {metric::kEnergyGridImport, &EnergyBalance::import_wh, true},
                  {metric::kEnergyBatteryDischarge, &EnergyBalance::discharge_wh, false},
                  {metric::kEnergyLoad, &EnergyBalance::load_wh, true},
                  {metric::kEnergyGridExport, &EnergyBalance::export_wh, true},
                  {metric::kEnergyBatteryCharge, &EnergyBalance::charge_wh, false}};
  std::string missing_end;
  for (const auto& d : devices) {
    auto stored = store.metrics(d.id);
    if (!stored) return fail(stored.error());
    for (auto& k : kinds) {
      std::string m(k.metric);
      if (std::find(stored->begin(), stored->end(), m) == stored->end()) continue;
      k.seen = true;
      auto delta = counter_delta(store, d.id, m, window, near);
      if (!delta) return fail(delta.error());
      if (!delta->wh) {
        if (missing_end.empty())
          missing_end =
              d.id + " has no " + m + " value near " + format_iso8601(delta->missing_near);
        continue;
      }
      b.*(k.sum) += *delta->wh;
    }
  }
  for (const auto& k : kinds)
    if (k.required && !k.seen) {
      b.not_checkable = "no device of the site counts " + std::string(k.metric);
      return b;
    }
  if (!missing_end.empty()) {
    b.not_checkable = missing_end;
    return b;
  }
  b.checkable = true;
  judge(b, tolerance);
  return b;
}

Result<CounterDelta> counter_delta(store::Store& store, const std::string& device,
                                   const std::string& metric, TimeRange window, Millis near) {
  auto start = store.sample_at_or_before(device, metric, window.from);
  if (!start) return fail(start.error());
  auto end = store.sample_at_or_before(device, metric, window.to);
  if (!end) return fail(end.error());
  auto near_to = [&](const std::optional<store::SeriesPoint>& p, TimePoint t) {
    return p && t - p->time <= near;
  };
  CounterDelta d;
  if (!near_to(*start, window.from))
    d.missing_near = window.from;
  else if (!near_to(*end, window.to))
    d.missing_near = window.to;
  else
    d.wh = std::max(0.0, (*end)->value - (*start)->value);
  return d;
}

Result<PvDay> check_pv_day(store::Store& store, const Site& site,
                           const std::vector<DeviceInfo>& devices, TimeRange day, Millis near) {
  PvDay out;
  out.day = day;
  out.expected_wh = clear_sky_pv_wh(site.pv, site.latitude, site.longitude, day.from, day.to);
  const std::string pv(metric::kEnergyPvYield);
  for (const auto& d : devices) {
    if (d.site != site.id) continue;
    auto stored = store.metrics(d.id);
    if (!stored) return fail(stored.error());
    if (std::find(stored->begin(), stored->end(), pv) == stored->end()) continue;
    auto delta = counter_delta(store, d.id, pv, day, near);
    if (!delta) return fail(delta.error());
    if (!delta->wh) return PvDay{day, std::nullopt, out.expected_wh, false};
    out.actual_wh = out.actual_wh.value_or(0) + *delta->wh;
  }
  out.low = out.actual_wh && out.expected_wh >= 1000 &&
            *out.actual_wh < site.pv_low_share * out.expected_wh;
  return out;
}

std::string describe(const PvDay& d, const Site& site) {
  // The day as the site's calendar names it (its midnight is 23:00 UTC the day before in Berlin).
  auto f = Calendar(site.timezone).fields(d.day.from);
  char day[16];
  std::snprintf(day, sizeof day, "%04d-%02d-%02d", f.year, f.month, f.day);
  double share = d.expected_wh > 0 ? 100 * d.actual_wh.value_or(0) / d.expected_wh : 0.0;
  char s[256];
  if (d.low)
    std::snprintf(s, sizeof s,
                  "PV lower than expected on %s (site %s): %.1f kWh against %.1f kWh under a "
                  "clear sky (%.0f %%, below %.0f %%)",
                  day, site.id.c_str(), d.actual_wh.value_or(0) / 1000, d.expected_wh / 1000, share,
                  100 * site.pv_low_share);
  else
    std::snprintf(s, sizeof s,
                  "PV on %s (site %s): %.1f kWh against %.1f kWh under a clear sky (%.0f %%)", day,
                  site.id.c_str(), d.actual_wh.value_or(0) / 1000, d.expected_wh / 1000, share);
  return s;
}

std::string describe(const EnergyBalance& b) {
  if (!b.checkable) return "not checkable: " + b.not_checkable;
  char s[320];
  std::snprintf(s, sizeof s,
                "pv %.0f + import %.0f + discharge %.0f = %.0f Wh in, load %.0f + export %.0f + "
                "charge %.0f = %.0f Wh out: %s by %.0f Wh (tolerance %.0f Wh)",
                b.pv_wh, b.import_wh, b.discharge_wh, b.in_wh(), b.load_wh, b.export_wh,
                b.charge_wh, b.out_wh(), b.flagged ? "off" : "balanced", std::abs(b.residual_wh),
                b.tolerance_wh);
  return s;
}

namespace {
constexpr double kMaxPowerW = 50e6;     // a large solar park; no site sunbridge reads is bigger
constexpr double kPowerNoiseW = 1000;   // readings a little below zero are noise, not faults
constexpr double kMaxCounterWh = 1e13;  // 10 TWh
constexpr double kMaxCapacityWh = 1e9;  // 1 GWh
constexpr double kMaxVoltage = 2000;    // PV strings reach 1500 V DC
constexpr double kMaxCurrentA = 10'000;
}  // namespace

namespace {

// A range without its basis in words: `rating_w` is the rating that sets it, < 0 for physics.
// The words are made only for a value outside it (a poll asks this of every sample).
struct Bounds {
  double lo = 0, hi = 0, rating_w = -1;
};

std::optional<Bounds> bounds(const Name& metric, const Capabilities& caps) {
  const auto* def = metric_def(metric);
  if (!def) return std::nullopt;
  // Powers the device's ratings bound: a battery's, from the range of its power setpoint.
  const auto* setpoint = caps.command(CommandType::BatteryPower);
  double charge_w = setpoint ? -setpoint->low : 0, discharge_w = setpoint ? setpoint->high : 0;
  if (metric == metric::kBatteryPower && (charge_w > 0 || discharge_w > 0))
    return Bounds{-(3 * charge_w + 1000), 3 * discharge_w + 1000, std::max(charge_w, discharge_w)};
  bool pv =
      metric == metric::kPvPower || metric == metric::kAcPower || def->id == metric::kPvStringPower;
  if (pv && caps.pv_rated_w > 0) {
    double hi = 3 * caps.pv_rated_w + 1000;
    return Bounds{metric == metric::kAcPower ? -hi : -kPowerNoiseW, hi, caps.pv_rated_w};
  }
  switch (def->unit) {
    case Unit::Watt:
      return Bounds{def->sign == SignRule::NonNegative ? -kPowerNoiseW : -kMaxPowerW, kMaxPowerW};
    case Unit::WattHour:
      return Bounds{0, def->kind == MetricKind::Counter ? kMaxCounterWh : kMaxCapacityWh};
    case Unit::Percent:
      return Bounds{0, 100};
    case Unit::Volt:
      return Bounds{-10, kMaxVoltage};
    case Unit::Ampere:
      return Bounds{-kMaxCurrentA, kMaxCurrentA};
    case Unit::Hertz:
      return Bounds{0, 100};
    case Unit::Celsius:
      return Bounds{-60, 150};
    case Unit::Boolean:
      return Bounds{0, 1};
    case Unit::State:
      return Bounds{0, static_cast<double>(DeviceState::Offline)};
    case Unit::None:
      return std::nullopt;
  }
  return std::nullopt;
}

PlausibleRange in_words(const Bounds& b) {
  if (b.rating_w < 0) return {b.lo, b.hi, "physical limit"};
  char text[64];
  std::snprintf(text, sizeof text, "three times the device's %.0f W rating", b.rating_w);
  return {b.lo, b.hi, text};
}

}  // namespace

std::optional<PlausibleRange> plausible_range(const Name& metric, const Capabilities& caps) {
  auto b = bounds(metric, caps);
  if (!b) return std::nullopt;
  return in_words(*b);
}

std::vector<Implausible> take_implausible(std::vector<Sample>& samples, const Capabilities& caps) {
  std::vector<Implausible> out;
  auto keep = std::remove_if(samples.begin(), samples.end(), [&](const Sample& s) {
    if (!std::isfinite(s.value)) {
      out.push_back({s, {1, 0, "not a finite number"}});
      return true;
    }
    auto b = bounds(s.metric, caps);
    if (!b || (s.value >= b->lo && s.value <= b->hi)) return false;
    out.push_back({s, in_words(*b)});
    return true;
  });
  samples.erase(keep, samples.end());
  return out;
}

std::string describe(const std::string& device, const Implausible& bad) {
  const auto* def = metric_def(bad.sample.metric);
  std::string unit = def ? std::string(unit_symbol(def->unit)) : "";
  auto num = [](double v) {
    char b[48];
    std::snprintf(b, sizeof b, "%.15g", v);
    return std::string(b);
  };
  std::string text = device + " reported " + bad.sample.metric + " = " + num(bad.sample.value) +
                     (unit.empty() ? "" : " " + unit);
  if (bad.range.lo > bad.range.hi)
    text += ", not a finite number";
  else
    text += ", outside " + num(bad.range.lo) + ".." + num(bad.range.hi) +
            (unit.empty() ? "" : " " + unit) + " (" + bad.range.basis + ")";
  return text + ": not stored";
}

}  // namespace sb::engine
