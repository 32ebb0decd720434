#include "vendors/sonnen/mapping.hpp"

#include <algorithm>

#include "core/metric.hpp"

namespace sb::sonnen {

std::vector<Sample> map_status(const StatusV1& s, const std::string& device, TimePoint t) {
  std::vector<Sample> out;
  out.reserve(14);
  const Name dev(device);
  auto add = [&](std::string_view metric, double v) {
    out.push_back({dev, metric, t, v, Quality::Measured});
  };
  add(metric::kBatteryPower, s.Pac_total_W);
  // As reported: a SoC of 250 % is a fault the engine's plausibility check names, not 100 %.
  add(metric::kBatterySoc, s.USOC);
  add(metric::kPvPower, std::max(0.0, s.Production_W));
  add(metric::kLoadPower, std::max(0.0, s.Consumption_W));
  double grid =
      s.GridFeedIn_W ? -*s.GridFeedIn_W : s.Consumption_W - s.Production_W - s.Pac_total_W;
  add(metric::kGridPower, grid);
  add(metric::kGridFrequency, s.Fac);
  add(metric::kAcVoltage, s.Uac);
  add(metric::kBatteryVoltage, s.Ubat);
  if (s.Ubat > 1) add(metric::kBatteryCurrent, s.Pac_total_W / s.Ubat);
  add(metric::kDeviceState,
      static_cast<double>(s.IsSystemInstalled ? DeviceState::Running : DeviceState::Standby));
  add(metric::kDeviceOnline, 1);
  add("vendor.sonnen.RSOC", s.RSOC);
  add("vendor.sonnen.IsSystemInstalled", s.IsSystemInstalled);
  if (s.OperatingMode) {
    try {
      add("vendor.sonnen.OperatingMode", std::stod(*s.OperatingMode));
    } catch (const std::exception&) {
      // a mode we cannot read as a number is left out rather than guessed
    }
  }
  return out;
}

}  // namespace sb::sonnen
