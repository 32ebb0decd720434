#include "engine/quality.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/metric.hpp"

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
      auto start = store.sample_at_or_before(d.id, m, window.from);
      if (!start) return fail(start.error());
      auto end = store.sample_at_or_before(d.id, m, window.to);
      if (!end) return fail(end.error());
      auto near_to = [&](const std::optional<store::SeriesPoint>& p, TimePoint t) {
        return p && t - p->time <= near;
      };
      if (!near_to(*start, window.from) || !near_to(*end, window.to)) {
        if (missing_end.empty())
          missing_end = d.id + " has no " + m + " value near " +
                        format_iso8601(near_to(*start, window.from) ? window.to : window.from);
        continue;
      }
      b.*(k.sum) += std::max(0.0, (*end)->value - (*start)->value);
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

}  // namespace sb::engine
