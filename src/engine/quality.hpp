// Data-quality checks over stored values: the energy balance of a site over an hour.
//
// What comes into a site (PV yield, grid import, battery discharge) must go somewhere (load,
// grid export, battery charge). The check reads the lifetime counters of the site's devices at
// both ends of the window, sums the differences per kind, and flags the window when the two
// sides differ by more than the tolerance (conversion losses and meter resolution are real; a
// large residual means a missing device, a wrong sign, a counter that jumped).
#pragma once

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

}  // namespace sb::engine
