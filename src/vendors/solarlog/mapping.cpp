#include "vendors/solarlog/mapping.hpp"

#include <cctype>
#include <optional>

#include "core/metric.hpp"

namespace sb::solarlog {

Layout layout_of(const std::string& device, const std::vector<ComponentInfo>& components,
                 bool advanced) {
  Layout l;
  l.device = device;
  for (const auto& c : components) {
    if (c.type == "Battery") l.battery = true;
    if (c.type == "MppTracker") l.trackers.push_back(c.id);
    if (c.type == "EVCharger") l.ev = c.id;
    if (c.type == "Sensor" && c.subtype == "irradiance") l.irradiance = c.id;
    if (c.type == "Sensor" && c.subtype == "module") l.module = c.id;
  }
  if (advanced && l.ev) l.ev_device = device + ":ev";
  return l;
}

std::vector<DeviceInfo> devices_of(const ConnectionConfig& connection, const PlantInfo& plant,
                                   const Layout& layout,
                                   const std::vector<ComponentInfo>& components) {
  std::vector<DeviceInfo> out;
  DeviceInfo info;
  info.id = layout.device;
  info.site = connection.site;
  info.connection = connection.name;
  info.vendor = "solarlog";
  info.kind = layout.battery ? "battery" : "inverter";
  info.manufacturer = "Solar-Log";
  info.model = plant.device.empty() ? "Solar-Log" : plant.device;
  info.serial = plant.id;
  info.firmware = plant.firmware;
  out.push_back(info);
  if (!layout.ev_device.empty()) {
    DeviceInfo ev = info;
    ev.id = layout.ev_device;
    ev.kind = "ev_charger";
    ev.serial = std::to_string(layout.ev);
    for (const auto& c : components)
      if (c.id == layout.ev) ev.manufacturer = c.manufacturer, ev.model = c.model;
    out.push_back(ev);
  }
  return out;
}

std::vector<std::string> metrics_of(const DeviceInfo& device, const Layout& layout, bool advanced) {
  std::vector<std::string> out;
  auto add = [&](std::string_view m) { out.emplace_back(m); };
  if (device.id == layout.ev_device) {
    add(metric::kEvPower), add(metric::kEvCharging), add(metric::kEnergyEvCharge);
    return out;
  }
  // Basic: the plant's totals; Advanced adds what its components measure.
  for (auto m : {metric::kPvPower, metric::kLoadPower, metric::kGridPower, metric::kEnergyPvYield,
                 metric::kEnergyLoad, metric::kEnergyGridImport, metric::kEnergyGridExport})
    add(m);
  if (layout.battery)
    for (auto m : {metric::kBatteryPower, metric::kBatterySoc, metric::kEnergyBatteryCharge,
                   metric::kEnergyBatteryDischarge})
      add(m);
  if (advanced) {
    for (std::size_t n = 1; n <= layout.trackers.size(); ++n)
      for (auto m : {metric::kPvStringPower, metric::kPvStringVoltage, metric::kPvStringCurrent})
        out.push_back(indexed_metric(m, static_cast<int>(n)));
    if (layout.irradiance) add("vendor.solarlog.irradiance");
    if (layout.module) add("vendor.solarlog.module_temperature");
    for (auto m : {"vendor.solarlog.specific_yield", "vendor.solarlog.performance_ratio",
                   "vendor.solarlog.availability", "vendor.solarlog.autarky"})
      add(m);
  }
  return out;
}

std::vector<std::string> plant_channels(const Layout& layout) {
  std::vector<std::string> out = {"ProdPac",    "ConsPac",    "ImportPac",    "ExportPac",
                                  "ProdEtotal", "ConsEtotal", "ImportEtotal", "ExportEtotal"};
  if (layout.battery)
    out.insert(out.end(),
               {"ChargePac", "DischargePac", "ChargeEtotal", "DischargeEtotal", "BatSoc"});
  return out;
}

std::vector<std::string> wallbox_channels() {
  return {"ConsPac", "ConsEtotal"};
}

ComponentChannels component_channels(const Layout& layout) {
  ComponentChannels out{layout.trackers, {}};
  if (!layout.trackers.empty()) out.channels = {"Pdc", "Udc", "Idc"};
  if (!layout.ev_device.empty()) {
    out.components.push_back(layout.ev);
    auto w = wallbox_channels();
    out.channels.insert(out.channels.end(), w.begin(), w.end());
  }
  if (layout.irradiance) out.components.push_back(layout.irradiance), out.channels.push_back("Irr");
  if (layout.module) out.components.push_back(layout.module), out.channels.push_back("Tmod");
  return out;
}

void add_series(Slots& slots, const Series& series, TimePoint day_start) {
  auto key = std::to_string(series.component.value_or(0)) + "/" + series.name;
  for (std::size_t i = 0; i < series.points.size(); ++i)
    if (series.points[i])
      slots[day_start + std::chrono::minutes(5 * static_cast<int>(i + 1))][key] = *series.points[i];
}

std::vector<Sample> samples_of(const Layout& layout, const Slots& slots) {
  std::vector<Sample> out;
  const auto& dev = layout.device;
  for (const auto& [t, v] : slots) {
    auto get = [&](std::int64_t comp, const char* ch) -> std::optional<double> {
      auto it = v.find(std::to_string(comp) + "/" + ch);
      return it == v.end() ? std::nullopt : std::optional<double>(it->second);
    };
    auto add = [&](const std::string& device, std::string_view metric, std::optional<double> x) {
      if (x) out.push_back({device, metric, t, *x, Quality::Measured});
    };
    add(dev, metric::kPvPower, get(0, "ProdPac"));
    add(dev, metric::kLoadPower, get(0, "ConsPac"));
    if (auto i = get(0, "ImportPac"), e = get(0, "ExportPac"); i && e)
      add(dev, metric::kGridPower, *i - *e);
    add(dev, metric::kEnergyPvYield, get(0, "ProdEtotal"));
    add(dev, metric::kEnergyLoad, get(0, "ConsEtotal"));
    add(dev, metric::kEnergyGridImport, get(0, "ImportEtotal"));
    add(dev, metric::kEnergyGridExport, get(0, "ExportEtotal"));
    if (layout.battery) {
      if (auto c = get(0, "ChargePac"), d = get(0, "DischargePac"); c && d)
        add(dev, metric::kBatteryPower, *d - *c);
      add(dev, metric::kBatterySoc, get(0, "BatSoc"));
      add(dev, metric::kEnergyBatteryCharge, get(0, "ChargeEtotal"));
      add(dev, metric::kEnergyBatteryDischarge, get(0, "DischargeEtotal"));
    }
    for (std::size_t n = 0; n < layout.trackers.size(); ++n) {
      int k = static_cast<int>(n + 1);
      add(dev, indexed_metric(metric::kPvStringPower, k), get(layout.trackers[n], "Pdc"));
      add(dev, indexed_metric(metric::kPvStringVoltage, k), get(layout.trackers[n], "Udc"));
      add(dev, indexed_metric(metric::kPvStringCurrent, k), get(layout.trackers[n], "Idc"));
    }
    if (layout.irradiance) add(dev, "vendor.solarlog.irradiance", get(layout.irradiance, "Irr"));
    if (layout.module) add(dev, "vendor.solarlog.module_temperature", get(layout.module, "Tmod"));
    if (!layout.ev_device.empty()) {
      auto w = get(layout.ev, "ConsPac");
      add(layout.ev_device, metric::kEvPower, w);
      if (w) add(layout.ev_device, metric::kEvCharging, *w > 0 ? 1 : 0);
      add(layout.ev_device, metric::kEnergyEvCharge, get(layout.ev, "ConsEtotal"));
    }
  }
  return out;
}

void add_kpis(std::vector<Sample>& out, const Layout& layout, const Kpis& k, TimePoint time) {
  auto add = [&](const char* m, std::optional<double> v) {
    if (v) out.push_back({layout.device, m, time, *v, Quality::Measured});
  };
  add("vendor.solarlog.specific_yield", k.specific_yield);
  add("vendor.solarlog.performance_ratio", k.performance_ratio);
  add("vendor.solarlog.availability", k.availability);
  add("vendor.solarlog.autarky", k.autarky);
}

Event event_of(const Layout& layout, const PortalEvent& e) {
  std::string code;
  for (char c : e.code)
    if (std::isalnum(static_cast<unsigned char>(c))) code += static_cast<char>(std::tolower(c));
  Event ev;
  ev.device = layout.device;
  ev.time = e.start;
  ev.severity = e.severity == "error"     ? Severity::Error
                : e.severity == "warning" ? Severity::Warning
                                          : Severity::Info;
  ev.code = "solarlog.event." + (code.empty() ? std::string("unknown") : code);
  ev.message = (e.component_name.empty() ? "" : e.component_name + ": ") + e.message;
  if (e.end && *e.end > e.start)
    ev.message += " (" + format_iso8601(e.start).substr(11, 5) + " to " +
                  format_iso8601(*e.end).substr(11, 5) + " UTC)";
  return ev;
}

}  // namespace sb::solarlog
