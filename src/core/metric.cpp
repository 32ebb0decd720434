#include "core/metric.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace sb {

namespace {
using enum Unit;
using enum SignRule;
constexpr auto Gauge = MetricKind::Gauge;
constexpr auto Counter = MetricKind::Counter;

constexpr std::array kCatalogue = {
    MetricDef{metric::kPvPower, Watt, NonNegative, Gauge, "PV power, all strings, DC side"},
    MetricDef{metric::kPvStringPower, Watt, NonNegative, Gauge, "PV power of string n"},
    MetricDef{metric::kPvStringVoltage, Volt, NonNegative, Gauge, "PV voltage of string n"},
    MetricDef{metric::kPvStringCurrent, Ampere, NonNegative, Gauge, "PV current of string n"},
    MetricDef{metric::kAcPower, Watt, Any, Gauge,
              "inverter AC power, + delivered to the house, - drawn (charging from AC)"},
    MetricDef{metric::kAcVoltage, Volt, NonNegative, Gauge, "inverter AC voltage"},
    MetricDef{metric::kGridPower, Watt, ImportPositive, Gauge,
              "grid power at the meter, + import, - export"},
    MetricDef{metric::kGridPhaseVoltage, Volt, NonNegative, Gauge, "grid voltage of phase n"},
    MetricDef{metric::kGridPhaseCurrent, Ampere, ImportPositive, Gauge,
              "grid current of phase n, + import"},
    MetricDef{metric::kGridPhasePower, Watt, ImportPositive, Gauge,
              "grid power of phase n, + import"},
    MetricDef{metric::kGridFrequency, Hertz, NonNegative, Gauge, "grid frequency"},
    MetricDef{metric::kLoadPower, Watt, NonNegative, Gauge, "house consumption"},
    MetricDef{metric::kBatteryPower, Watt, DischargePositive, Gauge,
              "battery power, + discharging, - charging"},
    MetricDef{metric::kBatterySoc, Percent, NonNegative, Gauge, "battery state of charge"},
    MetricDef{metric::kBatterySoh, Percent, NonNegative, Gauge, "battery state of health"},
    MetricDef{metric::kBatteryVoltage, Volt, NonNegative, Gauge, "battery voltage"},
    MetricDef{metric::kBatteryCurrent, Ampere, DischargePositive, Gauge,
              "battery current, + discharging"},
    MetricDef{metric::kBatteryTemperature, Celsius, Any, Gauge, "battery temperature"},
    MetricDef{metric::kBatteryUsableCapacity, WattHour, NonNegative, Gauge,
              "usable battery capacity"},
    MetricDef{metric::kEnergyPvYield, WattHour, NonNegative, Counter, "lifetime PV yield"},
    MetricDef{metric::kEnergyGridImport, WattHour, NonNegative, Counter,
              "lifetime energy imported from the grid"},
    MetricDef{metric::kEnergyGridExport, WattHour, NonNegative, Counter,
              "lifetime energy exported to the grid"},
    MetricDef{metric::kEnergyBatteryCharge, WattHour, NonNegative, Counter,
              "lifetime energy charged into the battery"},
    MetricDef{metric::kEnergyBatteryDischarge, WattHour, NonNegative, Counter,
              "lifetime energy discharged from the battery"},
    MetricDef{metric::kEnergyLoad, WattHour, NonNegative, Counter, "lifetime house consumption"},
    MetricDef{metric::kEvPower, Watt, NonNegative, Gauge,
              "EV charger power (part of the house consumption)"},
    MetricDef{metric::kEvCharging, Boolean, NonNegative, Gauge, "1 while the EV charger charges"},
    MetricDef{metric::kEnergyEvCharge, WattHour, NonNegative, Counter,
              "lifetime energy the EV charger delivered"},
    MetricDef{metric::kDeviceState, State, Any, MetricKind::State,
              "device state: 0 unknown, 1 standby, 2 running, 3 fault, 4 offline"},
    MetricDef{metric::kDeviceOnline, Boolean, NonNegative, Gauge,
              "1 when the last poll succeeded, 0 when the device is unreachable"},
};

// Replaces every all-digit dot-separated segment by "{n}".
std::string pattern_of(std::string_view id) {
  std::string out;
  std::size_t start = 0;
  while (start <= id.size()) {
    auto dot = id.find('.', start);
    auto seg = id.substr(start, dot == std::string_view::npos ? id.npos : dot - start);
    bool numeric = !seg.empty() && seg.find_first_not_of("0123456789") == seg.npos;
    if (!out.empty()) out += '.';
    out += numeric ? std::string_view("{n}") : seg;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}
}  // namespace

int display_decimals(Unit u) {
  switch (u) {
    case Watt:
    case WattHour:
    case Boolean:
    case Unit::State:
      return 0;
    case Percent:
    case Volt:
    case Celsius:
      return 1;
    case Ampere:
    case Hertz:
    case None:
      return 2;
  }
  return 2;
}

std::string display_number(double v, Unit u) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  int places = display_decimals(u);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", places, v);
  std::string out = buf;
  // A value of no known unit (a vendor's own field) is shown without trailing zeros: a
  // mode 2 is "2", not "2.00".
  if (u == None && out.find('.') != std::string::npos) {
    out.erase(out.find_last_not_of('0') + 1);
    if (out.back() == '.') out.pop_back();
  }
  // A value that rounds to zero prints without its sign.
  if (out.front() == '-' && out.find_first_not_of("-0.") == std::string::npos) out.erase(0, 1);
  return out;
}

std::string_view unit_symbol(Unit u) {
  switch (u) {
    case Watt:
      return "W";
    case WattHour:
      return "Wh";
    case Percent:
      return "%";
    case Volt:
      return "V";
    case Ampere:
      return "A";
    case Hertz:
      return "Hz";
    case Celsius:
      return "°C";
    case Boolean:
    case Unit::State:
    case None:
      return "";
  }
  return "";
}

std::span<const MetricDef> metric_catalogue() {
  return kCatalogue;
}

namespace {

// The catalogue's row for `id` (an indexed id's "{n}" row), or null.
const MetricDef* find_row(std::string_view id) {
  for (const auto& m : kCatalogue)
    if (m.id == id) return &m;
  if (id.find_first_of("0123456789") == std::string_view::npos) return nullptr;
  std::string pat = pattern_of(id);
  for (const auto& m : kCatalogue)
    if (m.id == pat && pat.find("{n}") != std::string::npos) {
      // Indexes are 1-based.
      for (std::size_t i = 0; i < id.size(); ++i)
        if (id[i] == '0' && (i == 0 || id[i - 1] == '.') &&
            (i + 1 == id.size() || id[i + 1] == '.'))
          return nullptr;
      return &m;
    }
  return nullptr;
}

}  // namespace

std::optional<MetricDef> find_metric(std::string_view id) {
  const auto* row = find_row(id);
  return row ? std::optional<MetricDef>(*row) : std::nullopt;
}

const MetricDef* metric_def(const Name& id) {
  static std::shared_mutex mutex;
  static std::unordered_map<Name, const MetricDef*> known;
  {
    std::shared_lock lock(mutex);
    if (auto it = known.find(id); it != known.end()) return it->second;
  }
  const MetricDef* def = find_row(id);
  std::unique_lock lock(mutex);
  known.emplace(id, def);
  return def;
}

bool is_vendor_metric(std::string_view id) {
  if (!id.starts_with("vendor.")) return false;
  auto rest = id.substr(7);
  auto dot = rest.find('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < rest.size();
}

bool is_known_metric(std::string_view id) {
  return find_metric(id) || is_vendor_metric(id);
}

std::string indexed_metric(std::string_view pattern, int n) {
  std::string out(pattern);
  auto pos = out.find("{n}");
  if (pos != std::string::npos) out.replace(pos, 3, std::to_string(n));
  return out;
}

std::string_view to_string(DeviceState s) {
  switch (s) {
    case DeviceState::Unknown:
      return "unknown";
    case DeviceState::Standby:
      return "standby";
    case DeviceState::Running:
      return "running";
    case DeviceState::Fault:
      return "fault";
    case DeviceState::Offline:
      return "offline";
  }
  return "unknown";
}

}  // namespace sb
