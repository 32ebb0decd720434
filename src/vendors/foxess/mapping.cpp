#include "vendors/foxess/mapping.hpp"

#include <charconv>
#include <map>

#include "core/metric.hpp"

namespace sb::foxess {

std::optional<TimePoint> parse_device_time(std::string_view text) {
  if (text.size() < 19) return std::nullopt;
  std::string iso(text.substr(0, 19));
  iso[10] = 'T';
  TimePoint t;
  if (!parse_iso8601(iso + "Z", t)) return std::nullopt;
  // An offset ("+1000", "-0330") after the zone name makes the local time UTC.
  auto sign = text.find_last_of("+-");
  if (text.size() > 20 && sign != std::string_view::npos && sign > 19 && text.size() - sign == 5) {
    int hh = 0, mm = 0;
    auto d = text.data() + sign + 1;
    if (std::from_chars(d, d + 2, hh).ec != std::errc() ||
        std::from_chars(d + 2, d + 4, mm).ec != std::errc())
      return std::nullopt;
    auto off = std::chrono::minutes(hh * 60 + mm);
    t -= text[sign] == '+' ? off : -off;
  }
  return t;
}

DeviceState running_state(int code) {
  switch (code) {
    case 163:  // on-grid
    case 164:  // off-grid
      return DeviceState::Running;
    case 160:  // self-test
    case 161:  // waiting
    case 162:  // checking
    case 167:  // standby
    case 168:  // upgrading
      return DeviceState::Standby;
    case 165:  // fault
    case 166:  // permanent fault
      return DeviceState::Fault;
    default:
      return DeviceState::Unknown;
  }
}

namespace {

// Variables that become canonical metrics one to one (with a factor).
struct Direct {
  std::string_view metric;
  double factor;
};

const std::map<std::string, Direct>& direct() {
  static const std::map<std::string, Direct> m = {
      {"pvPower", {metric::kPvPower, 1000}},
      {"generationPower", {metric::kAcPower, 1000}},
      {"loadsPower", {metric::kLoadPower, 1000}},
      {"SoC", {metric::kBatterySoc, 1}},
      {"SOH", {metric::kBatterySoh, 1}},
      {"batVolt", {metric::kBatteryVoltage, 1}},
      {"batCurrent", {metric::kBatteryCurrent, 1}},
      {"batTemperature", {metric::kBatteryTemperature, 1}},
      {"RFreq", {metric::kGridFrequency, 1}},
      {"gridConsumption", {metric::kEnergyGridImport, 1000}},
      {"feedin", {metric::kEnergyGridExport, 1000}},
      {"loads", {metric::kEnergyLoad, 1000}},
      {"chargeEnergyToTal", {metric::kEnergyBatteryCharge, 1000}},
      {"dischargeEnergyToTal", {metric::kEnergyBatteryDischarge, 1000}},
  };
  return m;
}

}  // namespace

std::vector<Sample> map_real_time(const std::vector<Datum>& data, const std::string& device,
                                  TimePoint time) {
  std::map<std::string, double> v;
  for (const auto& d : data) v[d.variable] = d.value;
  std::vector<Sample> out;
  const Name dev(device);
  auto add = [&](Name metric, double value) {
    out.push_back({dev, metric, time, value, Quality::Measured});
  };
  auto has = [&](const char* k) { return v.contains(k); };
  std::vector<Sample> vendor;  // after the canonical metrics
  for (const auto& [name, value] : v) {
    if (auto d = direct().find(name); d != direct().end()) {
      add(d->second.metric, value * d->second.factor);
      continue;
    }
    // pvNVolt / pvNCurrent / pvNPower
    if (name.size() > 3 && name.starts_with("pv") &&
        std::isdigit(static_cast<unsigned char>(name[2]))) {
      std::size_t i = 2;
      int n = 0;
      // At most four digits: a longer run would overflow n (no inverter has 10,000 strings).
      while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) && i < 6)
        n = n * 10 + (name[i++] - '0');
      auto rest = name.substr(i);
      if (rest == "Power") add(indexed_metric(metric::kPvStringPower, n), value * 1000);
      if (rest == "Volt") add(indexed_metric(metric::kPvStringVoltage, n), value);
      if (rest == "Current") add(indexed_metric(metric::kPvStringCurrent, n), value);
      if (rest == "Power" || rest == "Volt" || rest == "Current") continue;
    }
    // The inverter's AC phases R, S, T.
    static const std::map<std::string, std::pair<std::string_view, double>> phases = {
        {"Volt", {metric::kGridPhaseVoltage, 1}},
        {"Current", {metric::kGridPhaseCurrent, 1}},
        {"Power", {metric::kGridPhasePower, 1000}}};
    if (name.size() > 1 && (name[0] == 'R' || name[0] == 'S' || name[0] == 'T')) {
      auto p = phases.find(name.substr(1));
      if (p != phases.end()) {
        int n = name[0] == 'R' ? 1 : name[0] == 'S' ? 2 : 3;
        add(indexed_metric(p->second.first, n), value * p->second.second);
        continue;
      }
    }
    if (name == "runningState")
      add(metric::kDeviceState, double(int(value >= 0 && value <= 999 ? running_state(int(value))
                                                                      : DeviceState::Unknown)));
    vendor.push_back({device, "vendor.foxess." + name, time, value, Quality::Measured});
  }
  if (has("gridConsumptionPower") || has("feedinPower"))
    add(metric::kGridPower, (v["gridConsumptionPower"] - v["feedinPower"]) * 1000);
  if (has("batDischargePower") || has("batChargePower"))
    add(metric::kBatteryPower, (v["batDischargePower"] - v["batChargePower"]) * 1000);
  else if (has("invBatPower"))
    add(metric::kBatteryPower, v["invBatPower"] * 1000);
  // PV yield: the AC generation with the battery's round trip taken out (exact while the
  // battery charges from PV only; grid charging counts as PV here).
  if (has("generation"))
    add(metric::kEnergyPvYield,
        (v["generation"] + v["chargeEnergyToTal"] - v["dischargeEnergyToTal"]) * 1000);
  out.insert(out.end(), vendor.begin(), vendor.end());
  return out;
}

const std::vector<std::string>& history_variables() {
  static const std::vector<std::string> vars = {
      "pvPower", "loadsPower", "feedinPower", "gridConsumptionPower", "batChargePower",
      "batDischargePower", "SoC", "generationPower",
      // the lifetime counters, so that a gap's energy comes back with it
      "generation", "feedin", "gridConsumption", "loads", "chargeEnergyToTal",
      "dischargeEnergyToTal"};
  return vars;
}

std::vector<Sample> map_history(const std::vector<Series>& series, const std::string& device,
                                TimeRange range) {
  // Points of the same instant are mapped together, so derived metrics (grid, battery) pair up.
  std::map<TimePoint, std::vector<Datum>> at;
  for (const auto& s : series)
    for (const auto& p : s.points)
      if (p.time >= range.from && p.time < range.to)
        at[p.time].push_back({s.variable, s.unit, p.value});
  std::vector<Sample> out;
  for (const auto& [t, data] : at)
    for (auto& sample : map_real_time(data, device, t)) {
      sample.quality = Quality::Backfilled;
      out.push_back(std::move(sample));
    }
  return out;
}

const std::vector<std::string>& report_variables() {
  static const std::vector<std::string> vars = {"generation",        "feedin",
                                                "gridConsumption",   "loads",
                                                "chargeEnergyToTal", "dischargeEnergyToTal"};
  return vars;
}

std::vector<Sample> report_counters(const std::vector<TimePoint>& times, Energies start,
                                    const std::vector<Energies>& steps, const std::string& device,
                                    TimeRange range) {
  std::vector<Sample> out;
  const auto& vars = report_variables();
  Energies at = std::move(start);
  at.resize(vars.size());
  for (std::size_t k = 0; k < times.size(); ++k) {
    if (k > 0 && k - 1 < steps.size())
      for (std::size_t v = 0; v < vars.size() && v < steps[k - 1].size(); ++v)
        at[v] += steps[k - 1][v];
    if (times[k] < range.from || times[k] >= range.to) continue;
    std::vector<Datum> data;
    for (std::size_t v = 0; v < vars.size(); ++v) data.push_back({vars[v], "kWh", at[v]});
    for (auto& sample : map_real_time(data, device, times[k])) {
      sample.quality = Quality::Backfilled;
      out.push_back(std::move(sample));
    }
  }
  return out;
}

}  // namespace sb::foxess

namespace sb::foxess {

namespace {

void set_times(SchedulerGroup& g, int start, int end) {
  g.start_hour = start / 60;
  g.start_minute = start % 60;
  if (end >= 1440) end = 23 * 60 + 59;  // the cloud's day ends at 23:59
  g.end_hour = end / 60;
  g.end_minute = end % 60;
}

}  // namespace

Result<std::vector<SchedulerGroup>> groups_of(const TouSchedule& s, const GroupDefaults& d) {
  if (int(s.size()) > kSchedulerGroups)
    return fail(ErrorKind::InvalidArgument,
                "FoxESS schedules have at most " + std::to_string(kSchedulerGroups) + " segments");
  std::vector<SchedulerGroup> out;
  for (const auto& seg : s) {
    auto where = "FoxESS segment " + format_minutes(seg.start_minute) + "-" +
                 format_minutes(seg.end_minute) + ": ";
    SchedulerGroup g;
    g.enable = 1;
    set_times(g, seg.start_minute, seg.end_minute);
    switch (seg.mode) {
      case TouMode::SelfUse:
        g.work_mode = "SelfUse";
        break;
      case TouMode::FeedIn:
        g.work_mode = "Feedin";
        break;
      case TouMode::Backup:
        g.work_mode = "Backup";
        break;
      case TouMode::Charge:
        g.work_mode = "ForceCharge";
        break;
      case TouMode::Discharge:
        g.work_mode = "ForceDischarge";
        break;
    }
    g.min_soc_on_grid = d.min_soc_on_grid;
    if (seg.min_soc_percent && seg.mode != TouMode::Discharge)
      g.min_soc_on_grid = int(std::lround(*seg.min_soc_percent));
    if (g.min_soc_on_grid < d.limits.min_soc_on_grid_min)
      return fail(ErrorKind::InvalidArgument, where + "min-soc must be at least " +
                                                  std::to_string(d.limits.min_soc_on_grid_min) +
                                                  " %");
    // fdSoc is where a forced discharge stops; the cloud wants it >= minSocOnGrid and >= its
    // own floor in every group.
    g.fd_soc = std::max(g.min_soc_on_grid, d.limits.fd_soc_min);
    if (seg.mode == TouMode::Discharge && seg.min_soc_percent) {
      g.fd_soc = int(std::lround(*seg.min_soc_percent));
      if (g.fd_soc < d.limits.fd_soc_min)
        return fail(ErrorKind::InvalidArgument, where + "a discharge must stop at " +
                                                    std::to_string(d.limits.fd_soc_min) +
                                                    " % or above");
      g.min_soc_on_grid = std::min(g.min_soc_on_grid, g.fd_soc);
    }
    g.fd_pwr = seg.power_w.value_or(std::min(d.max_power_w, d.limits.fd_pwr_max));
    if (g.fd_pwr > d.limits.fd_pwr_max)
      return fail(ErrorKind::InvalidArgument, where + "power is above the device's " +
                                                  std::to_string(int(d.limits.fd_pwr_max)) + " W");
    g.max_soc = seg.max_soc_percent ? int(std::lround(*seg.max_soc_percent)) : 100;
    out.push_back(g);
  }
  return out;
}

std::string tou_text(const Schedule& s) {
  TouSchedule out;
  if (!s.enabled) return "off";
  for (const auto& g : s.groups) {
    if (!g.enable) continue;
    TouSegment seg;
    seg.start_minute = group_start(g);
    seg.end_minute = group_end(g);
    if (g.work_mode == "SelfUse")
      seg.mode = TouMode::SelfUse;
    else if (g.work_mode == "Feedin")
      seg.mode = TouMode::FeedIn;
    else if (g.work_mode == "Backup")
      seg.mode = TouMode::Backup;
    else if (g.work_mode == "ForceCharge")
      seg.mode = TouMode::Charge;
    else if (g.work_mode == "ForceDischarge")
      seg.mode = TouMode::Discharge;
    else
      continue;  // "Invalid": an unused slot
    if (seg.mode == TouMode::Charge || seg.mode == TouMode::Discharge) seg.power_w = g.fd_pwr;
    if (seg.mode == TouMode::Discharge)
      seg.min_soc_percent = g.fd_soc;
    else
      seg.min_soc_percent = g.min_soc_on_grid;
    if (seg.mode == TouMode::Charge || g.max_soc.value_or(100) != 100)
      seg.max_soc_percent = g.max_soc.value_or(100);
    out.push_back(seg);
  }
  std::sort(out.begin(), out.end(), [](const TouSegment& a, const TouSegment& b) {
    return a.start_minute < b.start_minute;
  });
  return format_tou_schedule(out);
}

Result<ForceCharge> force_charge_of(const std::vector<TimeWindow>& w) {
  if (w.size() > 2)
    return fail(ErrorKind::InvalidArgument, "FoxESS has two force-charge periods; " +
                                                std::to_string(w.size()) + " windows given");
  ForceCharge out{};
  for (std::size_t i = 0; i < w.size(); ++i) {
    SchedulerGroup g;
    set_times(g, w[i].start_minute, w[i].end_minute);
    out[i] = ChargeWindow{true, g.start_hour, g.start_minute, g.end_hour, g.end_minute};
  }
  return out;
}

std::vector<TimeWindow> windows_of(const ForceCharge& f) {
  std::vector<TimeWindow> out;
  for (const auto& w : f) {
    if (!w.enable) continue;
    int end = w.end_hour * 60 + w.end_minute;
    out.push_back({w.start_hour * 60 + w.start_minute, end == 23 * 60 + 59 ? 1440 : end});
  }
  std::sort(out.begin(), out.end(), [](const TimeWindow& a, const TimeWindow& b) {
    return a.start_minute < b.start_minute;
  });
  return out;
}

}  // namespace sb::foxess
