#include "vendors/enphase/mapping.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/metric.hpp"

namespace sb::enphase {

const std::vector<std::string>& battery_modes() {
  static const std::vector<std::string> modes = {"Self-consumption", "Savings Mode", "Full Backup"};
  return modes;
}

Totals& Totals::operator+=(const Totals& o) {
  pv += o.pv, load += o.load, import += o.import, export_ += o.export_;
  charge += o.charge, discharge += o.discharge, ev += o.ev;
  return *this;
}

Totals& Totals::operator-=(const Totals& o) {
  pv -= o.pv, load -= o.load, import -= o.import, export_ -= o.export_;
  charge -= o.charge, discharge -= o.discharge, ev -= o.ev;
  return *this;
}

Totals sum(const Quarters& q) {
  Totals t;
  for (const auto& [end, x] : q) t += x.e;
  return t;
}

void put(Quarter& q, Series series, const Interval& i) {
  switch (series) {
    case Series::Production:
      q.e.pv = i.wh;
      break;
    case Series::Consumption:
      q.e.load = i.wh;
      break;
    case Series::Import:
      q.e.import = i.wh;
      break;
    case Series::Export:
      q.e.export_ = i.wh;
      break;
    case Series::Ev:
      q.e.ev = i.wh;
      break;
  }
}

void put(Quarters& q, const BatteryTelemetry& b) {
  for (const auto& i : b.intervals) {
    auto& x = q[i.end_at];
    x.e.charge = i.charge_wh;
    x.e.discharge = i.discharge_wh;
    x.soc = i.soc;
  }
}

void add_lifetime(std::vector<Totals>& days, LifetimeKind kind, const Lifetime& l,
                  std::size_t offset) {
  for (std::size_t i = 0; i + offset < days.size(); ++i) {
    auto& t = days[i + offset];
    switch (kind) {
      case LifetimeKind::Energy:
        if (i < l.values.size()) t.pv = l.values[i];
        break;
      case LifetimeKind::Consumption:
        if (i < l.values.size()) t.load = l.values[i];
        break;
      case LifetimeKind::Battery:
        if (i < l.charge.size()) t.charge = l.charge[i];
        if (i < l.discharge.size()) t.discharge = l.discharge[i];
        break;
      case LifetimeKind::Import:
        if (i < l.values.size()) t.import = l.values[i];
        break;
      case LifetimeKind::Export:
        if (i < l.values.size()) t.export_ = l.values[i];
        break;
    }
  }
}

Inventory inventory_of(const std::vector<Device>& devices) {
  Inventory inv;
  for (const auto& d : devices) {
    if (d.kind == "encharges" || d.kind == "acbs") ++inv.batteries;
    if (d.kind == "ev_chargers") inv.ev_serial = d.serial;
    if (d.kind == "gateways") {
      inv.gateway_serial = d.serial;
      inv.gateway_model = d.model;
      inv.gateway_firmware = d.firmware;
    }
  }
  return inv;
}

std::vector<DeviceInfo> devices_of(const ConnectionConfig& connection, const System& system,
                                   const Inventory& inventory) {
  std::vector<DeviceInfo> out;
  DeviceInfo info;
  info.id = connection.name + ":" + std::to_string(system.id);
  info.site = connection.site;
  info.connection = connection.name;
  info.vendor = "enphase";
  info.kind = "inverter";
  info.manufacturer = "Enphase";
  info.model = inventory.gateway_model.empty() ? "IQ System" : inventory.gateway_model;
  info.serial = std::to_string(system.id);
  info.firmware = inventory.gateway_firmware;
  out.push_back(info);
  if (!inventory.ev_serial.empty()) {
    DeviceInfo ev = info;
    ev.id = connection.name + ":" + inventory.ev_serial;
    ev.kind = "ev_charger";
    ev.model = "IQ EV Charger";
    ev.serial = inventory.ev_serial;
    ev.firmware.clear();
    out.push_back(ev);
  }
  return out;
}

void add_live(std::vector<Sample>& out, const DeviceInfo& device, TimePoint time,
              const LatestPower& latest, const Inventory& inventory, const Quarters& today,
              const Totals& ev_base) {
  const Name dev(device.id);
  auto add = [&](std::string_view metric, double v) { out.push_back({dev, metric, time, v}); };
  if (device.kind == "ev_charger") {
    double w = today.empty() ? 0 : today.rbegin()->second.e.ev * 4;
    add(metric::kEvPower, w);
    add(metric::kEvCharging, w > 0 ? 1 : 0);
    add(metric::kEnergyEvCharge, ev_base.ev + sum(today).ev);
    return;
  }
  double pv = latest.production_w.value_or(0), load = latest.consumption_w.value_or(0);
  double battery = latest.battery_w.value_or(0);
  add(metric::kPvPower, pv);
  add(metric::kLoadPower, load);
  add(metric::kGridPower, load - pv - battery);
  if (inventory.batteries == 0) return;
  add(metric::kBatteryPower, battery);
  for (auto i = today.rbegin(); i != today.rend(); ++i)
    if (i->second.soc) {
      add(metric::kBatterySoc, *i->second.soc);
      break;
    }
}

std::vector<Sample> interval_samples(const DeviceInfo& device, bool batteries, const Quarters& q,
                                     Totals counters, std::int64_t after) {
  std::vector<Sample> out;
  bool ev = device.kind == "ev_charger";
  const Name dev(device.id);
  for (const auto& [end, x] : q) {
    counters += x.e;
    if (end <= after) continue;
    auto t = from_ms(end * 1000);
    auto add = [&](std::string_view metric, double v) {
      out.push_back({dev, metric, t, v, Quality::Measured});
    };
    if (ev) {
      add(metric::kEvPower, x.e.ev * 4);
      add(metric::kEnergyEvCharge, counters.ev);
      continue;
    }
    add(metric::kEnergyPvYield, counters.pv);
    add(metric::kEnergyLoad, counters.load);
    add(metric::kEnergyGridImport, counters.import);
    add(metric::kEnergyGridExport, counters.export_);
    if (batteries) {
      add(metric::kEnergyBatteryCharge, counters.charge);
      add(metric::kEnergyBatteryDischarge, counters.discharge);
      if (x.soc) add(metric::kBatterySoc, *x.soc);
    }
  }
  return out;
}

Event event_of(const std::string& device, const SystemEvent& e, const std::string& name) {
  bool open = e.status == "Open";
  return {device, from_ms(e.start * 1000), open ? Severity::Warning : Severity::Info,
          "enphase.event." + std::to_string(e.type),
          "Enphase: " + name + " (" + e.serial + ")" +
              (e.end  ? ", until " + format_iso8601(from_ms(*e.end * 1000))
               : open ? ", still open"
                      : "")};
}

std::vector<CommandLimits> commands_of(const DeviceInfo& device, const Inventory* inventory) {
  std::vector<CommandLimits> c;
  // Start at a level (% of the charger's current), 0 stops.
  if (device.kind == "ev_charger") return {{CommandType::EvCharging, 0, 100, {}, 0}};
  if (inventory && inventory->batteries == 0) return c;
  c = {{CommandType::MinSoc, 10, 100, {}, 0},
       {CommandType::BatteryStrategy, 0, 0, battery_modes(), 0},
       {CommandType::ChargeFromGrid, 0, 1, {}, 0},
       {CommandType::StormGuard, 0, 1, {}, 0}};
  if (inventory && !inventory->contacts.empty())
    c.push_back({CommandType::LoadControl, 0, 0, inventory->contacts, 0});
  return c;
}

std::string clock_text(int seconds) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", seconds / 3600, seconds % 3600 / 60);
  return buf;
}

std::vector<Setting> settings_of(const BatteryConfig& battery, const StormGuard& storm,
                                 const std::vector<LoadContact>* contacts) {
  std::vector<Setting> out;
  out.push_back({CommandType::MinSoc, double(battery.reserve_soc), ""});
  out.push_back({CommandType::BatteryStrategy, std::nullopt, battery.mode});
  out.push_back({CommandType::ChargeFromGrid, battery.charge_from_grid ? 1.0 : 0.0, ""});
  out.push_back({CommandType::StormGuard, storm.enabled ? 1.0 : 0.0, ""});
  if (contacts) {
    // Each contact as the load-control command writes it, one after another.
    std::string text;
    for (const auto& c : *contacts)
      text += (text.empty() ? "" : "; ") + c.name + " mode=" + c.mode +
              " soc_low=" + std::to_string(c.soc_low) + " start=" + clock_text(c.essential_start) +
              " end=" + clock_text(c.essential_end);
    out.push_back({CommandType::LoadControl, std::nullopt, text});
  }
  return out;
}

BatteryChange battery_change_of(const Command& cmd) {
  BatteryChange change;
  if (cmd.type == CommandType::BatteryStrategy) change.mode = cmd.argument;
  if (cmd.type == CommandType::MinSoc)
    change.reserve_soc = static_cast<int>(std::lround(cmd.value));
  if (cmd.type == CommandType::ChargeFromGrid) change.charge_from_grid = cmd.value != 0;
  return change;
}

namespace {
const char* on_off(bool on) {
  return on ? "on" : "off";
}
}  // namespace

CommandOutcome battery_outcome(CommandType type, const BatteryChange& change,
                               const BatteryConfig& before, const BatteryConfig& after) {
  CommandOutcome out;
  if (type == CommandType::ChargeFromGrid) {
    out.before = before.charge_from_grid ? 1 : 0;
    out.after = after.charge_from_grid ? 1 : 0;
    out.verified = change.charge_from_grid && after.charge_from_grid == *change.charge_from_grid;
    out.detail = std::string("charge from grid ") + on_off(before.charge_from_grid) + " -> " +
                 on_off(after.charge_from_grid);
  } else if (type == CommandType::MinSoc) {
    out.before = before.reserve_soc;
    out.after = after.reserve_soc;
    out.verified = change.reserve_soc && after.reserve_soc == *change.reserve_soc;
    out.detail = "reserve SoC " + std::to_string(before.reserve_soc) + " % -> " +
                 std::to_string(after.reserve_soc) + " %";
  } else {
    out.verified = change.mode && after.mode == *change.mode;
    out.detail = "battery mode '" + before.mode + "' -> '" + after.mode + "'";
  }
  return out;
}

CommandOutcome storm_guard_outcome(bool on, const StormGuard& before, const StormGuard& after) {
  CommandOutcome out;
  out.before = before.enabled ? 1 : 0;
  out.after = after.enabled ? 1 : 0;
  out.verified = after.enabled == on;
  out.detail = std::string("storm guard ") + on_off(before.enabled) + " -> " +
               on_off(after.enabled) + (after.alert ? " (a storm alert is active)" : "");
  return out;
}

LoadContactChange load_change_of(const LoadControlSetting& s) {
  LoadContactChange change{s.contact};
  if (!s.mode.empty()) change.mode = s.mode;
  change.soc_low = s.soc_low;
  change.essential_start = s.start_s;
  change.essential_end = s.end_s;
  return change;
}

CommandOutcome load_control_outcome(const LoadContactChange& change,
                                    const std::vector<LoadContact>& after) {
  auto it = std::find_if(after.begin(), after.end(),
                         [&](const LoadContact& c) { return c.name == change.name; });
  CommandOutcome out;
  if (it == after.end()) {
    out.detail = "dry contact " + change.name + " is gone from the read-back";
    return out;
  }
  out.verified = (!change.mode || it->mode == *change.mode) &&
                 (!change.soc_low || it->soc_low == *change.soc_low) &&
                 (!change.essential_start || it->essential_start == *change.essential_start) &&
                 (!change.essential_end || it->essential_end == *change.essential_end);
  out.detail = change.name + ": mode " + it->mode + ", soc_low " + std::to_string(it->soc_low) +
               " %, essential " + clock_text(it->essential_start) + "-" +
               clock_text(it->essential_end);
  return out;
}

CommandOutcome ev_outcome(int level) {
  CommandOutcome out;
  out.after = level;
  out.detail = (level > 0 ? "charging at " + std::to_string(level) + " % requested"
                          : std::string("stop requested")) +
               "; the cloud accepted it (202). Enphase shows charging only in its 15-minute "
               "telemetry, so it cannot be read back at once";
  return out;
}

}  // namespace sb::enphase
