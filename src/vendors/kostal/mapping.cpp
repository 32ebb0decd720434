#include "vendors/kostal/mapping.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

#include "core/metric.hpp"
#include "net/json.hpp"

namespace sb::kostal {

namespace {

const ModuleValues* find_module(const std::vector<ModuleValues>& ms, std::string_view id) {
  for (const auto& m : ms)
    if (m.module == id) return &m;
  return nullptr;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto p = line.find(sep, start);
    out.push_back(line.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  if (!out.empty() && !out.back().empty() && out.back().back() == '\r') out.back().pop_back();
  return out;
}

}  // namespace

PdRequest poll_request(int strings, bool battery) {
  PdRequest r;
  r.push_back({"devices:local",
               {"Dc_P", "Grid_P", "HomeBat_P", "HomeGrid_P", "HomePv_P", "Home_P", "Inverter:State",
                "EM_State", "LimitEvuAbs"}});
  std::vector<std::string> ac = {"P", "Frequency"};
  for (int i = 1; i <= 3; ++i)
    for (const char* k : {"_U", "_I", "_P"}) ac.push_back("L" + std::to_string(i) + k);
  r.push_back({"devices:local:ac", ac});
  r.push_back({"devices:local:powermeter",
               {"P", "U_L1", "U_L2", "U_L3", "I_L1", "I_L2", "I_L3", "P_L1", "P_L2", "P_L3"}});
  if (battery)
    r.push_back({"devices:local:battery", {"P", "SoC", "U", "I", "Cycles", "WorkCapacity"}});
  for (int i = 1; i <= strings; ++i)
    r.push_back({"devices:local:pv" + std::to_string(i), {"P", "U", "I"}});
  std::vector<std::string> stats;
  for (const char* k : {"Yield", "EnergyHome", "EnergyHomePv", "EnergyHomeBat", "EnergyHomeGrid",
                        "EnergyChargePv", "EnergyChargeGrid", "EnergyDischarge"})
    stats.push_back(std::string("Statistic:") + k + ":Total");
  for (const char* k : {"Yield", "EnergyHome", "Autarky", "OwnConsumptionRate"})
    stats.push_back(std::string("Statistic:") + k + ":Day");
  r.push_back({"scb:statistic:EnergyFlow", stats});
  return r;
}

DeviceState inverter_state(int code) {
  switch (code) {
    case 6:   // FeedIn
    case 7:   // Throttled
    case 11:  // GridSync
    case 17:  // ESB (emergency power)
      return DeviceState::Running;
    case 0:   // Off
    case 1:   // Init
    case 2:   // IsoMeas
    case 3:   // GridCheck
    case 4:   // StartUp
    case 9:   // Update
    case 10:  // Standby
    case 12:  // GridPreCheck
    case 15:  // Shutdown
      return DeviceState::Standby;
    case 8:   // ExtSwitchOff
    case 13:  // GridSwitchOff
    case 14:  // Overheating
    case 16:  // ImproperDcVoltage
      return DeviceState::Fault;
    default:
      return DeviceState::Unknown;
  }
}

namespace {

// The indexed metrics' names, made once: a poll names its samples without building a string.
struct IndexedNames {
  std::array<Name, 3> phase_u, phase_i, phase_p, pv_p, pv_u, pv_i;
};
const IndexedNames& indexed_names() {
  static const IndexedNames n = [] {
    IndexedNames n;
    for (int i = 0; i < 3; ++i) {
      n.phase_u[i] = indexed_metric(metric::kGridPhaseVoltage, i + 1);
      n.phase_i[i] = indexed_metric(metric::kGridPhaseCurrent, i + 1);
      n.phase_p[i] = indexed_metric(metric::kGridPhasePower, i + 1);
      n.pv_p[i] = indexed_metric(metric::kPvStringPower, i + 1);
      n.pv_u[i] = indexed_metric(metric::kPvStringVoltage, i + 1);
      n.pv_i[i] = indexed_metric(metric::kPvStringCurrent, i + 1);
    }
    return n;
  }();
  return n;
}

}  // namespace

std::vector<Sample> map_process_data(const std::vector<ModuleValues>& ms, const std::string& device,
                                     TimePoint t) {
  std::vector<Sample> out;
  out.reserve(48);
  const Name dev(device);
  auto add = [&](Name metric, std::optional<double> v) {
    if (v) out.push_back({dev, metric, t, *v, Quality::Measured});
  };
  const auto& idx = indexed_names();
  if (const auto* local = find_module(ms, "devices:local")) {
    add(metric::kGridPower, local->get("Grid_P"));
    add(metric::kLoadPower, local->get("Home_P"));
    if (auto s = local->get("Inverter:State")) {
      // A code outside 0..999 is no state of ours (and past int, its cast undefined).
      auto state = *s >= 0 && *s <= 999 ? inverter_state(int(*s)) : DeviceState::Unknown;
      add(metric::kDeviceState, double(state));
      add("vendor.kostal.inverter_state", s);
    }
    add("vendor.kostal.dc_power", local->get("Dc_P"));
    add("vendor.kostal.home_from_pv_power", local->get("HomePv_P"));
    add("vendor.kostal.home_from_battery_power", local->get("HomeBat_P"));
    add("vendor.kostal.home_from_grid_power", local->get("HomeGrid_P"));
    add("vendor.kostal.em_state", local->get("EM_State"));
    add("vendor.kostal.feed_in_limit", local->get("LimitEvuAbs"));
  }
  if (const auto* ac = find_module(ms, "devices:local:ac")) {
    add(metric::kAcPower, ac->get("P"));
    add(metric::kGridFrequency, ac->get("Frequency"));
    add(metric::kAcVoltage, ac->get("L1_U"));
  }
  if (const auto* pm = find_module(ms, "devices:local:powermeter")) {
    static constexpr std::string_view u[] = {"U_L1", "U_L2", "U_L3"},
                                      c[] = {"I_L1", "I_L2", "I_L3"},
                                      p[] = {"P_L1", "P_L2", "P_L3"};
    for (int i = 0; i < 3; ++i) {
      add(idx.phase_u[i], pm->get(u[i]));
      add(idx.phase_i[i], pm->get(c[i]));
      add(idx.phase_p[i], pm->get(p[i]));
    }
  }
  if (const auto* b = find_module(ms, "devices:local:battery")) {
    add(metric::kBatteryPower, b->get("P"));  // KOSTAL: + discharging already
    add(metric::kBatterySoc, b->get("SoC"));
    add(metric::kBatteryVoltage, b->get("U"));
    add(metric::kBatteryCurrent, b->get("I"));
    add(metric::kBatteryUsableCapacity, b->get("WorkCapacity"));
    add("vendor.kostal.battery_cycles", b->get("Cycles"));
  }
  std::optional<double> pv_total;
  static constexpr std::string_view pv_modules[] = {"devices:local:pv1", "devices:local:pv2",
                                                    "devices:local:pv3"};
  for (int i = 0; i < 3; ++i) {
    const auto* pv = find_module(ms, pv_modules[i]);
    if (!pv) continue;
    auto p = pv->get("P");
    add(idx.pv_p[i], p);
    add(idx.pv_u[i], pv->get("U"));
    add(idx.pv_i[i], pv->get("I"));
    if (p) pv_total = pv_total.value_or(0) + *p;
  }
  add(metric::kPvPower, pv_total);
  if (const auto* ef = find_module(ms, "scb:statistic:EnergyFlow")) {
    auto yield = ef->get("Statistic:Yield:Total"), home = ef->get("Statistic:EnergyHome:Total"),
         home_pv = ef->get("Statistic:EnergyHomePv:Total"),
         home_bat = ef->get("Statistic:EnergyHomeBat:Total"),
         home_grid = ef->get("Statistic:EnergyHomeGrid:Total"),
         charge_pv = ef->get("Statistic:EnergyChargePv:Total"),
         charge_grid = ef->get("Statistic:EnergyChargeGrid:Total"),
         discharge = ef->get("Statistic:EnergyDischarge:Total");
    // Yield is the inverter's AC output: PV minus what charged the battery plus what the
    // battery gave. The grid counters follow from where the house's energy came from.
    if (yield && charge_pv && discharge)
      add(metric::kEnergyPvYield, *yield + *charge_pv - *discharge);
    if (home_grid && charge_grid) add(metric::kEnergyGridImport, *home_grid + *charge_grid);
    if (yield && home_pv && home_bat)
      add(metric::kEnergyGridExport, std::max(0.0, *yield - *home_pv - *home_bat));
    if (charge_pv && charge_grid) add(metric::kEnergyBatteryCharge, *charge_pv + *charge_grid);
    add(metric::kEnergyBatteryDischarge, discharge);
    add(metric::kEnergyLoad, home);
    add("vendor.kostal.yield_total", yield);
    add("vendor.kostal.yield_day", ef->get("Statistic:Yield:Day"));
    add("vendor.kostal.home_energy_day", ef->get("Statistic:EnergyHome:Day"));
    add("vendor.kostal.autarky_day", ef->get("Statistic:Autarky:Day"));
    add("vendor.kostal.own_consumption_rate_day", ef->get("Statistic:OwnConsumptionRate:Day"));
  }
  return out;
}

Result<std::vector<Sample>> parse_log_data(const std::string& text, const std::string& device,
                                           TimeRange range) {
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  std::vector<std::string> columns;
  std::vector<Sample> out;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (columns.empty()) {
      if (line.starts_with("Zeit\t")) columns = split(line, '\t');
      continue;  // header block: type, name, serial, units
    }
    auto cells = split(line, '\t');
    if (cells.size() != columns.size())
      return fail(ErrorKind::Protocol, "KOSTAL logdata line " + std::to_string(lineno) + ": " +
                                           std::to_string(cells.size()) + " cells, " +
                                           std::to_string(columns.size()) + " columns");
    std::map<std::string, double> row;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].empty()) continue;
      double v = 0;
      auto [p, ec] = std::from_chars(cells[i].data(), cells[i].data() + cells[i].size(), v);
      if (ec != std::errc() || p != cells[i].data() + cells[i].size() || !std::isfinite(v))
        return fail(ErrorKind::Protocol, "KOSTAL logdata line " + std::to_string(lineno) +
                                             ", column '" + columns[i] + "': '" + cells[i] +
                                             "' is not a number");
      row[columns[i]] = v;
    }
    if (!row.contains("Zeit"))
      return fail(ErrorKind::Protocol,
                  "KOSTAL logdata line " + std::to_string(lineno) + ": no time ('Zeit')");
    // Epoch seconds; range-checked before the cast (a huge 'Zeit' overflowed it and then ×1000).
    auto zeit = net::whole_number(row["Zeit"], 0, net::kExactInteger / 1000,
                                  "KOSTAL logdata line " + std::to_string(lineno), "Zeit");
    if (!zeit) return fail(zeit.error());
    TimePoint t = from_ms(*zeit * 1000);
    if (t < range.from || t >= range.to) continue;
    auto add = [&](std::string metric, const std::string& column, double scale = 1) {
      if (auto it = row.find(column); it != row.end())
        out.push_back({device, std::move(metric), t, it->second * scale, Quality::Backfilled});
    };
    double pv = 0;
    bool any_pv = false;
    for (int i = 1; i <= 3; ++i) {
      auto dc = "DC" + std::to_string(i);
      add(indexed_metric(metric::kPvStringPower, i), dc + " P");
      add(indexed_metric(metric::kPvStringVoltage, i), dc + " U");
      add(indexed_metric(metric::kPvStringCurrent, i), dc + " I", 0.001);  // mA
      if (auto it = row.find(dc + " P"); it != row.end()) {
        pv += it->second;
        any_pv = true;
      }
    }
    if (any_pv) out.push_back({device, std::string(metric::kPvPower), t, pv, Quality::Backfilled});
    double ac = 0;
    bool any_ac = false;
    for (int i = 1; i <= 3; ++i)
      if (auto it = row.find("AC" + std::to_string(i) + " P"); it != row.end()) {
        ac += it->second;
        any_ac = true;
      }
    if (any_ac) out.push_back({device, std::string(metric::kAcPower), t, ac, Quality::Backfilled});
    add(std::string(metric::kGridFrequency), "AC F");
    add(std::string(metric::kBatterySoc), "SOC H");
    add(std::string(metric::kBatteryVoltage), "BAT U");
    add(std::string(metric::kBatteryCurrent), "BAT I", 0.001);
    add(std::string(metric::kBatteryPower), "BAT P");
    add(std::string(metric::kGridPower), "GRID P");
    if (row.contains("HC1 P") && row.contains("HC2 P") && row.contains("HC3 P"))
      out.push_back({device, std::string(metric::kLoadPower), t,
                     row["HC1 P"] + row["HC2 P"] + row["HC3 P"], Quality::Backfilled});
  }
  if (columns.empty() && !text.empty())
    return fail(ErrorKind::Protocol, "KOSTAL logdata: no column header line ('Zeit\\t…')");
  return out;
}

}  // namespace sb::kostal
