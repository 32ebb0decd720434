// Data-quality checks over stored values: the energy balance of a site over an hour.
//
// What comes into a site (PV yield, grid import, battery discharge) must go somewhere (load,
// grid export, battery charge). The check reads the lifetime counters of the site's devices at
// both ends of the window, sums the differences per kind, and flags the window when the two
// sides differ by more than the tolerance (conversion losses and meter resolution are real; a
// large residual means a missing device, a wrong sign, a counter that jumped).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace sb::engine {

struct BalanceTolerance {
  double percent = 5;  ///< of the larger side
  double wh = 100;     ///< at least this much, whatever the flows
};

struct EnergyBalance {
  TimeRange window;
  bool checkable = false;
  std::string not_checkable;  ///< why not, when not
  double pv_wh = 0, import_wh = 0, discharge_wh = 0;
  double load_wh = 0, export_wh = 0, charge_wh = 0;
  double residual_wh = 0;  ///< in - out
  double tolerance_wh = 0;
  bool flagged = false;
  double in_wh() const { return pv_wh + import_wh + discharge_wh; }
  double out_wh() const { return load_wh + export_wh + charge_wh; }
};

/// Judges filled-in sums: sets residual, tolerance and flagged.
void judge(EnergyBalance& b, BalanceTolerance tolerance);

/// Reads the counters of `devices` (one site's) at both ends of `window` (the newest value at or
/// before each end, no older than `near`) and judges the balance. Not checkable when no device
/// counts the load or the grid, or when a counter has no value near an end. Blocking.
Result<EnergyBalance> check_energy_balance(store::Store& store,
                                           const std::vector<DeviceInfo>& devices, TimeRange window,
                                           Millis near, BalanceTolerance tolerance = {});

/// "pv 1200 + import 300 + discharge 0 = 1500 Wh in, load 900 + export 600 + charge 0 = 1500 Wh
/// out" and the verdict, for events and logs.
std::string describe(const EnergyBalance& b);

/// How much a lifetime counter of a device grew over `window`: from its newest value at or
/// before the start to its newest at or before the end, each no older than `near`. No `wh` when
/// an end has no such value (`missing_near` says which).
struct CounterDelta {
  std::optional<double> wh;
  TimePoint missing_near;
};
Result<CounterDelta> counter_delta(store::Store& store, const std::string& device,
                                   const std::string& metric, TimeRange window, Millis near);

/// A day's PV against what the site's arrays (Site::pv) give under a clear sky: low when the
/// site yielded less than `pv_low_share` of it, on a day that could have given at least 1 kWh.
/// No `actual_wh` when no device of the site counts PV or a counter has no value near an end of
/// the day. Blocking.
struct PvDay {
  TimeRange day;
  std::optional<double> actual_wh;
  double expected_wh = 0;
  bool low = false;
};
Result<PvDay> check_pv_day(store::Store& store, const Site& site,
                           const std::vector<DeviceInfo>& devices, TimeRange day, Millis near);

/// "PV lower than expected on 2026-12-06 (site home): 2.1 kWh against 11.4 kWh under a clear sky
/// (18 %, below 20 %)", for the event.
std::string describe(const PvDay& d, const Site& site);

// Plausibility: what a vendor reports is stored as measured only within what the metric can
// physically be, or what the device's rating allows where it is known. A sonnen answering
// Production_W 1e12 is not a 1 TW array; its value is not stored, and the event says why.

/// The range a value of a metric may have, and what sets it ("physical limit", "the device's
/// 4600 W rating").
struct PlausibleRange {
  double lo = 0;
  double hi = 0;
  std::string basis;
};

/// The range for `metric` on a device with `caps`: battery power from its charge and discharge
/// limits (three times, and a kW, to leave room for what a limit does not bind), PV and AC
/// power from the array's rating, the rest from physics (power within ±50 MW, SoC 0..100 %,
/// a frequency 0..100 Hz, …). Nullopt for metrics with no such limit (vendor metrics): only
/// their finiteness is checked.
std::optional<PlausibleRange> plausible_range(const Name& metric, const Capabilities& caps);

struct Implausible {
  Sample sample;
  PlausibleRange range;  ///< lo > hi for a value that is not a finite number
};

/// Moves the samples outside their range (and every non-finite one) out of `samples`.
std::vector<Implausible> take_implausible(std::vector<Sample>& samples, const Capabilities& caps);

/// "sonnen:battery reported pv.power = 1000000000000 W, outside -1000..50000000 W (physical
/// limit): not stored".
std::string describe(const std::string& device, const Implausible& bad);

}  // namespace sb::engine
